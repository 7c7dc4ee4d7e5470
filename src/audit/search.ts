/**
 * The audit search query, shared by `odoo-mcp audit search` (which inlines the parameters as SQL literals, wrangler
 * having no bound parameters) and the benchmark (which binds them). Every filter maps to an indexed column:
 * key+time (audit_by_key_time), model+time, ip+time, time, and record (audit_record_access primary key).
 */
export interface AuditFilters {
  keyId?: string
  model?: string
  record?: { model: string; id: number }
  outcome?: 'ok' | 'denied' | 'error'
  ip?: string
  since?: number
  until?: number
  limit: number
}

export type SqlParam = string | number

export function auditSearchQuery(filters: AuditFilters): { sql: string; params: SqlParam[] } {
  const params: SqlParam[] = []
  const where: string[] = []
  const add = (condition: string, ...values: SqlParam[]) => {
    where.push(condition.replace(/\?/g, () => `?${params.push(values.shift()!)}`))
  }
  let from = 'audit_log l'
  if (filters.record) {
    from = 'audit_record_access a JOIN audit_log l ON l.chain_id = a.chain_id AND l.seq = a.seq'
    add('a.model = ?', filters.record.model)
    add('a.record_id = ?', filters.record.id)
    if (filters.since !== undefined) add('a.time >= ?', filters.since)
    if (filters.until !== undefined) add('a.time < ?', filters.until)
  }
  if (filters.keyId) add('l.key_id = ?', filters.keyId)
  if (filters.model) add('l.model = ?', filters.model)
  if (filters.outcome) add('l.outcome = ?', filters.outcome)
  if (filters.ip) add('l.ip = ?', filters.ip)
  if (filters.since !== undefined) add('l.time >= ?', filters.since)
  if (filters.until !== undefined) add('l.time < ?', filters.until)
  const sql =
    `SELECT l.* FROM ${from}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ` +
    `ORDER BY l.time DESC, l.chain_id, l.seq DESC LIMIT ${Math.trunc(filters.limit)}`
  return { sql, params }
}
