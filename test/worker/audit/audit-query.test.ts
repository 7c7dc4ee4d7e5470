/**
 * The `query` of an audit record: what decided a tool call's answer besides its domain (order actually sent to Odoo,
 * groupby, aggregates, context, paging), checked against what the simulated Odoo received; kept as is when domain
 * values are redacted; covered by the chain hash without changing the hash of records that have none (old records
 * keep verifying); and added by the gateway itself to a database created before the column existed.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { chainHash, linkRecords, verifyChain } from '../../../src/audit/chain'
import { GENESIS_HASH, type AuditRecord } from '../../../src/audit/record'
import { rowToRecord } from '../../../src/audit/rows'
import { addAuditColumns } from '../../../src/audit/schema-upgrade'
import { createTestKey, MCP_URL, postMcp, sim, type SimCall } from '../helpers'
import { auditByRequestId, chainRecords, flushAudit, withObjectDb } from './helpers'

const POLICY = {
  version: 1,
  models: {
    'sale.order': { operations: ['read'], fields: ['name', 'state', 'amount_total', 'date_order', 'partner_id'] },
    'res.partner': { operations: ['read'], fields: ['name', 'city', 'display_name'] },
  },
  rateLimit: { perMinute: 600, burst: 100 },
}

const call = (name: string, args: Record<string, unknown>, id = 1) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } })
const requestIdOf = (response: Response) => response.headers.get('x-request-id')!

async function lastSeq(): Promise<number> {
  return ((await sim.calls()).at(-1)?.seq as number | undefined) ?? 0
}

/** Makes one call; returns its audit record and the Odoo calls it caused (methods and model given). */
async function audited(key: { id: string; key: string }, body: unknown, odoo: { model: string; methods: string[] }) {
  const before = await lastSeq()
  const response = await postMcp(key.key, body)
  expect(response.status).toBe(200)
  await response.arrayBuffer()
  await flushAudit([key.id])
  const record = await auditByRequestId(requestIdOf(response))
  expect(record, 'audit record').toBeDefined()
  const calls = (await sim.calls()).filter(
    (entry) => (entry.seq as number) > before && entry.model === odoo.model && odoo.methods.includes(entry.method),
  ) as (SimCall & { context: Record<string, unknown> | null })[]
  return { record: record!, calls }
}

beforeAll(async () => {
  await sim.reset()
})

