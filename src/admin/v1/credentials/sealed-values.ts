/**
 * Every value sealed under the CREDENTIALS_KEY ring (lib/crypto.ts), as `credentials status` counts them and
 * `credentials reseal` moves them under the current key: one list of (table, column), read a page at a time in a
 * fixed order (column, then row id), so a cursor can say where a page ended.
 */
import { openSealed, SealedSecretError, type OpenedSecret, type SealedSecretProblem } from '../../../lib/crypto'

export interface SealedColumn {
  table: 'api_keys' | 'connections' | 'webhook_subscriptions'
  column: 'odoo_secret' | 'secret' | 'previous_secret'
  /** SQL: whether the row's value is still used (`?1` is now, in ms). */
  inUse: string
  /** What an administrator does when the value cannot be opened. */
  fix(id: string): string
}

/** In paging order; a cursor holds an index into this list, so entries are only ever appended. */
export const SEALED_COLUMNS: readonly SealedColumn[] = [
  {
    table: 'api_keys',
    column: 'odoo_secret',
    inUse: 'revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?1)',
    fix: (id) => `odoo-mcp keys set-odoo-secret ${id}`,
  },
  {
    table: 'connections',
    column: 'odoo_secret',
    inUse: 'revoked_at IS NULL AND expires_at > ?1',
    fix: (id) => `the user signs in again (or: odoo-mcp connections revoke ${id})`,
  },
  {
    table: 'webhook_subscriptions',
    column: 'secret',
    inUse: 'disabled_at IS NULL',
    fix: (id) => `odoo-mcp webhooks rotate-secret ${id}`,
  },
  {
    table: 'webhook_subscriptions',
    column: 'previous_secret',
    inUse: 'disabled_at IS NULL AND previous_until > ?1',
    fix: (id) => `odoo-mcp webhooks rotate-secret ${id}`,
  },
]

export interface SealedValue {
  /** Index into SEALED_COLUMNS. */
  index: number
  id: string
  sealed: string
  inUse: boolean
}

/** Where a page starts: after row `afterId` of column `index` ('' = its first row). */
export interface SealedPosition {
  index: number
  afterId: string
}

export const FIRST_POSITION: SealedPosition = { index: 0, afterId: '' }

/**
 * Up to `limit` sealed values from `from` on, across columns; `next` is where the following page starts (null: none).
 * A page may come out short, or empty, at the end.
 */
export async function readSealedValues(db: D1Database, from: SealedPosition, limit: number, now: number): Promise<{ values: SealedValue[]; next: SealedPosition | null }> {
  const values: SealedValue[] = []
  let { index, afterId } = from
  while (index < SEALED_COLUMNS.length) {
    const spec = SEALED_COLUMNS[index]!
    const room = limit - values.length
    const { results } = await db
      .prepare(
        `SELECT id, ${spec.column} AS sealed, CASE WHEN ${spec.inUse} THEN 1 ELSE 0 END AS in_use
           FROM ${spec.table} WHERE ${spec.column} IS NOT NULL AND id > ?2 ORDER BY id LIMIT ?3`,
      )
      .bind(now, afterId, room + 1)
      .all<{ id: string; sealed: string; in_use: number }>()
    for (const row of results.slice(0, room)) values.push({ index, id: row.id, sealed: row.sealed, inUse: row.in_use === 1 })
    if (results.length > room) return { values, next: { index, afterId: values[values.length - 1]!.id } }
    index += 1
    afterId = ''
    if (values.length === limit) break
  }
  return { values, next: index < SEALED_COLUMNS.length ? { index, afterId } : null }
}

export type Examined = { ok: true; opened: OpenedSecret } | { ok: false; error: SealedSecretError }

/** Opens one value with the ring; a value that does not open says why (never a secret). */
export async function examine(ring: CryptoKey, value: SealedValue): Promise<Examined> {
  try {
    return { ok: true, opened: await openSealed(ring, value.sealed, value.id) }
  } catch (error) {
    if (error instanceof SealedSecretError) return { ok: false, error }
    throw error
  }
}

/** A value that cannot be opened, as the admin API shows it: where it is, why, and what fixes it. */
export interface UnreadableValue {
  table: string
  column: string
  id: string
  /** The key id it names (v2), or null (v1, malformed). */
  key_id: string | null
  problem: SealedSecretProblem
  /** Still used (an active key or connection, an enabled subscription): its requests or deliveries fail. */
  in_use: boolean
  message: string
  /** What an administrator runs to replace it. */
  fix: string
  /** Sealed under a key no longer configured: it opens again once that key is back in CREDENTIALS_KEYS_PREVIOUS. */
  restorable: boolean
}

export function unreadableValue(value: SealedValue, error: SealedSecretError): UnreadableValue {
  const spec = SEALED_COLUMNS[value.index]!
  return {
    table: spec.table,
    column: spec.column,
    id: value.id,
    key_id: error.keyId,
    problem: error.problem,
    in_use: value.inUse,
    message: error.message,
    fix: spec.fix(value.id),
    restorable: error.problem === 'unknown_key_id' || error.problem === 'no_key_opens',
  }
}
