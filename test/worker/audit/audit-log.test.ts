/**
 * The audit log end to end: one record per MCP request with the right fields for every kind of outcome, stored
 * before the answer leaves, never holding a secret; durable when D1 fails or the object restarts mid-batch; chained
 * so that altered, inserted and deleted rows show; trimmed by retention without breaking the chain.
 */
import { abortAllDurableObjects } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { verifyChain } from '../../../src/audit/chain'
import { applyRetention } from '../../../src/audit/retention'
import { GENESIS_HASH } from '../../../src/audit/record'
import { displayPrefix, generateApiKey } from '../../../src/keys/key-format'
import { createTestKey, postMcp, sim } from '../helpers'
import { auditByRequestId, chainRecords, flushAudit, keyObject, withObjectDb } from './helpers'

const SALES_POLICY = {
  version: 1,
  models: {
    'sale.order': { operations: ['read'], fields: ['name', 'state', 'amount_total'] },
    'res.partner': { operations: ['read', 'write'], fields: ['name', 'city'] },
  },
  rateLimit: { perMinute: 600, burst: 100 },
}

const call = (name: string, args: Record<string, unknown>, id = 1) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } })
const requestIdOf = (response: Response) => response.headers.get('x-request-id')!

async function recordOf(response: Response, keyIds: string[] = []) {
  await response.arrayBuffer()
  await flushAudit(keyIds)
  const record = await auditByRequestId(requestIdOf(response))
  expect(record, `audit record of ${requestIdOf(response)}`).toBeDefined()
  return record!
}

beforeAll(async () => {
  await sim.reset()
})

