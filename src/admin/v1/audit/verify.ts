/**
 * `audit verify` in steps (POST /admin/v1/audit/verify, docs/AUDIT.md "Integrity"): one pass over the log, a page
 * per request, however many chains there are. Each step reads the next page of audit_log in primary-key order
 * (chain_id, seq), keyset from the cursor, and checks every record's hash and link (src/audit/chain.ts verifyChain,
 * starting each chain from its retention anchor). A chain that ends in the page has its last record compared with
 * the head its Durable Object holds, which catches a deleted or consistently rewritten tail. Then two short phases:
 * the chains that have no row at all (every key, connection and unauthenticated chain: a chain deleted whole shows
 * against its head), and the admin log (admin_audit, against the AdminLedger's head).
 *
 * The cursor carries where the page ended and the chain state the next record must link to (the previous record's
 * seq and hash), so a chain split across pages is checked exactly as in one piece (a property test compares them:
 * test/worker/admin-api/audit.test.ts). Pure reads: nothing is written, and a step can be repeated.
 */
import { z } from 'zod'
import { verifyChain, type ChainProblem } from '../../../audit/chain'
import { GENESIS_HASH, type ChainedAuditRecord } from '../../../audit/record'
import { UNAUTHENTICATED_CHAINS } from '../../../audit/unauthenticated-object'
import type { Env } from '../../../env'
import { keyObject } from '../../../keys/placement'
import { sha256Hex } from '../../../lib/crypto'
import { logError } from '../../../log'
import { adminRowToRecord, verifyAdminRecords } from '../admin-record'
import { adminLedger } from '../ledger'
import { readRecord } from './rows'

/**
 * Records per step. Measured on `npm start`'s gateway (local D1, 2-core machine under load): a step of 5 000 records
 * takes 95-230 ms of wall time, D1 included; 1 000 000 records are 200 steps, 35 s. 10 000 is the most a client may
 * ask (twice the time per request); Workers Free, with 10 ms of CPU per request, needs far smaller steps.
 */
export const VERIFY_PAGE = 5_000
export const MAX_VERIFY_PAGE = 10_000
/**
 * Chain heads asked per step: each is a Durable Object call, and a request's subrequests are limited (50 on Workers
 * Free, with the step's few D1 queries).
 */
export const MAX_HEADS_PER_STEP = 40
/** The admin log's chain id in problems (no audit chain is named so). */
export const ADMIN_CHAIN = 'admin'

/** A key's or a connection's chain (both live in a key object), or an unauthenticated one. */
export const CHAIN_ID = /^(key_[0-9a-f]{16}|con_[0-9a-f]{16}|anon-\d{1,3})$/

export type VerifyProblem =
  | ChainProblem
  | { kind: 'tail_missing'; chainId: string; lastSeq: number; headSeq: number }
  | { kind: 'tail_rewritten'; chainId: string; seq: number }

/** A place in a chain: a record's seq and hash (or an anchor's, or seq 0 and the genesis hash). */
interface Link {
  seq: number
  hash: string
}

const hash = z.string()
/** A seq as D1 holds it: a tampered row may hold text or a fraction, and the next step must start right after it. */
const storedSeq = z.union([z.number(), z.string()])
/** The chain state's seq: null stands for NaN (what verifyChain's state becomes after a seq that is no number). */
const stateSeq = z.number().nullable()
/**
 * ['log', chain, seq, stateSeq, stateHash]: after record (chain, seq) of audit_log, with the chain's state;
 * ['idle', id]: chains without rows, after id; ['admin', seq | null, stateSeq, stateHash]: the admin log.
 */
export const verifyCursorShape = z.union([
  z.tuple([z.literal('log'), z.string(), storedSeq, stateSeq, hash]),
  z.tuple([z.literal('idle'), z.string()]),
  z.tuple([z.literal('admin'), z.number().int().nullable(), stateSeq, hash]),
])
export type VerifyCursor = z.infer<typeof verifyCursorShape>

export interface VerifyStep {
  /** Audit records checked in this step. */
  records: number
  /** Chains whose last record was in this step (each chain is counted once over the pass). */
  chains: number
  /** Chains without any row, checked against their heads. */
  idleChains: number
  adminRecords: number
  headsChecked: number
  /** Chains whose object did not answer: their heads were not compared. */
  headsUnavailable: string[]
  problems: VerifyProblem[]
  next: VerifyCursor | null
}

type VerifyEnv = Pick<Env, 'DB' | 'KEY_OBJECTS' | 'ODOO_REGION' | 'UNAUTHENTICATED_AUDIT' | 'ADMIN_LEDGER'>