describe('the query of a tool call', () => {
  it('records the groupby, aggregates, group order and paging of aggregate_records, as Odoo received them', async () => {
    const key = await createTestKey({ policy: POLICY })
    const { record, calls } = await audited(
      key,
      call('aggregate_records', { model: 'sale.order', groupby: ['date_order:month', 'state'], aggregates: ['amount_total:sum', 'date_order:max'], limit: 20, offset: 1 }),
      { model: 'sale.order', methods: ['read_group', 'formatted_read_group'] },
    )
    expect(record.outcome).toBe('ok')
    expect(record.query).toMatchObject({ groupby: ['date_order:month', 'state'], aggregates: ['amount_total:sum', 'date_order:max'], limit: 20, offset: 1 })
    expect(calls).toHaveLength(1)
    const sent = calls[0]!.kwargs as Record<string, unknown>
    expect(sent.groupby).toEqual(record.query!.groupby)
    expect([sent.limit, sent.offset]).toEqual([record.query!.limit, record.query!.offset])
    // The group order the gateway sent (it builds one from visible fields); the record says exactly that.
    const order = sent.orderby ?? sent.order
    expect(order, 'the gateway sends Odoo an explicit group order').toEqual(expect.any(String))
    expect(record.query!.order).toBe(order)
  })

  it('records the order search_records sent Odoo (not only the one asked for), with limit and offset', async () => {
    const key = await createTestKey({ policy: POLICY })
    const asked = await audited(
      key,
      call('search_records', { model: 'sale.order', fields: ['name'], order: 'date_order desc', limit: 3, offset: 1 }),
      { model: 'sale.order', methods: ['search_read'] },
    )
    expect(asked.calls).toHaveLength(1)
    const askedOrder = (asked.calls[0]!.kwargs as Record<string, unknown>).order
    expect(askedOrder).toEqual(expect.stringMatching(/^date_order desc\b/))
    expect(asked.record.query).toEqual({ order: askedOrder, limit: 3, offset: 1 })

    // No order asked for: whatever default order the gateway sends is what the record holds.
    const defaulted = await audited(key, call('search_records', { model: 'sale.order', fields: ['name'] }), { model: 'sale.order', methods: ['search_read'] })
    const sentOrder = (defaulted.calls[0]!.kwargs as Record<string, unknown>).order
    expect(defaulted.record.query).toEqual({ ...(sentOrder === undefined ? {} : { order: sentOrder }), limit: 50, offset: 0 })
  })

  it('records the context the agent sent, which Odoo received', async () => {
    const key = await createTestKey({ policy: POLICY })
    const context = { lang: 'en_US', tz: 'Europe/Brussels', active_test: true }
    const { record, calls } = await audited(key, call('count_records', { model: 'res.partner', domain: [['city', '=', 'Namur']], context }), {
      model: 'res.partner',
      methods: ['search_count'],
    })
    expect(record.query).toEqual({ context })
    expect(record.domain).toEqual([['city', '=', 'Namur']])
    expect(calls[0]!.context).toMatchObject(context)
  })

  it('records the order asked for when the policy refuses the call before it reaches Odoo', async () => {
    const key = await createTestKey({ policy: POLICY })
    const { record, calls } = await audited(key, call('search_records', { model: 'res.partner', fields: ['name'], order: 'email desc, name' }), {
      model: 'res.partner',
      methods: ['search_read'],
    })
    expect(record).toMatchObject({ outcome: 'denied', code: 'policy_denied' })
    expect(record.query).toEqual({ order: 'email desc, name asc', limit: 50, offset: 0 })
    expect(calls).toHaveLength(0)
  })

  it('records the text filter of list_models, and no query for calls that have none', async () => {
    const key = await createTestKey({ policy: POLICY })
    const listed = await audited(key, call('list_models', { search: 'partner' }), { model: 'ir.model', methods: ['search_read'] })
    expect(listed.record.query).toEqual({ search: 'partner', limit: 200 })
    const read = await audited(key, call('read_records', { model: 'res.partner', ids: [7], fields: ['name'] }), { model: 'res.partner', methods: ['read'] })
    expect(read.record.query).toBeNull()
    const ping = await audited(key, { jsonrpc: '2.0', id: 1, method: 'ping' }, { model: '-', methods: [] })
    expect(ping.record.query).toBeNull()
    // Every record of this chain verifies, with and without a query.
    expect(await verifyChain(key.id, { seq: 0, hash: GENESIS_HASH }, await chainRecords(key.id))).toEqual([])
  })

  it('keeps the query as is when domain values are redacted (AUDIT_REDACT_DOMAIN_VALUES)', async () => {
    const key = await createTestKey({ policy: POLICY })
    const { default: worker } = await import('../../../src/index')
    const context = { lang: 'en_US', tz: 'Europe/Brussels' }
    const request = new Request(MCP_URL, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${key.key}` },
      body: JSON.stringify(call('search_records', { model: 'res.partner', domain: [['city', '=', 'Namur']], fields: ['name'], order: 'name desc', context })),
    })
    const ctx = createExecutionContext()
    const response = await worker.fetch(request, { ...env, AUDIT_REDACT_DOMAIN_VALUES: 'true' }, ctx)
    await response.arrayBuffer()
    await waitOnExecutionContext(ctx)
    await flushAudit([key.id])
    const record = (await auditByRequestId(requestIdOf(response)))!
    expect(record.outcome).toBe('ok')
    expect(record.domain).toEqual([['city', '=', '?']])
    expect(record.query).toMatchObject({ context, limit: 50, offset: 0, order: expect.stringMatching(/^name desc\b/) })
  })
})

describe('the query in the hash chain', () => {
  const record: AuditRecord = {
    time: 1767225600000, requestId: 'req-golden-1', keyId: 'key_0123456789abcdef', keyName: 'golden', keyPrefix: 'omk_abcdefgh',
    odooUser: 'admin', ip: '203.0.113.9', userAgent: 'agent/1.0', clientInfo: 'claude-ai/1.0', method: 'tools/call',
    tool: 'search_records', model: 'res.partner', operation: 'search', recordIds: [7, 42], recordIdsTruncated: false,
    fields: ['name', 'city'], domain: [['name', 'ilike', 'acme']], outcome: 'ok', code: null, httpStatus: 200, latencyMs: 12,
    odooLatencyMs: 9, responseBytes: 321,
  }

  it('hashes a record without a query exactly as before the field existed, so old chains still verify', async () => {
    // Computed with the chain code of the release before `query` (v1 content).
    const before = '59940704c223a19a771ef4859ff284468a27b3fd236c4c73dc959017b7e7f2a1'
    expect(await chainHash('a'.repeat(64), 'key_0123456789abcdef', 3, record)).toBe(before)
    expect(await chainHash('a'.repeat(64), 'key_0123456789abcdef', 3, { ...record, query: null })).toBe(before)
    const withQuery = await chainHash('a'.repeat(64), 'key_0123456789abcdef', 3, { ...record, query: { order: 'name asc, id', limit: 50, offset: 0 } })
    expect(withQuery).not.toBe(before)
    // Key order does not matter (JSON may come back from storage in another order).
    expect(await chainHash('a'.repeat(64), 'key_0123456789abcdef', 3, { ...record, query: { offset: 0, limit: 50, order: 'name asc, id' } })).toBe(withQuery)
  })

  it('detects a query altered, removed or added in D1', async () => {
    const key = await createTestKey({ policy: POLICY })
    for (const body of [
      call('search_records', { model: 'sale.order', fields: ['name'], limit: 2 }),
      call('aggregate_records', { model: 'sale.order', groupby: ['state'], aggregates: ['amount_total:sum'] }),
      { jsonrpc: '2.0', id: 1, method: 'ping' },
    ]) {
      await (await postMcp(key.key, body)).arrayBuffer()
    }
    await flushAudit([key.id])
    const genesis = { seq: 0, hash: GENESIS_HASH }
    expect(await verifyChain(key.id, genesis, await chainRecords(key.id))).toEqual([])
    await env.DB.prepare("UPDATE audit_log SET query = json_set(query, '$.limit', 500) WHERE chain_id = ?1 AND seq = 1").bind(key.id).run()
    await env.DB.prepare("UPDATE audit_log SET query = NULL WHERE chain_id = ?1 AND seq = 2").bind(key.id).run()
    await env.DB.prepare(`UPDATE audit_log SET query = '{"limit":1}' WHERE chain_id = ?1 AND seq = 3`).bind(key.id).run()
    expect(await verifyChain(key.id, genesis, await chainRecords(key.id))).toEqual([
      { kind: 'altered', chainId: key.id, seq: 1 },
      { kind: 'altered', chainId: key.id, seq: 2 },
      { kind: 'altered', chainId: key.id, seq: 3 },
    ])
  })
})

/** The D1 binding, with audit_log_legacy in place of audit_log. */
const legacyDb = {
  prepare: (sql: string) => env.DB.prepare(sql.replace(/\baudit_log\b/g, 'audit_log_legacy')),
  batch: (statements: D1PreparedStatement[]) => env.DB.batch(statements),
} as unknown as D1Database

/** audit_log as the first release created it: no `query` column. */
const LEGACY_TABLE = `CREATE TABLE audit_log_legacy (
  chain_id TEXT NOT NULL, seq INTEGER NOT NULL, time INTEGER NOT NULL, request_id TEXT NOT NULL, key_id TEXT, key_name TEXT,
  key_prefix TEXT, odoo_user TEXT, ip TEXT, user_agent TEXT, client_info TEXT, method TEXT, tool TEXT, model TEXT, operation TEXT,
  record_ids TEXT NOT NULL, record_ids_truncated INTEGER NOT NULL, fields TEXT NOT NULL, domain TEXT, outcome TEXT NOT NULL, code TEXT,
  http_status INTEGER NOT NULL, latency_ms INTEGER NOT NULL, odoo_latency_ms INTEGER, response_bytes INTEGER NOT NULL,
  prev_hash TEXT NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (chain_id, seq)) WITHOUT ROWID`

describe('a database created before the query column', () => {
  it('gets the column from the first flush D1 refuses for it; old rows and new ones verify', async () => {
    await env.DB.prepare('DROP TABLE IF EXISTS audit_log_legacy').run()
    await env.DB.prepare(LEGACY_TABLE).run()
    // A chain written by the previous release: no query column at all.
    const old = await linkRecords('key_00000000000000ee', GENESIS_HASH, [1, 2].map((seq) => ({
      seq,
      record: {
        time: Date.now() - 60_000, requestId: `legacy-${seq}-${crypto.randomUUID()}`, keyId: 'key_00000000000000ee', keyName: 'old', keyPrefix: null,
        odooUser: 'admin', ip: null, userAgent: null, clientInfo: null, method: 'tools/call', tool: 'search_records', model: 'res.partner',
        operation: 'search', recordIds: [7], recordIdsTruncated: false, fields: ['name'], domain: null, outcome: 'ok' as const, code: null,
        httpStatus: 200, latencyMs: 3, odooLatencyMs: 2, responseBytes: 99,
      },
    })))
    for (const r of old) {
      await env.DB.prepare(`INSERT INTO audit_log_legacy VALUES (${Array.from({ length: 27 }, (_, i) => `?${i + 1}`).join(', ')})`)
        .bind(r.chainId, r.seq, r.time, r.requestId, r.keyId, r.keyName, r.keyPrefix, r.odooUser, r.ip, r.userAgent, r.clientInfo, r.method,
          r.tool, r.model, r.operation, JSON.stringify(r.recordIds), 0, JSON.stringify(r.fields), null, r.outcome, r.code, r.httpStatus,
          r.latencyMs, r.odooLatencyMs, r.responseBytes, r.prevHash, r.hash)
        .run()
    }

    // The new gateway writes to that table (the object's D1 binding pointed at it).
    const key = await createTestKey({ policy: POLICY })
    await (await postMcp(key.key, { jsonrpc: '2.0', id: 0, method: 'ping' })).arrayBuffer()
    await withObjectDb(key.id, legacyDb)
    const search = await postMcp(key.key, call('search_records', { model: 'sale.order', fields: ['name'], limit: 2 }))
    await search.arrayBuffer()
    expect(await flushAudit([key.id]).then(() => env.DB.prepare("SELECT name FROM pragma_table_info('audit_log_legacy') WHERE name = 'query'").all()))
      .toMatchObject({ results: [{ name: 'query' }] })

    const rows = async (chain: string) =>
      (await env.DB.prepare('SELECT * FROM audit_log_legacy WHERE chain_id = ?1 ORDER BY seq').bind(chain).all()).results.map(rowToRecord)
    const written = await rows(key.id)
    expect(written.map((r) => r.seq)).toEqual([1, 2])
    expect(written[0]!.query).toBeNull()
    expect(written[1]!.query).toMatchObject({ limit: 2, offset: 0 })
    expect(await verifyChain(key.id, { seq: 0, hash: GENESIS_HASH }, written)).toEqual([])
    const legacy = await rows('key_00000000000000ee')
    expect(legacy.map((r) => r.query)).toEqual([null, null])
    expect(await verifyChain('key_00000000000000ee', { seq: 0, hash: GENESIS_HASH }, legacy)).toEqual([])

    // Another object that finds the column already added (it lost the race, or D1 was upgraded by hand) goes on.
    expect(await addAuditColumns(legacyDb)).toEqual([])
    await env.DB.prepare('DROP TABLE audit_log_legacy').run()
  })
})
