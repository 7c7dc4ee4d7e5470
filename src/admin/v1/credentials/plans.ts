/**
 * `credentials.reseal` as a plan (admin/v1/plan.ts): one page of sealed values (credentials/sealed-values.ts), each
 * not yet sealed under the current CREDENTIALS_KEY in the current format opened with the ring and sealed again
 * under the current key. The admin log records counts, key ids and row ids, never a value.
 *
 * Each write is conditional on the value still being the one that was read: an OAuth sign-in or a CLI change may
 * replace a value between the read and the write (they do not go through the ledger), and the newer value wins.
 */
import type { Env } from '../../../env'
import { credentialsKeyRing, ringKeyIds, sealSecret } from '../../../lib/crypto'
import type { Plan } from '../plan'
import { statement, type Statement } from '../statement'
import { examine, readSealedValues, SEALED_COLUMNS, unreadableValue, type SealedPosition, type UnreadableValue } from './sealed-values'

export interface ResealInput {
  from: SealedPosition
  limit: number
}

export interface ResealResult {
  /** The current key id: everything re-sealed is now under it. */
  keyId: string
  examined: number
  resealed: number
  alreadyCurrent: number
  unreadable: UnreadableValue[]
  next: SealedPosition | null
  /** Keys and connections in use whose object should reload its copy of the value. */
  reload: string[]
}

export async function planReseal(env: Env, input: ResealInput, now: number): Promise<Plan<ResealResult>> {
  const ring = await credentialsKeyRing(env)
  const current = ringKeyIds(ring).current
  const { values, next } = await readSealedValues(env.DB, input.from, input.limit, now)
  const statements: Statement[] = []
  const unreadable: UnreadableValue[] = []
  /** Per key id the values were under ('v1' appended for the old format): counts for the admin log. */
  const from: Record<string, number> = {}
  const rows: Record<string, string[]> = {}
  const reload = new Set<string>()
  let alreadyCurrent = 0
  for (const value of values) {
    const examined = await examine(ring, value)
    if (!examined.ok) {
      unreadable.push(unreadableValue(value, examined.error))
      continue
    }
    const { opened } = examined
    if (opened.format === 'v2' && opened.keyId === current) {
      alreadyCurrent += 1
      continue
    }
    const { table, column } = SEALED_COLUMNS[value.index]!
    const was = opened.format === 'v2' ? opened.keyId : `${opened.keyId} (v1)`
    from[was] = (from[was] ?? 0) + 1
    ;(rows[`${table}.${column}`] ??= []).push(value.id)
    if (table !== 'webhook_subscriptions' && value.inUse) reload.add(value.id)
    statements.push(
      statement(
        `UPDATE ${table} SET ${column} = ?1 WHERE id = ?2 AND ${column} = ?3`,
        await sealSecret(ring, opened.plaintext, value.id),
        value.id,
        value.sealed,
      ),
    )
  }
  const result: ResealResult = { keyId: current, examined: values.length, resealed: statements.length, alreadyCurrent, unreadable, next, reload: [...reload] }
  if (statements.length === 0) return { kind: 'unchanged', result }
  return {
    kind: 'change',
    target: 'credentials',
    before: { sealed_under: from },
    after: { sealed_under: { [current]: statements.length }, rows },
    statements,
    result,
  }
}

export const credentialsPlanners = {
  'credentials.reseal': planReseal,
} as const