describe('one record per request, with the right fields', () => {
  it('records a successful search: who, what, which records and fields, from where, how long', async () => {
    const { id, key } = await createTestKey({ login: 'sales_agent', policy: SALES_POLICY, name: 'n8n sales' })
    const init = await postMcp(key, {
      jsonrpc: '2.0', id: 0, method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'claude-ai', version: '1.2.3' } },
    }, { 'user-agent': 'test-agent/1.0', 'cf-connecting-ip': '203.0.113.9' })
    const initRecord = await recordOf(init, [id])
    expect(initRecord).toMatchObject({ method: 'initialize', clientInfo: 'claude-ai/1.2.3', outcome: 'ok', keyId: id, tool: null })

    const domain = ['!', ['state', '=', 'no such state']]
    const response = await postMcp(key, call('search_records', { model: 'sale.order', domain, fields: ['name', 'amount_total'] }), {
      'user-agent': 'test-agent/1.0',
      'cf-connecting-ip': '203.0.113.9',
    })
    expect(response.status).toBe(200)
    const record = await recordOf(response, [id])
    expect(record).toMatchObject({
      chainId: id,
      keyId: id,
      keyName: 'n8n sales',
      keyPrefix: displayPrefix(key),
      odooUser: 'sales_agent',
      ip: '203.0.113.9',
      userAgent: 'test-agent/1.0',
      method: 'tools/call',
      tool: 'search_records',
      model: 'sale.order',
      operation: 'search',
      fields: ['name', 'amount_total'],
      domain,
      outcome: 'ok',
      code: null,
      httpStatus: 200,
    })
    expect(record.recordIds.length).toBeGreaterThan(0)
    // Odoo's record rule: the agent only sees his own orders (1-3), and only those are recorded as seen.
    expect(record.recordIds.every((recordId) => [1, 2, 3].includes(recordId))).toBe(true)
    expect(record.latencyMs).toBeGreaterThanOrEqual(0)
    expect(record.odooLatencyMs).not.toBeNull()
    expect(record.responseBytes).toBeGreaterThan(50)
    expect(Math.abs(record.time - Date.now())).toBeLessThan(60_000)
  })

  it('records writes with the ids and fields written', async () => {
    const { id, key } = await createTestKey({ login: 'admin', policy: SALES_POLICY })
    const response = await postMcp(key, call('update_records', { model: 'res.partner', ids: [7], values: { city: 'Namur' } }))
    const record = await recordOf(response, [id])
    expect(record).toMatchObject({ operation: 'update', recordIds: [7], fields: ['city'], outcome: 'ok' })
  })

  it('records refusals by the policy and by Odoo, with their reason', async () => {
    const { id, key } = await createTestKey({ login: 'sales_agent', policy: SALES_POLICY })
    const policy = await recordOf(await postMcp(key, call('search_records', { model: 'res.partner', fields: ['email'] })), [id])
    expect(policy).toMatchObject({ outcome: 'denied', code: 'policy_denied', model: 'res.partner', tool: 'search_records' })
    const odoo = await recordOf(await postMcp(key, call('read_records', { model: 'sale.order', ids: [5], fields: ['name'] })), [id])
    expect(odoo).toMatchObject({ outcome: 'denied', code: 'odoo_access_error', recordIds: [5] })
    const badArgs = await recordOf(await postMcp(key, call('search_records', { model: 'sale.order', limit: 'lots' })), [id])
    expect(badArgs).toMatchObject({ outcome: 'denied', code: 'invalid_arguments' })
  })

  it('records malformed requests and unknown methods', async () => {
    const { id, key } = await createTestKey({ policy: SALES_POLICY })
    const parse = await recordOf(await postMcp(key, '{"jsonrpc": "2.0", "id": 1, "method": '), [id])
    expect(parse).toMatchObject({ outcome: 'denied', code: 'parse_error', httpStatus: 400, keyId: id })
    const unknown = await recordOf(await postMcp(key, { jsonrpc: '2.0', id: 1, method: 'resources/destroy' }), [id])
    expect(unknown).toMatchObject({ outcome: 'error', code: 'jsonrpc_-32601', method: 'resources/destroy' })
  })

  it('records refused keys: missing, malformed, unknown (prefix only), revoked, wrong address, rate-limited', async () => {
    const missing = await recordOf(await postMcp(undefined, { jsonrpc: '2.0', id: 1, method: 'ping' }))
    expect(missing).toMatchObject({ outcome: 'denied', code: 'missing_token', keyId: null, httpStatus: 401 })
    expect(missing.chainId).toMatch(/^anon-\d$/)

    const unknownKey = generateApiKey().key
    const unknown = await recordOf(await postMcp(unknownKey, { jsonrpc: '2.0', id: 1, method: 'ping' }))
    expect(unknown).toMatchObject({ outcome: 'denied', code: 'unknown_key', keyId: null, keyPrefix: displayPrefix(unknownKey) })

    const malformed = await recordOf(await postMcp('not-our-key-but-someone-elses-secret', { jsonrpc: '2.0', id: 1, method: 'ping' }))
    expect(malformed).toMatchObject({ outcome: 'denied', code: 'malformed_key', keyPrefix: null })

    const revoked = await createTestKey({ revokedAt: Date.now() - 1000, name: 'old key' })
    const revokedRecord = await recordOf(await postMcp(revoked.key, { jsonrpc: '2.0', id: 1, method: 'ping' }), [revoked.id])
    expect(revokedRecord).toMatchObject({ outcome: 'denied', code: 'revoked_key', keyId: revoked.id, keyName: 'old key', chainId: revoked.id })

    const fenced = await createTestKey({ policy: { ...SALES_POLICY, ip: { allow: ['198.51.100.0/24'] } } })
    const ip = await recordOf(await postMcp(fenced.key, { jsonrpc: '2.0', id: 1, method: 'ping' }, { 'cf-connecting-ip': '203.0.113.50' }), [fenced.id])
    expect(ip).toMatchObject({ outcome: 'denied', code: 'ip_not_allowed', ip: '203.0.113.50', keyId: fenced.id })

    const limited = await createTestKey({ policy: { ...SALES_POLICY, rateLimit: { perMinute: 60, burst: 1 } } })
    await (await postMcp(limited.key, { jsonrpc: '2.0', id: 1, method: 'ping' })).arrayBuffer()
    const rate = await recordOf(await postMcp(limited.key, { jsonrpc: '2.0', id: 2, method: 'ping' }), [limited.id])
    expect(rate).toMatchObject({ outcome: 'denied', code: 'rate_limited', httpStatus: 429, keyId: limited.id })
  })

  it('never stores a secret: not the API key, not the Odoo password, not the Authorization header', async () => {
    const secret = `odoo-password-${crypto.randomUUID()}`
    const { id, key } = await createTestKey({ login: 'admin', secret, policy: SALES_POLICY })
    await (await postMcp(key, call('search_records', { model: 'res.partner', fields: ['name'] }))).arrayBuffer()
    const wrong = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A')
    await (await postMcp(wrong, { jsonrpc: '2.0', id: 1, method: 'ping' })).arrayBuffer()
    await flushAudit([id])
    const { results } = await env.DB.prepare('SELECT * FROM audit_log').all()
    const everything = JSON.stringify(results)
    expect(everything).not.toContain(key.slice(12))
    expect(everything).not.toContain(wrong.slice(12))
    expect(everything).not.toContain(secret)
    expect(everything).not.toContain(env.CREDENTIALS_KEY)
    expect(everything.toLowerCase()).not.toContain('bearer')
  })
})