const HEX_HASH = /^[0-9a-f]{64}$/

/**
 * A stored hash as the cursor carries it: a tampered row may hold any text in `hash`, of any length, so anything but
 * 64 hex characters travels as `!` + its SHA-256 (see `resumeHash`).
 */
async function carried(stored: string): Promise<string> {
  return HEX_HASH.test(stored) ? stored : `!${await sha256Hex(stored)}`
}

/** The carried hash back as the stored text, when the next record's prev_hash is that text. */
async function resumeHash(carriedHash: string, nextPrevHash: string | undefined): Promise<string> {
  if (!carriedHash.startsWith('!') || nextPrevHash === undefined) return carriedHash
  return `!${await sha256Hex(nextPrevHash)}` === carriedHash ? nextPrevHash : carriedHash
}

/** Which object holds a chain's head; undefined for a chain id no object has (nothing to compare with). */
function headHolder(env: VerifyEnv, chainId: string) {
  if (/^(key|con)_[0-9a-f]{16}$/.test(chainId)) return keyObject(env, chainId)
  const anon = /^anon-(\d{1,3})$/.exec(chainId)
  if (anon && Number(anon[1]) < UNAUTHENTICATED_CHAINS) return env.UNAUTHENTICATED_AUDIT.get(env.UNAUTHENTICATED_AUDIT.idFromName(chainId))
  return undefined
}

/**
 * Compares what D1 holds with the head the chain's object (or the admin ledger) holds. The head is the last record D1
 * acknowledged, read after the page: a record written since has a higher seq than the page's last, so before
 * reporting a deleted tail the head's own record is looked up again (`hashAt`), and a head behind the page's last
 * record (D1 committed, the object not told yet) is checked against that record.
 */
async function compareHead(chainId: string, last: Link, head: Link, hashAt: (seq: number) => Promise<string | undefined>): Promise<VerifyProblem | null> {
  if (head.seq === 0) return null
  const stored = head.seq === last.seq ? last.hash : await hashAt(head.seq)
  if (stored === undefined) return head.seq > last.seq ? { kind: 'tail_missing', chainId, lastSeq: last.seq, headSeq: head.seq } : null
  return stored === head.hash ? null : { kind: 'tail_rewritten', chainId, seq: head.seq }
}

function emptyStep(next: VerifyCursor | null): VerifyStep {
  return { records: 0, chains: 0, idleChains: 0, adminRecords: 0, headsChecked: 0, headsUnavailable: [], problems: [], next }
}

async function anchorsOf(env: VerifyEnv, chains: string[]): Promise<Map<string, Link>> {
  if (chains.length === 0) return new Map()
  const { results } = await env.DB.prepare('SELECT chain_id, seq, hash FROM audit_anchors WHERE chain_id IN (SELECT value FROM json_each(?1))')
    .bind(JSON.stringify(chains))
    .all<{ chain_id: string; seq: number; hash: string }>()
  return new Map(results.map((row) => [row.chain_id, { seq: Number(row.seq), hash: String(row.hash) }]))
}

async function auditHashAt(env: VerifyEnv, chainId: string, seq: number): Promise<string | undefined> {
  const row = await env.DB.prepare('SELECT hash FROM audit_log WHERE chain_id = ?1 AND seq = ?2').bind(chainId, seq).first<{ hash: string }>()
  return row ? String(row.hash) : undefined
}

/**
 * Compares each chain's last link with its object's head (the objects asked at once), into `step`.
 * `known` holds hashes already read (this page's records, the anchor) by chain, then seq.
 */
async function checkHeads(env: VerifyEnv, step: VerifyStep, ends: { chainId: string; last: Link; known: Map<number, string> }[], requestId: string): Promise<void> {
  const checked = await Promise.all(
    ends.map(async ({ chainId, last, known }) => {
      const holder = headHolder(env, chainId)
      if (!holder) return { chainId, problem: null, available: true, asked: false }
      let head: Link
      try {
        const answer = await holder.auditHead()
        head = { seq: answer.seq, hash: answer.hash }
      } catch (error) {
        logError(error, 'audit verify head', requestId)
        return { chainId, problem: null, available: false, asked: true }
      }
      const problem = await compareHead(chainId, last, head, async (seq) => known.get(seq) ?? (await auditHashAt(env, chainId, seq)))
      return { chainId, problem, available: true, asked: true }
    }),
  )
  for (const { chainId, problem, available, asked } of checked) {
    if (!available) step.headsUnavailable.push(chainId)
    else if (asked) step.headsChecked++
    if (problem) step.problems.push(problem)
  }
}

