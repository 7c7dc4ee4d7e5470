/**
 * /admin/v1/audit in the Worker: verify finds every kind of tampering wherever page boundaries fall (a property:
 * generated chains written by the real key objects, one random record tampered, the paged pass compared with a
 * reference that checks each whole chain at once); search and export return every matching record exactly once, in
 * order, page after page (a property against the log filtered in JavaScript); every filter's query uses an index
 * (EXPLAIN QUERY PLAN); bad input is a 400 with a JSON body.
 *
 * Page sizes: verify takes `limit` in its body (1 to 10 000; default 5 000), search and export `?limit=`; the tests
 * use tiny ones so chains split across pages everywhere.
 */
import { env } from 'cloudflare:workers'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { adminRowToRecord, verifyAdminRecords } from '../../../src/admin/v1/admin-record'
import { encodeAuditCursor } from '../../../src/admin/v1/audit/cursor'
import { readRecord } from '../../../src/admin/v1/audit/rows'
import { MAX_HEADS_PER_STEP } from '../../../src/admin/v1/audit/verify'
import { chainHash, linkRecords, verifyChain } from '../../../src/audit/chain'
import { GENESIS_HASH, newAuditRecord, type AuditRecord, type ChainedAuditRecord } from '../../../src/audit/record'
import { recordToJson, rowToRecord } from '../../../src/audit/rows'
import { auditSearchQuery, type AuditFilters } from '../../../src/audit/search'
import { UNAUTHENTICATED_CHAINS } from '../../../src/audit/unauthenticated-object'
import { admin } from './client'

type Problem = { kind: string; chainId: string } & Record<string, unknown>
type Link = { seq: number; hash: string }

interface VerifyAnswer {
  records: number
  chains: number
  idle_chains: number
  admin_records: number
  heads_checked: number
  heads_unavailable: string[]
  problems: Problem[]
  total_records?: number
  next_cursor: string | null
}

const BASE_TIME = Date.parse('2026-11-02T08:00:00.000Z')

function randomId(prefix: 'key' | 'con'): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8))
  return `${prefix}_${[...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('')}`
}

const keyObject = (id: string) => env.KEY_OBJECTS.get(env.KEY_OBJECTS.idFromName(id))
const ledger = () => env.ADMIN_LEDGER.get(env.ADMIN_LEDGER.idFromName('admin'))

/** The object that holds a chain's head, as the gateway places them. */
function headHolder(chainId: string) {
  if (/^(key|con)_[0-9a-f]{16}$/.test(chainId)) return keyObject(chainId)
  const anon = /^anon-(\d+)$/.exec(chainId)
  if (anon && Number(anon[1]) < UNAUTHENTICATED_CHAINS) return env.UNAUTHENTICATED_AUDIT.get(env.UNAUTHENTICATED_AUDIT.idFromName(chainId))
  return undefined
}

/** What a generated record varies: times repeat across chains (ties in the sort order), few values per filter. */
interface RecordSpec {
  t: number
  ip: string
  model: string | null
  ids: number[]
  outcome: 'ok' | 'denied' | 'error'
  withQuery: boolean
}

const recordSpec: fc.Arbitrary<RecordSpec> = fc.record({
  t: fc.integer({ min: 0, max: 15 }),
  ip: fc.constantFrom('203.0.113.9', '198.51.100.1', '2001:db8::7'),
  model: fc.constantFrom('res.partner', 'sale.order', null),
  ids: fc.uniqueArray(fc.integer({ min: 1, max: 5 }), { maxLength: 3 }),
  outcome: fc.constantFrom('ok', 'ok', 'denied', 'error'),
  withQuery: fc.boolean(),
})

function recordOf(spec: RecordSpec, keyId: string): AuditRecord {
  return newAuditRecord({
    time: BASE_TIME + spec.t * 60_000,
    requestId: crypto.randomUUID(),
    keyId,
    keyName: 'audit api test',
    keyPrefix: 'omk_audittst',
    odooUser: 'sales_agent',
    ip: spec.ip,
    userAgent: 'vitest',
    method: 'tools/call',
    tool: spec.model ? 'search_records' : 'list_models',
    model: spec.model,
    operation: spec.model ? 'search' : 'list',
    recordIds: spec.model ? spec.ids : [],
    fields: spec.model ? ['name'] : [],
    domain: spec.model ? [['name', 'ilike', 'a']] : null,
    query: spec.withQuery ? { order: 'name asc, id', limit: 10 } : null,
    outcome: spec.outcome,
    code: spec.outcome === 'ok' ? null : spec.outcome === 'denied' ? 'policy_denied' : 'odoo_unavailable',
    httpStatus: spec.outcome === 'error' ? 502 : 200,
    latencyMs: 5,
  })
}

/**
 * Writes a chain the way the gateway does (the key's object appends and flushes it to D1, and holds its head), and
 * registers the id as a key, so a chain deleted whole is still one the pass knows about.
 */
async function writeChain(id: string, specs: RecordSpec[]): Promise<void> {
  await env.DB.prepare(
    "INSERT INTO api_keys (id, name, prefix, odoo_login, odoo_secret, created_at) VALUES (?1, 'audit api test', 'omk_audittst', 'nobody', 'v1.unused', ?2)",
  )
    .bind(id, Date.now())
    .run()
  const object = keyObject(id)
  for (const spec of specs) await object.appendAudit(recordOf(spec, id))
  const flushed = await object.flushAudit()
  expect(flushed.pending).toBe(0)
}