describe('durability', () => {
  it('keeps records in the key object while D1 fails, and delivers them all once it is back', async () => {
    const { id, key } = await createTestKey({ policy: SALES_POLICY })
    const first = await postMcp(key, { jsonrpc: '2.0', id: 'first', method: 'ping' }) // the object caches the key
    await first.arrayBuffer()
    await keyObject(id).flushAudit()
    await withObjectDb(id, { prepare: env.DB.prepare.bind(env.DB), batch: () => Promise.reject(new Error('D1_ERROR: Network connection lost.')) })
    const responses = await Promise.all(Array.from({ length: 12 }, (_, index) => postMcp(key, { jsonrpc: '2.0', id: index, method: 'ping' })))
    expect(responses.map((response) => response.status)).toEqual(Array(12).fill(200))
    const failed = await keyObject(id).flushAudit()
    expect(failed).toMatchObject({ sent: 0, pending: 12 })
    expect(failed.error).toMatch(/Network connection lost/)
    expect(await chainRecords(id)).toHaveLength(1)

    await withObjectDb(id, env.DB)
    expect(await keyObject(id).flushAudit()).toMatchObject({ sent: 12, pending: 0 })
    const records = await chainRecords(id)
    // The count of audit records equals the count of requests, in order, with no gap.
    expect(records.map((record) => record.seq)).toEqual(Array.from({ length: 13 }, (_, index) => index + 1))
    expect(new Set(records.map((record) => record.requestId))).toEqual(new Set([first, ...responses].map(requestIdOf)))
    expect(await verifyChain(id, { seq: 0, hash: GENESIS_HASH }, records)).toEqual([])
  })

  it('loses and doubles nothing when the object restarts after D1 committed a batch but before it knew', async () => {
    const { id, key } = await createTestKey({ policy: SALES_POLICY })
    for (let index = 0; index < 5; index++) await (await postMcp(key, { jsonrpc: '2.0', id: index, method: 'ping' })).arrayBuffer()
    // D1 commits, then the connection drops before the object hears back.
    await withObjectDb(id, {
      prepare: env.DB.prepare.bind(env.DB),
      batch: async (statements: D1PreparedStatement[]) => {
        await env.DB.batch(statements)
        throw new Error('D1_ERROR: Network connection lost.')
      },
    })
    expect((await keyObject(id).flushAudit()).pending).toBe(5)
    expect(await chainRecords(id)).toHaveLength(5)
    await abortAllDurableObjects() // the restart: a new instance with the real binding, outbox read back from storage
    for (let index = 5; index < 8; index++) await (await postMcp(key, { jsonrpc: '2.0', id: index, method: 'ping' })).arrayBuffer()
    expect(await keyObject(id).flushAudit()).toMatchObject({ pending: 0 })
    const records = await chainRecords(id)
    expect(records.map((record) => record.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(await verifyChain(id, { seq: 0, hash: GENESIS_HASH }, records)).toEqual([])
  })

  it('stores a retried append once: the Worker asks again when an object restart lost the first answer', async () => {
    const { id } = await createTestKey({ policy: SALES_POLICY })
    const record = (requestId: string) => ({
      time: Date.now(), requestId, keyId: id, keyName: 'k', keyPrefix: 'omk_xxxxxxxx', odooUser: 'admin', ip: '203.0.113.1',
      userAgent: null, clientInfo: null, method: 'tools/call', tool: 'search_records', model: 'res.partner', operation: 'read',
      recordIds: [7], recordIdsTruncated: false, fields: ['name'], domain: null, outcome: 'ok' as const, code: null,
      httpStatus: 200, latencyMs: 1, odooLatencyMs: 1, responseBytes: 10,
    })
    const first = await keyObject(id).appendAudit(record(`retry-${id}-a`))
    await abortAllDurableObjects() // the restart that cut the first call's answer
    // The retry of a record the object did store finds it; the retry of one it did not store appends it.
    expect(await keyObject(id).appendAudit(record(`retry-${id}-a`), true)).toBe(first)
    expect(await keyObject(id).appendAudit(record(`retry-${id}-b`), true)).toBe(first + 1)
    await flushAudit([id])
    const records = await chainRecords(id)
    expect(records.map((r) => r.requestId)).toEqual([`retry-${id}-a`, `retry-${id}-b`])
    expect(await verifyChain(id, { seq: 0, hash: GENESIS_HASH }, records)).toEqual([])
  })

  it('gets records to D1 by itself, from the alarm', async () => {
    const { key } = await createTestKey({ policy: SALES_POLICY })
    const response = await postMcp(key, { jsonrpc: '2.0', id: 1, method: 'ping' })
    await response.arrayBuffer()
    const deadline = Date.now() + 5_000
    while (!(await auditByRequestId(requestIdOf(response))) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
    expect(await auditByRequestId(requestIdOf(response))).toBeDefined()
  })
})

describe('hash chain', () => {
  async function chainOf(count: number) {
    const { id, key } = await createTestKey({ policy: SALES_POLICY })
    for (let index = 0; index < count; index++) await (await postMcp(key, { jsonrpc: '2.0', id: index, method: 'ping' })).arrayBuffer()
    await flushAudit([id])
    return id
  }
  const genesis = { seq: 0, hash: GENESIS_HASH }

  it('verifies an intact chain', async () => {
    const id = await chainOf(6)
    expect(await verifyChain(id, genesis, await chainRecords(id))).toEqual([])
  })

  it('detects an altered record', async () => {
    const id = await chainOf(6)
    await env.DB.prepare("UPDATE audit_log SET ip = '10.9.9.9' WHERE chain_id = ?1 AND seq = 3").bind(id).run()
    expect(await verifyChain(id, genesis, await chainRecords(id))).toEqual([{ kind: 'altered', chainId: id, seq: 3 }])
  })

  it('detects a deleted record', async () => {
    const id = await chainOf(6)
    await env.DB.prepare('DELETE FROM audit_log WHERE chain_id = ?1 AND seq = 4').bind(id).run()
    expect(await verifyChain(id, genesis, await chainRecords(id))).toEqual([{ kind: 'missing', chainId: id, afterSeq: 3, beforeSeq: 5 }])
  })

  it('detects a record inserted in place of another, even with a recomputed own hash', async () => {
    const id = await chainOf(6)
    const [, , third] = await chainRecords(id)
    // A forger replaces record 3 with one whose hash is right for its own content but not linked to record 2.
    const forged = { ...third!, ip: '10.0.0.1', prevHash: 'f'.repeat(64) }
    const { chainHash } = await import('../../../src/audit/chain')
    forged.hash = await chainHash(forged.prevHash, id, 3, forged)
    await env.DB.prepare('UPDATE audit_log SET ip = ?1, prev_hash = ?2, hash = ?3 WHERE chain_id = ?4 AND seq = 3')
      .bind(forged.ip, forged.prevHash, forged.hash, id)
      .run()
    const problems = await verifyChain(id, genesis, await chainRecords(id))
    expect(problems).toContainEqual({ kind: 'broken_link', chainId: id, seq: 3 })
    expect(problems).toContainEqual({ kind: 'broken_link', chainId: id, seq: 4 })
  })
})

describe('retention', () => {
  it('deletes records older than AUDIT_RETENTION_DAYS, keeps an anchor, and the rest still verifies', async () => {
    const { id } = await createTestKey({ policy: SALES_POLICY })
    const day = 86_400_000
    const now = Date.now()
    const base = (await chainRecords(id)).length
    expect(base).toBe(0)
    // Five records from 100 days ago, three from last week, appended as the gateway would.
    for (const [index, age] of [100, 100, 100, 100, 100, 7, 7, 7].entries()) {
      await keyObject(id).appendAudit({
        time: now - age * day + index, requestId: `old-${id}-${index}`, keyId: id, keyName: 'k', keyPrefix: 'omk_xxxxxxxx',
        odooUser: 'admin', ip: '203.0.113.1', userAgent: null, clientInfo: null, method: 'ping', tool: null, model: null,
        operation: null, recordIds: [], recordIdsTruncated: false, fields: [], domain: null, outcome: 'ok', code: null,
        httpStatus: 200, latencyMs: 1, odooLatencyMs: null, responseBytes: 10,
      })
    }
    await flushAudit([id])
    const result = await applyRetention({ DB: env.DB, AUDIT_RETENTION_DAYS: '90' }, now)
    expect(result.deleted).toBeGreaterThanOrEqual(5)
    const remaining = await chainRecords(id)
    expect(remaining.map((record) => record.seq)).toEqual([6, 7, 8])
    const anchor = await env.DB.prepare('SELECT seq, hash FROM audit_anchors WHERE chain_id = ?1').bind(id).first<{ seq: number; hash: string }>()
    expect(anchor?.seq).toBe(5)
    expect(await verifyChain(id, anchor!, remaining)).toEqual([])
    // Without the anchor the gap would be reported: the anchor is what keeps the chain verifiable.
    expect(await verifyChain(id, { seq: 0, hash: GENESIS_HASH }, remaining)).not.toEqual([])
  })

  it('runs from the Cron Trigger', async () => {
    const { createScheduledController } = await import('cloudflare:test')
    const { id } = await createTestKey({ policy: SALES_POLICY })
    await keyObject(id).appendAudit({
      time: Date.now() - 400 * 86_400_000, requestId: `ancient-${id}`, keyId: id, keyName: 'k', keyPrefix: null, odooUser: null,
      ip: null, userAgent: null, clientInfo: null, method: 'ping', tool: null, model: null, operation: null, recordIds: [],
      recordIdsTruncated: false, fields: [], domain: null, outcome: 'ok', code: null, httpStatus: 200, latencyMs: 1,
      odooLatencyMs: null, responseBytes: 1,
    })
    await flushAudit([id])
    expect(await auditByRequestId(`ancient-${id}`)).toBeDefined()
    const ctx = { waitUntil: (promise: Promise<unknown>) => pending.push(promise), passThroughOnException() {}, props: {} }
    const pending: Promise<unknown>[] = []
    const { default: worker } = await import('../../../src/index')
    await worker.scheduled(createScheduledController({ cron: '0 * * * *' }), env, ctx as unknown as ExecutionContext)
    await Promise.all(pending)
    expect(await auditByRequestId(`ancient-${id}`)).toBeUndefined()
  })
})

describe('chain heads through the admin API', () => {
  it("compares each chain's last row with the head its object holds: a deleted tail shows", async () => {
    const { admin } = await import('../admin-api/client')
    const { id, key } = await createTestKey({ policy: SALES_POLICY })
    for (let index = 0; index < 3; index++) await (await postMcp(key, { jsonrpc: '2.0', id: index, method: 'ping' })).arrayBuffer()
    await flushAudit([id])
    const last = (await chainRecords(id)).at(-1)!
    expect(await keyObject(id).auditHead()).toMatchObject({ chainId: id, seq: last.seq, hash: last.hash, pending: 0 })
    const verify = (body: unknown) => admin<{ heads_checked: number; problems: unknown[]; next_cursor: string | null }>('POST', '/audit/verify', body)
    const clean = await verify({ key: id })
    expect(clean.status).toBe(200)
    expect(clean.body).toMatchObject({ heads_checked: 1, problems: [], next_cursor: null })
    expect((await verify({ key: 'anon-0' })).body).toMatchObject({ problems: [], next_cursor: null })
    // The chain alone still links perfectly without its last row: only the head tells.
    await env.DB.prepare('DELETE FROM audit_log WHERE chain_id = ?1 AND seq = ?2').bind(id, last.seq).run()
    expect((await verify({ key: id })).body.problems).toEqual([{ kind: 'tail_missing', chainId: id, lastSeq: last.seq - 1, headSeq: last.seq }])
    for (const bad of ['{"key": "key_x; DROP"}', '{"chains": "all"}', 'nope']) expect((await verify(bad)).status).toBe(400)
  })
})