/** One step of the pass; `key` limits it to one chain (then there are no idle or admin phases). */
export async function verifyStep(env: VerifyEnv, cursor: VerifyCursor | undefined, options: { key?: string; limit: number; requestId: string }): Promise<VerifyStep> {
  const at = cursor ?? null
  if (at === null || at[0] === 'log') {
    return logStep(env, at === null ? null : { chainId: at[1], seq: at[2], state: { seq: at[3] ?? NaN, hash: at[4] } }, options)
  }
  if (at[0] === 'idle') return idleStep(env, at[1], options.requestId)
  return adminStep(env, at[1], { seq: at[2] ?? NaN, hash: at[3] }, options)
}

/**
 * Where verifyChain leaves a chain after `records` (src/audit/chain.ts): a record at or below the expected place is
 * skipped (reported as inserted), any other becomes the place the next one must follow.
 */
function chainState(start: Link, records: ChainedAuditRecord[]): Link {
  let expected = start.seq + 1
  let previous = start.hash
  for (const record of records) {
    if (record.seq < expected) continue
    expected = record.seq + 1
    previous = record.hash
  }
  return { seq: expected - 1, hash: previous }
}

interface Segment {
  chainId: string
  records: ChainedAuditRecord[]
  ends: boolean
}

async function logStep(
  env: VerifyEnv,
  position: { chainId: string; seq: number | string; state: Link } | null,
  options: { key?: string; limit: number; requestId: string },
): Promise<VerifyStep> {
  const { key, limit } = options
  const query = key
    ? position
      ? env.DB.prepare('SELECT * FROM audit_log WHERE chain_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3').bind(key, position.seq, limit + 1)
      : env.DB.prepare('SELECT * FROM audit_log WHERE chain_id = ?1 ORDER BY seq LIMIT ?2').bind(key, limit + 1)
    : position
      ? env.DB.prepare('SELECT * FROM audit_log WHERE (chain_id, seq) > (?1, ?2) ORDER BY chain_id, seq LIMIT ?3').bind(position.chainId, position.seq, limit + 1)
      : env.DB.prepare('SELECT * FROM audit_log ORDER BY chain_id, seq LIMIT ?1').bind(limit + 1)
  const { results } = await query.all<Record<string, unknown>>()
  const more = results.length > limit
  const rows = results.slice(0, limit)
  const records = rows.map(readRecord)
  // The row after the page tells whether the page's last chain goes on.
  const nextChain = more ? String(results[limit]!.chain_id) : undefined

  const segments: Segment[] = []
  for (const record of records) {
    const current = segments[segments.length - 1]
    if (current && current.chainId === record.chainId) current.records.push(record)
    else {
      if (current) current.ends = true
      segments.push({ chainId: record.chainId, records: [record], ends: false })
    }
  }
  const lastSegment = segments[segments.length - 1]
  if (lastSegment) lastSegment.ends = lastSegment.chainId !== nextChain
  // At most MAX_HEADS_PER_STEP chains end in one step: the page stops after the one that reaches it.
  let ending = 0
  const cut = segments.findIndex((segment) => segment.ends && ++ending === MAX_HEADS_PER_STEP)
  const kept = cut >= 0 && cut < segments.length - 1 ? segments.slice(0, cut + 1) : segments
  const truncated = kept.length < segments.length

  const step = emptyStep(null)
  const anchors = await anchorsOf(env, kept.map((segment) => segment.chainId))
  const ends: { chainId: string; last: Link; known: Map<number, string> }[] = []
  let state: Link | undefined
  for (const [index, segment] of kept.entries()) {
    const anchor = anchors.get(segment.chainId) ?? { seq: 0, hash: GENESIS_HASH }
    let start = anchor
    if (index === 0 && position && position.chainId === segment.chainId && !(position.state.seq < anchor.seq)) {
      // The chain goes on from the last page (unless retention moved its anchor past that point meanwhile).
      const firstLinked = segment.records.find((record) => record.seq > position.state.seq)
      start = { seq: position.state.seq, hash: await resumeHash(position.state.hash, firstLinked?.prevHash) }
    }
    step.problems.push(...(await verifyChain(segment.chainId, start, segment.records)))
    step.records += segment.records.length
    state = chainState(start, segment.records)
    if (segment.ends) {
      step.chains++
      const last = segment.records[segment.records.length - 1]!
      const known = new Map(segment.records.map((record) => [record.seq, record.hash]))
      if (!known.has(anchor.seq)) known.set(anchor.seq, anchor.hash)
      ends.push({ chainId: segment.chainId, last: { seq: last.seq, hash: last.hash }, known })
    }
  }
  await checkHeads(env, step, ends, options.requestId)

  const lastKept = kept[kept.length - 1]
  if ((more || truncated) && lastKept && state) {
    // The position as D1 holds it (rows[] is in the order of records[]); the state as verifyChain left it.
    const lastRow = rows[records.lastIndexOf(lastKept.records[lastKept.records.length - 1]!)]!
    step.next = ['log', lastKept.chainId, lastRow.seq as number | string, Number.isFinite(state.seq) ? state.seq : null, await carried(state.hash)]
  } else if (key) {
    // A chain with no row at all (the first page was empty) is checked against its head like an idle chain.
    if (!position && records.length === 0) await checkIdle(env, step, [key], options.requestId)
  } else {
    step.next = ['idle', '']
  }
  return step
}

