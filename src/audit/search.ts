/**
 * The audit search query, shared by the admin API (`GET /admin/v1/audit/records` and `/export`, which page with
 * cursors) and the benchmark. Pure: SQL text and its bound parameters.
 *
 * Every filter maps to an index whose rows come in the page's order, so a page reads about `limit` rows however
 * many match (query plans checked in test/worker/admin-api/audit.test.ts):
 *   --key   → audit_by_key_time (key_id, time)     --ip      → audit_by_ip_time (ip, time)
 *   --model → audit_by_model_time (model, time)    --outcome → audit_by_outcome_time (outcome, time)
 *   else    → audit_by_time (time)
 * The tables are WITHOUT ROWID, so each index also holds the primary key (chain_id, seq) after its columns: the order
 * (time, chain_id, seq) comes straight from the index, and the keyset condition `(time, chain_id, seq) < (...)` is a
 * range on it (never OFFSET, which reads and skips every earlier row).
 *
 * --record reads the record's accesses by the audit_record_access primary key (model, record_id, ...) and sorts
 * those narrow rows by time before fetching the page's records: one record's accesses are few next to the log
 * (31 000 for the most read partner of a 1 000 000-record log: 18 ms), and an index in time order would add about
 * 13 % to the database (the access table is the biggest after the log itself).
 *
 * When several filters are given, the first in the list above drives the query and the others are checked on its
 * rows. D1 keeps no statistics for the planner to weigh them, and SQLite would otherwise take `outcome = 'ok'`
 * (most rows) over a key's few rows (0.8 s instead of 1 ms at 1 000 000 records); a unary `+` on a column keeps
 * SQLite from using that column's index.
 */
export interface AuditFilters {
  keyId?: string
  model?: string
  record?: { model: string; id: number }
  outcome?: 'ok' | 'denied' | 'error'
  ip?: string
  /** ms since the epoch; `since` included, `until` excluded. */
  since?: number
  until?: number
  limit: number
}

/** Where a page ends: the sort key of its last record, as D1 holds it. */
export interface AuditPosition {
  time: number | string
  chainId: string
  seq: number | string
}

export interface AuditPageOptions {
  /** `newest` (search, the default) or `oldest` first (export). */
  order?: 'newest' | 'oldest'
  /** Only records after this one, in the page's order. */
  after?: AuditPosition
}

export type SqlParam = string | number

export function auditSearchQuery(filters: AuditFilters, options: AuditPageOptions = {}): { sql: string; params: SqlParam[] } {
  const params: SqlParam[] = []
  const where: string[] = []
  const add = (condition: string, ...values: SqlParam[]) => {
    where.push(condition.replace(/\?/g, () => `?${params.push(values.shift()!)}`))
  }
  const newest = (options.order ?? 'newest') === 'newest'
  const direction = newest ? 'DESC' : 'ASC'
  const limit = Math.trunc(filters.limit)
  // The table whose index gives the order: its time, chain_id and seq are the ones compared and sorted.
  const t = filters.record ? 'a' : 'l'
  const driving = filters.record ? 'record' : filters.keyId ? 'key' : filters.ip ? 'ip' : filters.model ? 'model' : filters.outcome ? 'outcome' : 'time'
  let onLog = false
  const column = (name: string, drives: boolean) => ((onLog = true), drives ? `l.${name}` : `+l.${name}`)
  if (filters.record) {
    add('a.model = ?', filters.record.model)
    add('a.record_id = ?', filters.record.id)
  }
  if (filters.keyId) add(`${column('key_id', driving === 'key')} = ?`, filters.keyId)
  if (filters.ip) add(`${column('ip', driving === 'ip')} = ?`, filters.ip)
  if (filters.model) add(`${column('model', driving === 'model')} = ?`, filters.model)
  if (filters.outcome) add(`${column('outcome', driving === 'outcome')} = ?`, filters.outcome)
  // After a cursor the page's far end is the cursor itself: the bound it implies (it lies within since..until) is
  // left out, so SQLite takes the cursor as the index range instead of reading from the bound and skipping.
  const after = typeof options.after?.time === 'number' ? (options.after.time as number) : undefined
  if (filters.since !== undefined && (newest || after === undefined || after < filters.since)) add(`${t}.time >= ?`, filters.since)
  if (filters.until !== undefined && (!newest || after === undefined || after >= filters.until)) add(`${t}.time < ?`, filters.until)
  if (options.after) add(`(${t}.time, ${t}.chain_id, ${t}.seq) ${newest ? '<' : '>'} (?, ?, ?)`, options.after.time, options.after.chainId, options.after.seq)
  const conditions = where.length ? ` WHERE ${where.join(' AND ')}` : ''
  const order = (table: string) => `ORDER BY ${table}.time ${direction}, ${table}.chain_id ${direction}, ${table}.seq ${direction}`
  if (!filters.record) return { sql: `SELECT l.* FROM audit_log l${conditions} ${order('l')} LIMIT ${limit}`, params }
  // The page's accesses first (narrow rows, sorted), then their records; the log is joined inside only to filter.
  const filtered = onLog ? ' JOIN audit_log l ON l.chain_id = a.chain_id AND l.seq = a.seq' : ''
  const sql =
    `SELECT l.* FROM (SELECT a.chain_id, a.seq, a.time FROM audit_record_access a${filtered}${conditions} ${order('a')} LIMIT ${limit}) p ` +
    `JOIN audit_log l ON l.chain_id = p.chain_id AND l.seq = p.seq ${order('p')}`
  return { sql, params }
}
