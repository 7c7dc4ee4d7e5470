/**
 * Records of the admin log (D1 `admin_audit`, docs/ADMIN-API.md "Admin log"): one per change made through the admin
 * API, hash-chained like the request audit log, so a deleted, inserted or altered change shows in `audit verify`.
 * Who (the signing actor or the Cloudflare Access identity), how they authenticated, from where, what (action and
 * target), and the state before and after (never a secret: a replaced secret shows as "replaced"). Pure.
 */
import { GENESIS_HASH } from '../../audit/record'
import { sha256Hex } from '../../lib/crypto'

export { GENESIS_HASH as ADMIN_GENESIS_HASH }

/** Who made a change. `id` is `secret` / `secret:<name the CLI signed under>` or `access:<email or service token>`. */
export interface AdminActor {
  id: string
  auth: 'signature' | 'access'
}

export interface AdminChangeContext {
  actor: AdminActor
  ip: string | null
  requestId: string
}

export interface AdminRecord {
  seq: number
  time: number
  requestId: string
  actor: string
  auth: string
  ip: string | null
  action: string
  target: string
  /** JSON text, or null (nothing before a creation). */
  before: string | null
  after: string | null
  prevHash: string
  hash: string
}

/** The hashed content, in a fixed order; a new field would need a version tag (as audit/chain.ts does). */
export function adminRecordContent(record: Omit<AdminRecord, 'hash'>): string {
  return JSON.stringify([
    'admin-v1',
    record.seq,
    record.time,
    record.requestId,
    record.actor,
    record.auth,
    record.ip,
    record.action,
    record.target,
    record.before,
    record.after,
    record.prevHash,
  ])
}

export async function adminRecordHash(record: Omit<AdminRecord, 'hash'>): Promise<string> {
  return sha256Hex(adminRecordContent(record))
}

/** D1 row (snake_case) → record. */
export function adminRowToRecord(row: Record<string, unknown>): AdminRecord {
  return {
    seq: Number(row.seq),
    time: Number(row.time),
    requestId: String(row.request_id),
    actor: String(row.actor),
    auth: String(row.auth),
    ip: row.ip === null || row.ip === undefined ? null : String(row.ip),
    action: String(row.action),
    target: String(row.target),
    before: row.before === null || row.before === undefined ? null : String(row.before),
    after: row.after === null || row.after === undefined ? null : String(row.after),
    prevHash: String(row.prev_hash),
    hash: String(row.hash),
  }
}

/** The record as the API shows it: before/after parsed back to JSON. */
export function adminRecordJson(record: AdminRecord) {
  const parse = (text: string | null) => (text === null ? null : (JSON.parse(text) as unknown))
  return {
    seq: record.seq,
    time: new Date(record.time).toISOString(),
    request_id: record.requestId,
    actor: record.actor,
    auth: record.auth,
    ip: record.ip,
    action: record.action,
    target: record.target,
    before: parse(record.before),
    after: parse(record.after),
    hash: record.hash,
  }
}

export type AdminChainProblem =
  | { kind: 'altered'; seq: number }
  | { kind: 'broken_link'; seq: number }
  | { kind: 'missing'; afterSeq: number; beforeSeq: number }

/** Checks consecutive records (in seq order) against the previous one's seq and hash. */
export async function verifyAdminRecords(previous: { seq: number; hash: string }, records: AdminRecord[]): Promise<{ problems: AdminChainProblem[]; last: { seq: number; hash: string } }> {
  const problems: AdminChainProblem[] = []
  let last = previous
  for (const record of records) {
    if (record.seq !== last.seq + 1) problems.push({ kind: 'missing', afterSeq: last.seq, beforeSeq: record.seq })
    else if (record.prevHash !== last.hash) problems.push({ kind: 'broken_link', seq: record.seq })
    const { hash, ...content } = record
    if ((await adminRecordHash(content)) !== hash) problems.push({ kind: 'altered', seq: record.seq })
    last = { seq: record.seq, hash: record.hash }
  }
  return { problems, last }
}