/** Chains without rows: their anchor (or nothing) must be where their object's head is. */
async function checkIdle(env: VerifyEnv, step: VerifyStep, chains: string[], requestId: string): Promise<void> {
  const anchors = await anchorsOf(env, chains)
  const ends = chains.map((chainId) => {
    const anchor = anchors.get(chainId) ?? { seq: 0, hash: GENESIS_HASH }
    return { chainId, last: anchor, known: new Map([[anchor.seq, anchor.hash]]) }
  })
  step.idleChains += chains.length
  await checkHeads(env, step, ends, requestId)
}

const UNAUTHENTICATED_IDS = Array.from({ length: UNAUTHENTICATED_CHAINS }, (_, index) => `('anon-${index}')`).join(', ')

async function idleStep(env: VerifyEnv, after: string, requestId: string): Promise<VerifyStep> {
  const { results } = await env.DB.prepare(
    `SELECT id FROM (SELECT id FROM api_keys UNION ALL SELECT id FROM connections UNION ALL SELECT column1 AS id FROM (VALUES ${UNAUTHENTICATED_IDS})) c
      WHERE c.id > ?1 AND NOT EXISTS (SELECT 1 FROM audit_log WHERE chain_id = c.id) ORDER BY c.id LIMIT ?2`,
  )
    .bind(after, MAX_HEADS_PER_STEP + 1)
    .all<{ id: string }>()
  const chains = results.slice(0, MAX_HEADS_PER_STEP).map((row) => String(row.id))
  const step = emptyStep(results.length > MAX_HEADS_PER_STEP ? ['idle', chains[chains.length - 1]!] : ['admin', null, 0, GENESIS_HASH])
  await checkIdle(env, step, chains, requestId)
  return step
}

async function adminStep(env: VerifyEnv, position: number | null, state: Link, options: { limit: number; requestId: string }): Promise<VerifyStep> {
  const { results } = await (position === null
    ? env.DB.prepare('SELECT * FROM admin_audit ORDER BY seq LIMIT ?1').bind(options.limit + 1)
    : env.DB.prepare('SELECT * FROM admin_audit WHERE seq > ?1 ORDER BY seq LIMIT ?2').bind(position, options.limit + 1)
  ).all<Record<string, unknown>>()
  const more = results.length > options.limit
  const records = results.slice(0, options.limit).map(adminRowToRecord)
  const start = { seq: state.seq, hash: await resumeHash(state.hash, records[0]?.prevHash) }
  const verified = await verifyAdminRecords(start, records)
  const step = emptyStep(null)
  step.adminRecords = records.length
  step.problems.push(...verified.problems.map((problem): VerifyProblem => ({ ...problem, chainId: ADMIN_CHAIN })))
  if (more) {
    step.next = ['admin', records[records.length - 1]!.seq, Number.isFinite(verified.last.seq) ? verified.last.seq : null, await carried(verified.last.hash)]
    return step
  }
  let head: Link
  try {
    head = await adminLedger(env).lastRecord()
  } catch (error) {
    logError(error, 'audit verify admin head', options.requestId)
    step.headsUnavailable.push(ADMIN_CHAIN)
    return step
  }
  const known = new Map(records.map((record) => [record.seq, record.hash]))
  const last = records.length ? { seq: records[records.length - 1]!.seq, hash: records[records.length - 1]!.hash } : state
  const problem = await compareHead(ADMIN_CHAIN, last, head, async (seq) => {
    if (known.has(seq)) return known.get(seq)
    const row = await env.DB.prepare('SELECT hash FROM admin_audit WHERE seq = ?1').bind(seq).first<{ hash: string }>()
    return row ? String(row.hash) : undefined
  })
  step.headsChecked++
  if (problem) step.problems.push(problem)
  return step
}
