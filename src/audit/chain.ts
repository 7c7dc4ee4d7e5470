/**
 * The hash chain of audit records, shared by the Worker (which writes it) and the CLI (`audit verify`, which
 * checks it). Each record's hash is the SHA-256 of its predecessor's hash and of its own content in a fixed,
 * canonical order; change, insert or delete one record and the chain breaks at that point.
 */
import { sha256Hex } from '../lib/crypto'
import type { AuditRecord, ChainedAuditRecord } from './record'

/** A JSON value with every object's keys in sorted order (and undefined members dropped), so key order never matters. */
function sortedJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedJson)
  if (value === null || typeof value !== 'object') return value
  const entries = Object.entries(value as Record<string, unknown>).filter(([, member]) => member !== undefined)
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, member]) => [key, sortedJson(member)]))
}

/**
 * The content that is hashed, in a fixed order. Adding a field means a new version tag, never a silent change:
 * - `v1`: the fields below, for records without `query` (all records written before it existed, and requests that are
 *   not tool calls or carry no query part), so their hashes are unchanged and old chains keep verifying;
 * - `v2`: the same fields, then `query` with its keys sorted. Removing the query of a v2 record, or adding one to a v1
 *   record, changes the tag and so the hash: it shows as altered.
 */
export function canonicalContent(chainId: string, seq: number, record: AuditRecord): string {
  const query = record.query ?? null
  return JSON.stringify([
    query === null ? 'v1' : 'v2',
    chainId,
    seq,
    record.time,
    record.requestId,
    record.keyId,
    record.keyName,
    record.keyPrefix,
    record.odooUser,
    record.ip,
    record.userAgent,
    record.clientInfo,
    record.method,
    record.tool,
    record.model,
    record.operation,
    record.recordIds,
    record.recordIdsTruncated,
    record.fields,
    record.domain ?? null,
    record.outcome,
    record.code,
    record.httpStatus,
    record.latencyMs,
    record.odooLatencyMs,
    record.responseBytes,
    ...(query === null ? [] : [sortedJson(query)]),
  ])
}

export async function chainHash(prevHash: string, chainId: string, seq: number, record: AuditRecord): Promise<string> {
  return sha256Hex(`${prevHash}\n${canonicalContent(chainId, seq, record)}`)
}

/** Links records (in seq order) onto a chain whose last hash is `prevHash`. */
export async function linkRecords(
  chainId: string,
  prevHash: string,
  entries: { seq: number; record: AuditRecord }[],
): Promise<ChainedAuditRecord[]> {
  const chained: ChainedAuditRecord[] = []
  let previous = prevHash
  for (const { seq, record } of entries) {
    const hash = await chainHash(previous, chainId, seq, record)
    chained.push({ ...record, chainId, seq, prevHash: previous, hash })
    previous = hash
  }
  return chained
}

export type ChainProblem =
  | { kind: 'altered'; chainId: string; seq: number }
  | { kind: 'missing'; chainId: string; afterSeq: number; beforeSeq: number }
  | { kind: 'inserted'; chainId: string; seq: number }
  | { kind: 'broken_link'; chainId: string; seq: number }

/**
 * Checks one chain's records, given in seq order, starting after `anchor` (the last record removed by retention,
 * or seq 0 with the genesis hash). Reports each record whose content no longer matches its hash (altered), each gap
 * in the sequence (deleted), each record that does not link to its predecessor (inserted or re-ordered).
 */
export async function verifyChain(
  chainId: string,
  anchor: { seq: number; hash: string },
  records: ChainedAuditRecord[],
): Promise<ChainProblem[]> {
  const problems: ChainProblem[] = []
  let expectedSeq = anchor.seq + 1
  let previousHash = anchor.hash
  for (const record of records) {
    const recomputed = await chainHash(record.prevHash, chainId, record.seq, record)
    if (record.seq < expectedSeq) {
      problems.push({ kind: 'inserted', chainId, seq: record.seq })
      continue
    }
    if (record.seq > expectedSeq) {
      problems.push({ kind: 'missing', chainId, afterSeq: expectedSeq - 1, beforeSeq: record.seq })
    } else if (record.prevHash !== previousHash) {
      problems.push({ kind: 'broken_link', chainId, seq: record.seq })
    }
    if (recomputed !== record.hash) problems.push({ kind: 'altered', chainId, seq: record.seq })
    expectedSeq = record.seq + 1
    previousHash = record.hash
  }
  return problems
}
