/** audit_log rows (snake_case, JSON text columns) ↔ records. Shared by the Worker tests and the CLI. */
import type { AuditOutcome, AuditQuery, ChainedAuditRecord } from './record'

export type AuditRow = Record<string, unknown>

const text = (value: unknown): string | null => (value === null || value === undefined ? null : String(value))
const integer = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value))
const json = (value: unknown): unknown => (value === null || value === undefined ? null : JSON.parse(String(value)))

export function rowToRecord(row: AuditRow): ChainedAuditRecord {
  return {
    chainId: String(row.chain_id),
    seq: Number(row.seq),
    time: Number(row.time),
    requestId: String(row.request_id),
    keyId: text(row.key_id),
    keyName: text(row.key_name),
    keyPrefix: text(row.key_prefix),
    odooUser: text(row.odoo_user),
    ip: text(row.ip),
    userAgent: text(row.user_agent),
    clientInfo: text(row.client_info),
    method: text(row.method),
    tool: text(row.tool),
    model: text(row.model),
    operation: text(row.operation),
    recordIds: (json(row.record_ids) as number[] | null) ?? [],
    recordIdsTruncated: Boolean(Number(row.record_ids_truncated)),
    fields: (json(row.fields) as string[] | null) ?? [],
    domain: json(row.domain),
    // A database created before the column existed has no `query` at all: the same as a record without one.
    query: (json(row.query) as AuditQuery | null) ?? null,
    outcome: String(row.outcome) as AuditOutcome,
    code: text(row.code),
    httpStatus: Number(row.http_status),
    latencyMs: Number(row.latency_ms),
    odooLatencyMs: integer(row.odoo_latency_ms),
    responseBytes: Number(row.response_bytes),
    prevHash: String(row.prev_hash),
    hash: String(row.hash),
  }
}

/** The stable field names of `audit search --json` (docs/AUDIT.md). */
export function recordToJson(record: ChainedAuditRecord) {
  return {
    time: new Date(record.time).toISOString(),
    requestId: record.requestId,
    keyId: record.keyId,
    keyName: record.keyName,
    keyPrefix: record.keyPrefix,
    odooUser: record.odooUser,
    ip: record.ip,
    userAgent: record.userAgent,
    clientInfo: record.clientInfo,
    method: record.method,
    tool: record.tool,
    model: record.model,
    operation: record.operation,
    recordIds: record.recordIds,
    recordIdsTruncated: record.recordIdsTruncated,
    fields: record.fields,
    domain: record.domain,
    query: record.query ?? null,
    outcome: record.outcome,
    code: record.code,
    httpStatus: record.httpStatus,
    latencyMs: record.latencyMs,
    odooLatencyMs: record.odooLatencyMs,
    responseBytes: record.responseBytes,
    chainId: record.chainId,
    seq: record.seq,
  }
}