async function rowsOf(chainId: string): Promise<Record<string, unknown>[]> {
  return (await env.DB.prepare('SELECT * FROM audit_log WHERE chain_id = ?1 ORDER BY seq').bind(chainId).all<Record<string, unknown>>()).results
}

async function insertRow(table: string, row: Record<string, unknown>): Promise<void> {
  const columns = Object.keys(row)
  await env.DB.prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((_, index) => `?${index + 1}`).join(', ')})`)
    .bind(...columns.map((column) => row[column] ?? null))
    .run()
}

/** What retention does to a chain (src/audit/retention.ts): its first `cut` records go, the anchor moves to the last. */
async function cutPrefix(chainId: string, cut: number): Promise<void> {
  if (cut === 0) return
  await env.DB.batch([
    env.DB.prepare('INSERT INTO audit_anchors (chain_id, seq, hash, time) SELECT chain_id, seq, hash, ?3 FROM audit_log WHERE chain_id = ?1 AND seq = ?2').bind(chainId, cut, Date.now()),
    env.DB.prepare('DELETE FROM audit_record_access WHERE chain_id = ?1 AND seq <= ?2').bind(chainId, cut),
    env.DB.prepare('DELETE FROM audit_log WHERE chain_id = ?1 AND seq <= ?2').bind(chainId, cut),
  ])
}

async function forgetChain(chainId: string): Promise<void> {
  await env.DB.batch([
    env.DB.prepare('DELETE FROM audit_log WHERE chain_id = ?1').bind(chainId),
    env.DB.prepare('DELETE FROM audit_record_access WHERE chain_id = ?1').bind(chainId),
    env.DB.prepare('DELETE FROM audit_anchors WHERE chain_id = ?1').bind(chainId),
    env.DB.prepare('DELETE FROM api_keys WHERE id = ?1').bind(chainId),
  ])
}

/** The whole pass, step after step, as the CLI runs it. */
async function verifyAll(options: { key?: string; limit?: number } = {}) {
  const totals = { records: 0, chains: 0, idleChains: 0, adminRecords: 0, steps: 0, headsUnavailable: [] as string[], problems: [] as Problem[] }
  let cursor: string | undefined
  do {
    const answer = await admin<VerifyAnswer>('POST', '/audit/verify', { ...options, ...(cursor ? { cursor } : {}) })
    expect(answer.status, JSON.stringify(answer.body)).toBe(200)
    totals.steps++
    totals.records += answer.body.records
    totals.chains += answer.body.chains
    totals.idleChains += answer.body.idle_chains
    totals.adminRecords += answer.body.admin_records
    totals.headsUnavailable.push(...answer.body.heads_unavailable)
    totals.problems.push(...answer.body.problems)
    cursor = answer.body.next_cursor ?? undefined
    expect(totals.steps).toBeLessThan(5_000)
  } while (cursor)
  return totals
}

/** The object's head against D1, with nothing written meanwhile: the definition `compareHead` must agree with. */
function headProblem(chainId: string, records: { seq: number; hash: string }[], anchor: Link, head: Link): Problem[] {
  if (head.seq === 0) return []
  const last = records.at(-1) ?? anchor
  const stored = records.find((record) => record.seq === head.seq)?.hash ?? (anchor.seq === head.seq ? anchor.hash : undefined)
  if (stored === undefined) return head.seq > last.seq ? [{ kind: 'tail_missing', chainId, lastSeq: last.seq, headSeq: head.seq }] : []
  return stored === head.hash ? [] : [{ kind: 'tail_rewritten', chainId, seq: head.seq }]
}

/**
 * The reference: every chain D1 knows (rows, keys, connections, the unauthenticated ones) checked whole with
 * verifyChain from its anchor, then against its object's head; the admin log whole against the ledger's head.
 */
async function reference(only?: string) {
  const rows = only ? await rowsOf(only) : (await env.DB.prepare('SELECT * FROM audit_log ORDER BY chain_id, seq').all<Record<string, unknown>>()).results
  // Read as the endpoints read rows (a JSON column that does not parse is kept as its text).
  const records = rows.map(readRecord)
  const anchors = new Map(
    (await env.DB.prepare('SELECT chain_id, seq, hash FROM audit_anchors').all<{ chain_id: string; seq: number; hash: string }>()).results.map((row) => [
      row.chain_id,
      { seq: row.seq, hash: row.hash },
    ]),
  )
  const chains = new Set(records.map((record) => record.chainId))
  const known = only
    ? [only]
    : [
        ...(await env.DB.prepare('SELECT id FROM api_keys UNION SELECT id FROM connections').all<{ id: string }>()).results.map((row) => row.id),
        ...Array.from({ length: UNAUTHENTICATED_CHAINS }, (_, index) => `anon-${index}`),
      ]
  const problems: Problem[] = []
  for (const chainId of new Set([...chains, ...known])) {
    const chain = records.filter((record) => record.chainId === chainId)
    const anchor = anchors.get(chainId) ?? { seq: 0, hash: GENESIS_HASH }
    problems.push(...((await verifyChain(chainId, anchor, chain)) as Problem[]))
    const holder = headHolder(chainId)
    if (holder) problems.push(...headProblem(chainId, chain, anchor, await holder.auditHead()))
  }
  let adminCount = 0
  if (!only) {
    const adminRows = (await env.DB.prepare('SELECT * FROM admin_audit ORDER BY seq').all<Record<string, unknown>>()).results.map(adminRowToRecord)
    adminCount = adminRows.length
    const verified = await verifyAdminRecords({ seq: 0, hash: GENESIS_HASH }, adminRows)
    problems.push(...verified.problems.map((problem) => ({ ...problem, chainId: 'admin' })))
    problems.push(...headProblem('admin', adminRows, { seq: 0, hash: GENESIS_HASH }, await ledger().lastRecord()))
  }
  return { problems, records: records.length, chains: chains.size, adminCount }
}

const canonical = (problems: Problem[]) => problems.map((problem) => JSON.stringify(problem, Object.keys(problem).sort())).sort()

async function relink(chainId: string, fromSeq: number, change: (record: ChainedAuditRecord) => void, until = Infinity): Promise<void> {
  const records = (await rowsOf(chainId)).map(rowToRecord)
  const anchor = await env.DB.prepare('SELECT seq, hash FROM audit_anchors WHERE chain_id = ?1').bind(chainId).first<Link>()
  let previous = records.find((record) => record.seq === fromSeq - 1)?.hash ?? (anchor?.seq === fromSeq - 1 ? anchor.hash : GENESIS_HASH)
  for (const record of records.filter((one) => one.seq >= fromSeq && one.seq <= until)) {
    change(record)
    const hash = await chainHash(previous, chainId, record.seq, record)
    await env.DB.prepare('UPDATE audit_log SET latency_ms = ?3, prev_hash = ?4, hash = ?5 WHERE chain_id = ?1 AND seq = ?2')
      .bind(chainId, record.seq, record.latencyMs, previous, hash)
      .run()
    previous = hash
  }
}

const TAMPERS = [
  'altered',
  'deleted',
  'inserted',
  'reinserted',
  'broken_link',
  'replaced',
  'tail_deleted',
  'tail_rewritten',
  'garbage_hash',
  'garbage_linked',
  'unparsable',
  'admin_altered',
  'admin_tail_deleted',
] as const
type Tamper = (typeof TAMPERS)[number]

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, index) => from + index)

/**
 * Tampers with one record of a chain of `length` records whose first `cut` were removed by retention (seq
 * cut+1..length remain), as someone with write access to D1 could; returns the problems verify must report.
 */
async function tamper(kind: Tamper, chainId: string, length: number, cut: number, pick: number, removed: Record<string, unknown>[]): Promise<{ chainId: string; expected: Problem[]; restore?: () => Promise<void> }> {
  const live = range(cut + 1, length)
  const k = live[pick % live.length]!
  const L = length
  switch (kind) {
    case 'altered':
      await env.DB.prepare('UPDATE audit_log SET ip = ?3 WHERE chain_id = ?1 AND seq = ?2').bind(chainId, k, '192.0.2.66').run()
      return { chainId, expected: [{ kind: 'altered', chainId, seq: k }] }
    case 'deleted': {
      if (live.length < 2) return tamper('altered', chainId, length, cut, pick, removed)
      const middle = live[pick % (live.length - 1)]!
      await env.DB.prepare('DELETE FROM audit_log WHERE chain_id = ?1 AND seq = ?2').bind(chainId, middle).run()
      return { chainId, expected: [{ kind: 'missing', chainId, afterSeq: middle - 1, beforeSeq: middle + 1 }] }
    }
    case 'inserted': {
      // A forged record at k, linked to k-1 and correctly hashed; the records from k on move up one place.
      const rows = await rowsOf(chainId)
      const shifted = rows.filter((row) => Number(row.seq) >= k)
      const before = rows.find((row) => Number(row.seq) === k - 1)
      const anchor = await env.DB.prepare('SELECT seq, hash FROM audit_anchors WHERE chain_id = ?1').bind(chainId).first<Link>()
      const prevHash = before ? String(before.hash) : anchor?.seq === k - 1 ? anchor.hash : GENESIS_HASH
      await env.DB.prepare('DELETE FROM audit_log WHERE chain_id = ?1 AND seq >= ?2').bind(chainId, k).run()
      for (const row of shifted) await insertRow('audit_log', { ...row, seq: Number(row.seq) + 1 })
      const [forged] = await linkRecords(chainId, prevHash, [{ seq: k, record: { ...rowToRecord(shifted[0]!), requestId: crypto.randomUUID(), ip: '192.0.2.66' } }])
      await insertRow('audit_log', { ...shifted[0]!, seq: k, request_id: forged!.requestId, ip: forged!.ip, prev_hash: forged!.prevHash, hash: forged!.hash })
      return {
        chainId,
        expected: [{ kind: 'broken_link', chainId, seq: k + 1 }, ...range(k + 1, L + 1).map((seq) => ({ kind: 'altered', chainId, seq })), { kind: 'tail_rewritten', chainId, seq: L }],
      }
    }
    case 'reinserted': {
      // A record retention removed, put back before the anchor.
      if (cut === 0) return tamper('broken_link', chainId, length, cut, pick, removed)
      const row = removed[pick % removed.length]!
      await insertRow('audit_log', row)
      return { chainId, expected: [{ kind: 'inserted', chainId, seq: Number(row.seq) }] }
    }
    case 'broken_link':
      await env.DB.prepare('UPDATE audit_log SET prev_hash = ?3 WHERE chain_id = ?1 AND seq = ?2').bind(chainId, k, 'f'.repeat(64)).run()
      return { chainId, expected: [{ kind: 'broken_link', chainId, seq: k }, { kind: 'altered', chainId, seq: k }] }
    case 'replaced':
      // New content with a correct hash: only the next record's link (or the head) shows it.
      await relink(chainId, k, (record) => (record.latencyMs += 1000), k)
      return { chainId, expected: [k < L ? { kind: 'broken_link', chainId, seq: k + 1 } : { kind: 'tail_rewritten', chainId, seq: L }] }
    case 'tail_deleted':
      await env.DB.prepare('DELETE FROM audit_log WHERE chain_id = ?1 AND seq >= ?2').bind(chainId, k).run()
      return { chainId, expected: [{ kind: 'tail_missing', chainId, lastSeq: k - 1, headSeq: L }] }
    case 'tail_rewritten':
      await relink(chainId, k, (record) => (record.latencyMs += 1000))
      return { chainId, expected: [{ kind: 'tail_rewritten', chainId, seq: L }] }
    case 'garbage_hash':
    case 'garbage_linked': {
      // Any text in `hash` (here longer than a hash): the cursor must carry it past a page boundary.
      const garbage = `not a hash ${'ü'.repeat(100)} ${k}`
      await env.DB.prepare('UPDATE audit_log SET hash = ?3 WHERE chain_id = ?1 AND seq = ?2').bind(chainId, k, garbage).run()
      const expected: Problem[] = [{ kind: 'altered', chainId, seq: k }]
      if (k === L) expected.push({ kind: 'tail_rewritten', chainId, seq: L })
      else if (kind === 'garbage_hash') expected.push({ kind: 'broken_link', chainId, seq: k + 1 })
      else {
        await env.DB.prepare('UPDATE audit_log SET prev_hash = ?3 WHERE chain_id = ?1 AND seq = ?2').bind(chainId, k + 1, garbage).run()
        expected.push({ kind: 'altered', chainId, seq: k + 1 })
      }
      return { chainId, expected }
    }
    case 'unparsable':
      // A JSON column that no longer parses: the record is still read (as the text it holds) and shows as altered.
      await env.DB.prepare("UPDATE audit_log SET record_ids = '[1,2' WHERE chain_id = ?1 AND seq = ?2").bind(chainId, k).run()
      return { chainId, expected: [{ kind: 'altered', chainId, seq: k }] }
    case 'admin_altered':
    case 'admin_tail_deleted': {
      const adminRows = (await env.DB.prepare('SELECT * FROM admin_audit ORDER BY seq').all<Record<string, unknown>>()).results
      const seq = Number(adminRows[pick % adminRows.length]!.seq)
      const saved = adminRows.filter((row) => Number(row.seq) >= seq)
      const restore = async () => {
        await env.DB.prepare('DELETE FROM admin_audit WHERE seq >= ?1').bind(seq).run()
        for (const row of saved) await insertRow('admin_audit', row)
      }
      if (kind === 'admin_altered') {
        await env.DB.prepare("UPDATE admin_audit SET actor = 'secret:mallory' WHERE seq = ?1").bind(seq).run()
        return { chainId: 'admin', expected: [{ kind: 'altered', chainId: 'admin', seq }], restore }
      }
      await env.DB.prepare('DELETE FROM admin_audit WHERE seq >= ?1').bind(seq).run()
      const last = Number(adminRows[adminRows.length - 1]!.seq)
      return { chainId: 'admin', expected: [{ kind: 'tail_missing', chainId: 'admin', lastSeq: seq - 1, headSeq: last }], restore }
    }
  }
}

beforeAll(async () => {
  // A few changes in the admin log (keys stored without asking Odoo), for the admin log's part of the pass.
  for (const name of ['audit one', 'audit two', 'audit three']) {
    const created = await admin('POST', '/keys', { name, odoo_login: 'nobody', odoo_secret: 'unused', verify: false })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
  }
})

describe('POST /admin/v1/audit/verify', () => {
  // One property per kind of tampering, so each is sure to run; few runs each, because every request through the
  // test runtime's fetch makes the next ones of this file a little slower.
  it.each(TAMPERS)('finds tampering of kind %s wherever the pages split the chains, exactly as a whole-chain check does', async (kind) => {
    const chainSpec = fc.record({
      specs: fc.array(recordSpec, { minLength: 1, maxLength: 8 }),
      cut: fc.nat(),
      connection: fc.boolean(),
    })
    await fc.assert(
      fc.asyncProperty(fc.array(chainSpec, { minLength: 1, maxLength: 3 }), fc.nat(), fc.nat(), fc.integer({ min: 1, max: 6 }), async (chains, which, pick, limit) => {
        const written: { id: string; length: number; cut: number; removed: Record<string, unknown>[] }[] = []
        let restore: (() => Promise<void>) | undefined
        try {
          for (const chain of chains) {
            const id = randomId(chain.connection ? 'con' : 'key')
            await writeChain(id, chain.specs)
            // Some chains lose a prefix to retention (never all of it: at least one record stays).
            const cut = chain.cut % 3 === 0 ? chain.cut % chain.specs.length : 0
            const removed = (await rowsOf(id)).filter((row) => Number(row.seq) <= cut)
            await cutPrefix(id, cut)
            written.push({ id, length: chain.specs.length, cut, removed })
          }
          const ours = new Set([...written.map((chain) => chain.id), 'admin'])
          const mine = (problems: Problem[]) => canonical(problems.filter((problem) => ours.has(problem.chainId)))
          expect(mine((await reference()).problems)).toEqual([])

          const target = written[which % written.length]!
          const tampered = await tamper(kind, target.id, target.length, target.cut, pick, target.removed)
          restore = tampered.restore
          const found = await verifyAll({ limit })
          const expected = await reference()
          expect(canonical(found.problems)).toEqual(canonical(expected.problems))
          expect(found.records).toBe(expected.records)
          expect(found.chains).toBe(expected.chains)
          expect(found.adminRecords).toBe(expected.adminCount)
          expect(found.headsUnavailable).toEqual([])
          // The problems of the generated chains and the admin log are exactly the tampering's.
          expect(mine(found.problems)).toEqual(canonical(tampered.expected))
          // The same chain alone (--key) says the same about it.
          if (tampered.chainId !== 'admin') {
            const alone = await verifyAll({ key: tampered.chainId, limit })
            expect(canonical(alone.problems)).toEqual(canonical(tampered.expected))
          }
        } finally {
          await restore?.()
          for (const chain of written) await forgetChain(chain.id)
        }
      }),
      { numRuns: 4 },
    )
  }, 60_000)

  it(`stops a step after ${MAX_HEADS_PER_STEP} chain ends (one head each) and goes on with the next chain`, async () => {
    // One-record chains straight into D1 (no object wrote them: their heads are empty).
    const count = MAX_HEADS_PER_STEP + 25
    const ids = Array.from({ length: count }, () => randomId('key')).sort()
    const statements = []
    for (const id of ids) {
      const [record] = await linkRecords(id, GENESIS_HASH, [{ seq: 1, record: recordOf({ t: 1, ip: '203.0.113.9', model: null, ids: [], outcome: 'ok', withQuery: false }, id) }])
      statements.push(
        env.DB.prepare(
          `INSERT INTO audit_log (chain_id, seq, time, request_id, key_id, record_ids, record_ids_truncated, fields, outcome, http_status,
             latency_ms, response_bytes, prev_hash, hash, key_name, key_prefix, odoo_user, ip, user_agent, method, tool, operation)
           VALUES (?1, 1, ?2, ?3, ?1, '[]', 0, '[]', 'ok', 200, 5, 0, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)`,
        ).bind(id, record!.time, record!.requestId, record!.prevHash, record!.hash, record!.keyName, record!.keyPrefix, record!.odooUser, record!.ip, record!.userAgent, record!.method, record!.tool, record!.operation),
      )
    }
    await env.DB.batch(statements)
    try {
      const first = await admin<VerifyAnswer>('POST', '/audit/verify', { limit: 10_000, total: true })
      expect(first.status).toBe(200)
      expect(first.body).toMatchObject({ chains: MAX_HEADS_PER_STEP, heads_checked: MAX_HEADS_PER_STEP, problems: [] })
      expect(first.body.next_cursor).not.toBeNull()
      expect(first.body.total_records).toBeGreaterThanOrEqual(count)
      const all = await verifyAll({ limit: 10_000 })
      expect(all.problems).toEqual([])
      expect(all.chains).toBeGreaterThanOrEqual(count)
    } finally {
      await env.DB.prepare('DELETE FROM audit_log WHERE chain_id IN (SELECT value FROM json_each(?1))').bind(JSON.stringify(ids)).run()
    }
  }, 60_000)

  it('steps past rows planted to break it (text in seq and time, a time no date holds) and reports them', async () => {
    const id = randomId('key')
    const specs = Array.from({ length: 4 }, (_, index) => ({ t: index, ip: '203.0.113.9', model: 'res.partner', ids: [2], outcome: 'ok' as const, withQuery: false }))
    await writeChain(id, specs)
    const rows = await rowsOf(id)
    try {
      // After #4 (in key order: numbers before text): a row whose seq is text, and one whose time is absurd.
      await insertRow('audit_log', { ...rows[3]!, seq: 'zzz', request_id: crypto.randomUUID(), time: 'yesterday', domain: '{broken' })
      await env.DB.prepare('UPDATE audit_log SET time = 1e300 WHERE chain_id = ?1 AND seq = 2').bind(id).run()
      const expected = canonical((await reference(id)).problems)
      expect(expected.length).toBeGreaterThan(0)
      for (const limit of [1, 2, 3, 5]) {
        const found = await verifyAll({ key: id, limit })
        expect(canonical(found.problems), `limit ${limit}`).toEqual(expected)
        expect(found.records).toBe(5)
      }
      const whole = await verifyAll({ limit: 2 })
      expect(canonical(whole.problems.filter((problem) => problem.chainId === id))).toEqual(expected)
      // Search and export list them too, page after page.
      for (const path of ['/audit/records', '/audit/export']) {
        const seen: unknown[] = []
        let cursor: string | null = null
        do {
          const answer: { status: number; body: { items: { seq: number; time: string }[]; next_cursor: string | null } } = await admin('GET', `${path}?key=${id}&limit=1${cursor ? `&cursor=${cursor}` : ''}`)
          expect(answer.status, JSON.stringify(answer.body)).toBe(200)
          seen.push(...answer.body.items.map((item) => item.time))
          cursor = answer.body.next_cursor
        } while (cursor)
        expect(seen, path).toHaveLength(5)
        expect(seen, path).toContain('1e+300')
      }
    } finally {
      await forgetChain(id)
    }
  }, 60_000)

  it('does not take D1 being ahead of a head for tampering, and checks the record the head names', async () => {
    const id = randomId('key')
    const specs = Array.from({ length: 4 }, (_, index) => ({ t: index, ip: '203.0.113.9', model: 'res.partner', ids: [1], outcome: 'ok' as const, withQuery: false }))
    await writeChain(id, specs)
    try {
      // D1 committed two more records the object has not been told of (its answer was lost): seq 5 and 6.
      const rows = await rowsOf(id)
      const more = await linkRecords(id, String(rows[3]!.hash), [5, 6].map((seq) => ({ seq, record: rowToRecord({ ...rows[3]!, request_id: crypto.randomUUID() }) })))
      for (const record of more) await insertRow('audit_log', { ...rows[3]!, seq: record.seq, request_id: record.requestId, prev_hash: record.prevHash, hash: record.hash })
      expect((await keyObject(id).auditHead()).seq).toBe(4)
      expect((await verifyAll({ key: id, limit: 2 })).problems).toEqual([])
      // Rewriting from the head's record on is still seen: #4 no longer has the hash the object holds.
      await relink(id, 4, (record) => (record.latencyMs += 1))
      expect((await verifyAll({ key: id, limit: 2 })).problems).toEqual([{ kind: 'tail_rewritten', chainId: id, seq: 4 }])
    } finally {
      await forgetChain(id)
    }
  })

  it('counts the records for a progress bar, and refuses bad bodies and cursors with 400', async () => {
    const id = randomId('key')
    await writeChain(id, [{ t: 0, ip: '203.0.113.9', model: null, ids: [], outcome: 'ok', withQuery: false }])
    try {
      const counted = await admin<VerifyAnswer>('POST', '/audit/verify', { key: id, total: true })
      expect(counted.body).toMatchObject({ total_records: 1, records: 1, chains: 1, heads_checked: 1, problems: [], next_cursor: null })
      const otherChain = encodeAuditCursor(['log', 'key_0000000000000000', 1, 1, GENESIS_HASH])
      for (const [body, code] of [
        ['{', 'invalid_json'],
        [{ key: "key_x' OR 1=1" }, 'invalid_body'],
        [{ limit: 0 }, 'invalid_body'],
        [{ limit: 10_001 }, 'invalid_body'],
        [{ limit: '5' }, 'invalid_body'],
        [{ everything: true }, 'invalid_body'],
        [{ cursor: 'not a cursor' }, 'invalid_cursor'],
        [{ cursor: btoa(JSON.stringify(['log', 'key_0000000000000000', 1, 'x', GENESIS_HASH])) }, 'invalid_cursor'],
        [{ cursor: btoa(JSON.stringify(['log', 'key_0000000000000000', 1, 1])) }, 'invalid_cursor'],
        [{ cursor: btoa(JSON.stringify(['admin', 1.5, 0, GENESIS_HASH])) }, 'invalid_cursor'],
        // A cursor of another chain, or of the whole log's later phases, cannot continue a one-chain pass.
        [{ key: id, cursor: otherChain }, 'invalid_cursor'],
        [{ key: id, cursor: encodeAuditCursor(['idle', '']) }, 'invalid_cursor'],
      ] as [unknown, string][]) {
        const answer = await admin('POST', '/audit/verify', body)
        expect(answer.status, JSON.stringify(body)).toBe(400)
        expect(answer.body.error, JSON.stringify(body)).toBe(code)
        expect(answer.body.message).toEqual(expect.any(String))
      }
    } finally {
      await forgetChain(id)
    }
  })
})

/** Search's filters as query parameters, and the same filters in JavaScript (the reference). */
interface Filter {
  key?: string
  model?: string
  record?: [string, number]
  outcome?: 'ok' | 'denied' | 'error'
  ip?: string
  since?: number
  until?: number
}

function matches(record: ChainedAuditRecord, filter: Filter): boolean {
  return (
    (filter.key === undefined || record.keyId === filter.key) &&
    (filter.model === undefined || record.model === filter.model) &&
    (filter.record === undefined || (record.model === filter.record[0] && record.recordIds.includes(filter.record[1]))) &&
    (filter.outcome === undefined || record.outcome === filter.outcome) &&
    (filter.ip === undefined || record.ip === filter.ip) &&
    (filter.since === undefined || record.time >= BASE_TIME + filter.since * 60_000) &&
    (filter.until === undefined || record.time < BASE_TIME + filter.until * 60_000)
  )
}

function queryOf(filter: Filter, limit: number): string {
  const params = new URLSearchParams({ limit: String(limit) })
  if (filter.key) params.set('key', filter.key)
  if (filter.model) params.set('model', filter.model)
  if (filter.record) params.set('record', `${filter.record[0]}:${filter.record[1]}`)
  if (filter.outcome) params.set('outcome', filter.outcome)
  // Given in capitals: the API compares addresses in lower case, as they are recorded.
  if (filter.ip) params.set('ip', filter.ip.toUpperCase())
  if (filter.since !== undefined) params.set('since', new Date(BASE_TIME + filter.since * 60_000).toISOString())
  if (filter.until !== undefined) params.set('until', new Date(BASE_TIME + filter.until * 60_000).toISOString())
  return params.toString()
}

async function allPages(path: string, filter: Filter, limit: number) {
  const items: (ReturnType<typeof recordToJson> & { prevHash?: string; hash?: string })[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const answer: { status: number; body: { items: typeof items; next_cursor: string | null } } = await admin('GET', `${path}?${queryOf(filter, limit)}${cursor ? `&cursor=${cursor}` : ''}`)
    expect(answer.status, JSON.stringify(answer.body)).toBe(200)
    expect(answer.body.items.length).toBeLessThanOrEqual(limit)
    items.push(...answer.body.items)
    cursor = answer.body.next_cursor
    expect(++pages).toBeLessThan(60)
  } while (cursor)
  return items
}

describe('GET /admin/v1/audit/records and /export', () => {
  const keys = [randomId('key'), randomId('key'), randomId('con')]

  beforeAll(async () => {
    // Three chains with times drawn from 16 minutes: many records share a time, and only (chain, seq) orders them.
    const generated = fc.sample(fc.array(recordSpec, { minLength: 10, maxLength: 20 }), { numRuns: keys.length, seed: 16 })
    for (const [index, id] of keys.entries()) await writeChain(id, generated[index]!)
  })

  it('returns every matching record exactly once, newest first (search) or oldest first with hashes (export)', async () => {
    const all = (await env.DB.prepare('SELECT * FROM audit_log').all<Record<string, unknown>>()).results.map(rowToRecord)
    const key = (record: ChainedAuditRecord) => [record.time, record.chainId, record.seq] as const
    const compare = (a: ChainedAuditRecord, b: ChainedAuditRecord) => {
      const [x, y] = [key(a), key(b)]
      return x[0] - y[0] || (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0) || x[2] - y[2]
    }
    // None, one or two filters at a time: more would match next to nothing.
    const values = fc.record({
      key: fc.constantFrom(...keys),
      model: fc.constantFrom('res.partner', 'sale.order'),
      record: fc.tuple(fc.constantFrom('res.partner', 'sale.order'), fc.integer({ min: 1, max: 5 })),
      outcome: fc.constantFrom('ok', 'denied', 'error'),
      ip: fc.constantFrom('203.0.113.9', '198.51.100.1', '2001:db8::7'),
      since: fc.integer({ min: 0, max: 16 }),
      until: fc.integer({ min: 0, max: 16 }),
    })
    const names = ['key', 'model', 'record', 'outcome', 'ip', 'since', 'until'] as const
    const filter: fc.Arbitrary<Filter> = fc
      .tuple(fc.subarray([...names], { maxLength: 2 }), values)
      .map(([chosen, all]) => Object.fromEntries(chosen.map((name) => [name, all[name]])) as Filter)
    let paged = 0
    await fc.assert(
      fc.asyncProperty(filter, fc.integer({ min: 2, max: 9 }), async (chosen, limit) => {
        const expected = all.filter((record) => matches(record, chosen)).sort(compare)
        if (expected.length > limit) paged++
        const searched = await allPages('/audit/records', chosen, limit)
        expect(searched).toEqual(expected.toReversed().map(recordToJson))
        const exported = await allPages('/audit/export', chosen, limit)
        expect(exported).toEqual(expected.map((record) => ({ ...recordToJson(record), prevHash: record.prevHash, hash: record.hash })))
      }),
      { numRuns: 30 },
    )
    // The property said something about paging: many of its searches took more than one page.
    expect(paged).toBeGreaterThanOrEqual(10)
  }, 120_000)

  it('reads every filter through an index, in the order of the page, and pages with a range (no OFFSET)', async () => {
    const after = { time: BASE_TIME, chainId: keys[0]!, seq: 3 }
    const cases: [Omit<AuditFilters, 'limit'>, RegExp][] = [
      [{}, /USING INDEX audit_by_time\b/],
      [{ since: BASE_TIME - 60_000, until: BASE_TIME + 3_600_000 }, /USING INDEX audit_by_time \((time>\? AND time<\?|time>\? AND \(time,chain_id,seq\)<|\(time,chain_id,seq\)>\(\?,\?,\?\) AND time<\?)/],
      [{ keyId: keys[0] }, /USING INDEX audit_by_key_time \(key_id=\?/],
      [{ model: 'res.partner' }, /USING INDEX audit_by_model_time \(model=\?/],
      [{ ip: '203.0.113.9' }, /USING INDEX audit_by_ip_time \(ip=\?/],
      [{ outcome: 'denied' }, /USING INDEX audit_by_outcome_time \(outcome=\?/],
      [{ keyId: keys[0], outcome: 'ok', model: 'res.partner', ip: '203.0.113.9', since: BASE_TIME - 60_000 }, /USING INDEX audit_by_key_time \(key_id=\?/],
      [{ model: 'res.partner', outcome: 'ok' }, /USING INDEX audit_by_model_time \(model=\?/],
      [{ ip: '203.0.113.9', outcome: 'ok', model: 'sale.order' }, /USING INDEX audit_by_ip_time \(ip=\?/],
      [{ record: { model: 'res.partner', id: 1 } }, /SEARCH a USING PRIMARY KEY \(model=\? AND record_id=\?\)/],
      [{ record: { model: 'res.partner', id: 1 }, keyId: keys[0], outcome: 'ok' }, /SEARCH a USING PRIMARY KEY \(model=\? AND record_id=\?\)/],
    ]
    for (const [filters, index] of cases) {
      for (const order of ['newest', 'oldest'] as const) {
        for (const position of [undefined, after]) {
          const { sql, params } = auditSearchQuery({ ...filters, limit: 101 }, { order, ...(position ? { after: position } : {}) })
          const plan = (await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`).bind(...params).all<{ detail: string }>()).results.map((row) => row.detail)
          const text = plan.join(' | ')
          const label = `${JSON.stringify(filters)} ${order} ${position ? 'after' : 'first'}: ${text}`
          expect(text, label).toMatch(index)
          // The cursor is the index range (for --record the accesses are sorted first, and the cursor filters them).
          if (position && !filters.record) expect(text, label).toMatch(/\(time,chain_id,seq\)[<>]\(\?,\?,\?\)/)
          expect(sql).not.toMatch(/OFFSET/i)
          if (filters.record) {
            // The record's accesses are sorted (few), then their records fetched by primary key.
            expect(text, label).toMatch(/SEARCH l USING PRIMARY KEY \(chain_id=\? AND seq=\?\)/)
          } else {
            expect(text, label).not.toMatch(/TEMP B-TREE/)
            expect(plan.filter((line) => /^(SCAN|SEARCH) /.test(line)), label).toHaveLength(1)
          }
        }
      }
    }
    // Verify walks the primary key the same way.
    const verifyPlan = (await env.DB.prepare('EXPLAIN QUERY PLAN SELECT * FROM audit_log WHERE (chain_id, seq) > (?1, ?2) ORDER BY chain_id, seq LIMIT 10').bind('key_0', 1).all<{ detail: string }>()).results
    expect(verifyPlan.map((row) => row.detail).join(' | ')).toMatch(/^SEARCH audit_log USING PRIMARY KEY \(\(chain_id,seq\)>\(\?,\?\)\)$/)
  })

  it('refuses bad filters, limits and cursors with 400 and a JSON body', async () => {
    const search = await admin<{ items: unknown[]; next_cursor: string }>('GET', `/audit/records?key=${keys[0]}&limit=1`)
    const exportCursor = (await admin<{ next_cursor: string }>('GET', `/audit/export?key=${keys[0]}&limit=1`)).body.next_cursor
    const q = (...pairs: [string, string][]) => pairs.map(([name, value]) => `${name}=${encodeURIComponent(value).replace(/'/g, '%27')}`).join('&')
    for (const [query, code] of [
      [q(['key', 'omk_abcdefgh']), 'invalid_query'],
      [q(['key', "key_x' OR 1=1 --"]), 'invalid_query'],
      [q(['model', 'Res.Partner;DROP']), 'invalid_query'],
      [q(['record', 'res.partner']), 'invalid_query'],
      [q(['record', 'res.partner:1e3']), 'invalid_query'],
      [q(['outcome', 'maybe']), 'invalid_query'],
      [q(['ip', 'example.com']), 'invalid_query'],
      [q(['since', 'yesterday']), 'invalid_query'],
      [q(['limit', '0']), 'invalid_query'],
      [q(['limit', '1001']), 'invalid_query'],
      [q(['limit', 'abc']), 'invalid_query'],
      [q(['model', 'res.partner'], ['model', 'sale.order']), 'invalid_query'],
      [q(['order', 'asc']), 'invalid_query'],
      [q(['cursor', '%%%']), 'invalid_cursor'],
      [q(['cursor', 'WyJyIiwxLDIsM10']), 'invalid_cursor'],
      [q(['cursor', 'x'.repeat(3000)]), 'invalid_query'],
      [q(['cursor', exportCursor]), 'invalid_cursor'],
    ] as [string, string][]) {
      const answer = await admin('GET', `/audit/records?${query}`)
      expect(answer.status, query).toBe(400)
      expect(answer.body.error, query).toBe(code)
    }
    expect((await admin('GET', '/audit/export?limit=5001')).status).toBe(400)
    expect((await admin('GET', '/audit/export?limit=5000')).status).toBe(200)
    expect((await admin('GET', `/audit/export?cursor=${search.body.next_cursor}`)).body.error).toBe('invalid_cursor')
  }, 60_000)
})

