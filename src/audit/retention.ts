/**
 * Retention: the Cron Trigger deletes audit records older than AUDIT_RETENTION_DAYS (default 90), oldest first, in
 * bounded batches, so one run never holds D1 (which runs one query at a time) for long. Each chain loses a prefix
 * of its sequence, and its anchor moves to the last deleted record (seq and hash), so `audit verify` can still
 * check what remains from there.
 */
import type { Env } from '../env'

export const DEFAULT_RETENTION_DAYS = 90
/** Rows examined per batch, and batches per run: at most 50 000 records deleted per run. */
const BATCH = 1_000
const MAX_BATCHES = 50

export interface RetentionResult {
  deleted: number
  cutoff: number
  /** true when the run stopped at MAX_BATCHES with old records left (the next run continues). */
  more: boolean
}

export function retentionDays(env: Pick<Env, 'AUDIT_RETENTION_DAYS'>): number {
  const days = Number(env.AUDIT_RETENTION_DAYS || DEFAULT_RETENTION_DAYS)
  if (!Number.isInteger(days) || days < 1 || days > 36_500) throw new Error('AUDIT_RETENTION_DAYS must be a whole number of days, 1 to 36500')
  return days
}

export async function applyRetention(env: Pick<Env, 'DB' | 'AUDIT_RETENTION_DAYS'>, now = Date.now()): Promise<RetentionResult> {
  const cutoff = now - retentionDays(env) * 86_400_000
  let deleted = 0
  for (let batch = 0; batch < MAX_BATCHES; batch++) {
    // The oldest expired rows; per chain, everything up to the highest seq among them goes (a chain's prefix).
    const { results } = await env.DB.prepare(
      `SELECT chain_id, MAX(seq) AS seq FROM (SELECT chain_id, seq FROM audit_log WHERE time < ?1 ORDER BY time LIMIT ?2)
        GROUP BY chain_id`,
    )
      .bind(cutoff, BATCH)
      .all<{ chain_id: string; seq: number }>()
    if (results.length === 0) return { deleted, cutoff, more: false }
    const statements = results.flatMap(({ chain_id: chain, seq }) => [
      env.DB.prepare(
        `INSERT INTO audit_anchors (chain_id, seq, hash, time)
           SELECT chain_id, seq, hash, ?3 FROM audit_log WHERE chain_id = ?1 AND seq = ?2
         ON CONFLICT (chain_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, time = excluded.time
           WHERE excluded.seq > audit_anchors.seq`,
      ).bind(chain, seq, now),
      env.DB.prepare('DELETE FROM audit_record_access WHERE chain_id = ?1 AND seq <= ?2').bind(chain, seq),
      env.DB.prepare('DELETE FROM audit_log WHERE chain_id = ?1 AND seq <= ?2').bind(chain, seq),
    ])
    // One batch is one transaction: the anchor moves exactly when the rows go.
    const outcome = await env.DB.batch(statements)
    deleted += outcome.filter((_, index) => index % 3 === 2).reduce((sum, result) => sum + (result.meta.changes ?? 0), 0)
  }
  return { deleted, cutoff, more: true }
}
