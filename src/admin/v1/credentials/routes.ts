/**
 * /admin/v1/credentials: the CREDENTIALS_KEY ring and the values sealed under it (docs/KEY-LIFECYCLE.md, "Rotating
 * CREDENTIALS_KEY"; docs/notes/admin-api-credentials.md).
 *
 *   GET  /status   every sealed value opened with the ring: counts per key id, what is left to re-seal, what cannot
 *                  be opened (table, column, row id, why, the fix)
 *   POST /reseal   one page: values not under the current key re-sealed under it, through the ledger
 */
import { Hono } from 'hono'
import { z } from 'zod'
import { credentialsKeyRing, ringKeyIds } from '../../../lib/crypto'
import { logError } from '../../../log'
import { applyNow, change } from '../change'
import { adminError, badCursor, decodeCursor, encodeCursor, parseBody, parseQuery, type AdminApiEnv, type AdminContext } from '../http'
import { examine, FIRST_POSITION, readSealedValues, SEALED_COLUMNS, unreadableValue, type SealedPosition, type UnreadableValue } from './sealed-values'

export const credentialsRoutes = new Hono<AdminApiEnv>()

/** Values read per D1 query by `status`. */
const STATUS_BATCH = 1000
/** Unreadable values listed by `status` (all are counted). */
const MAX_LISTED = 100
/**
 * Values per reseal page. A page calls the object of each re-sealed key or connection in use (one subrequest each):
 * 40 keeps a page within Workers Free's 50 subrequests per request; Workers Paid allows far more.
 */
const DEFAULT_RESEAL_PAGE = 40
const MAX_RESEAL_PAGE = 500

/** The ring of this deployment, or the 500 that names the setting at fault (never a value). */
async function ringOf(c: AdminContext): Promise<{ ok: true; ring: CryptoKey } | { ok: false; response: Response }> {
  try {
    return { ok: true, ring: await credentialsKeyRing(c.env) }
  } catch (error) {
    logError(error, 'credentials ring', c.get('requestId'))
    return { ok: false, response: adminError(c, 500, 'credentials_key_invalid', `The gateway's key ring cannot be imported: ${(error as Error).message}`) }
  }
}

interface KeyIdCount {
  key_id: string
  role: 'current' | 'previous'
  /** Values this key opens. */
  values: number
  /** Of which in the v1 format (no key id): re-sealed to name their key. */
  v1_format: number
}

credentialsRoutes.get('/status', async (c) => {
  const query = parseQuery(c, z.strictObject({}))
  if (!query.ok) return query.response
  const got = await ringOf(c)
  if (!got.ok) return got.response
  const ids = ringKeyIds(got.ring)
  const keyIds: KeyIdCount[] = [
    { key_id: ids.current, role: 'current', values: 0, v1_format: 0 },
    ...ids.previous.map((id): KeyIdCount => ({ key_id: id, role: 'previous', values: 0, v1_format: 0 })),
  ]
  const byTable = SEALED_COLUMNS.map((spec) => ({ table: spec.table, column: spec.column, values: 0, to_reseal: 0, unreadable: 0 }))
  const unreadable: UnreadableValue[] = []
  let total = 0
  let unreadableCount = 0
  let unreadableInUse = 0
  const now = Date.now()
  let position: SealedPosition | null = FIRST_POSITION
  while (position) {
    const { values, next } = await readSealedValues(c.env.DB, position, STATUS_BATCH, now)
    for (const value of values) {
      total += 1
      const table = byTable[value.index]!
      table.values += 1
      const examined = await examine(got.ring, value)
      if (!examined.ok) {
        unreadableCount += 1
        table.unreadable += 1
        if (value.inUse) unreadableInUse += 1
        if (unreadable.length < MAX_LISTED) unreadable.push(unreadableValue(value, examined.error))
        continue
      }
      const count = keyIds.find((entry) => entry.key_id === examined.opened.keyId)!
      count.values += 1
      if (examined.opened.format === 'v1') count.v1_format += 1
      if (examined.opened.format === 'v1' || examined.opened.keyId !== ids.current) table.to_reseal += 1
    }
    position = next
  }
  const toReseal = byTable.reduce((sum, table) => sum + table.to_reseal, 0)
  return c.json({
    current_key_id: ids.current,
    previous_key_ids: ids.previous,
    sealed_values: total,
    to_reseal: toReseal,
    unreadable: unreadableCount,
    unreadable_in_use: unreadableInUse,
    key_ids: keyIds,
    tables: byTable,
    unreadable_values: unreadable,
  })
})

const positionShape = z.tuple([z.number().int().min(0).max(SEALED_COLUMNS.length - 1), z.string().max(64)])

const resealBody = z.strictObject({
  cursor: z.string().max(512).optional(),
  limit: z.number().int().min(1).max(MAX_RESEAL_PAGE).default(DEFAULT_RESEAL_PAGE),
})

credentialsRoutes.post('/reseal', async (c) => {
  const body = parseBody(c, resealBody)
  if (!body.ok) return body.response
  const cursor = decodeCursor(body.value.cursor, positionShape)
  if (!cursor.ok) return badCursor(c)
  const from: SealedPosition = cursor.value ? { index: cursor.value[0], afterId: cursor.value[1] } : FIRST_POSITION
  // Checked here so a broken ring is named, rather than failing inside the ledger as "nothing was changed".
  const got = await ringOf(c)
  if (!got.ok) return got.response
  const changed = await change(c, 'credentials.reseal', { from, limit: body.value.limit })
  if (!changed.ok) return changed.response
  const { outcome } = changed
  const result = outcome.result
  // The objects of re-sealed keys and connections reload now, so none keeps a copy sealed under an old key (which
  // would stop opening once that key leaves the ring); one that cannot be reached reloads within the cache time.
  const applied = await Promise.all(result.reload.map((id) => applyNow(c, id)))
  return c.json({
    key_id: result.keyId,
    examined: result.examined,
    resealed: result.resealed,
    already_current: result.alreadyCurrent,
    unreadable: result.unreadable,
    next_cursor: result.next ? encodeCursor([result.next.index, result.next.afterId]) : null,
    applied: applied.every(Boolean),
    admin_log_seq: outcome.kind === 'changed' ? outcome.seq : null,
  })
})
