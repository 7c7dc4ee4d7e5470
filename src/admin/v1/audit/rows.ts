/**
 * audit_log rows as the audit endpoints read them: like src/audit/rows.ts, but a row someone tampered with in D1
 * (a JSON column that no longer parses, a time no date can hold) still comes out, so that verify reports it and
 * search and export show it, instead of one planted row making the endpoints fail for every record after it.
 */
import type { ChainedAuditRecord } from '../../../audit/record'
import { recordToJson, rowToRecord, type AuditRow } from '../../../audit/rows'

const JSON_COLUMNS = ['record_ids', 'fields', 'domain', 'query'] as const

/**
 * The record of a row; a JSON column that does not parse is taken as the string it holds, which is not the content
 * that was hashed (an array or an object): the record shows as altered.
 */
export function readRecord(row: AuditRow): ChainedAuditRecord {
  try {
    return rowToRecord(row)
  } catch {
    const readable: AuditRow = { ...row }
    for (const column of JSON_COLUMNS) {
      const value = row[column]
      if (value === null || value === undefined) continue
      try {
        JSON.parse(String(value))
      } catch {
        readable[column] = JSON.stringify(String(value))
      }
    }
    return rowToRecord(readable)
  }
}

/** The stable field names of docs/AUDIT.md; a time no date can hold is shown as the number stored. */
export function recordJson(record: ChainedAuditRecord) {
  const valid = Number.isFinite(record.time) && Math.abs(record.time) <= 8.64e15
  return valid ? recordToJson(record) : { ...recordToJson({ ...record, time: 0 }), time: String(record.time) }
}

/** An exported record: also its links in the chain, so an export can be checked on its own. */
export function exportJson(record: ChainedAuditRecord) {
  return { ...recordJson(record), prevHash: record.prevHash, hash: record.hash }
}
