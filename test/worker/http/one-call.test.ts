/**
 * The request path's shape, as a property (docs/ARCHITECTURE.md, "Request path"): for any request that presents a
 * key the gateway knows, the edge Worker
 *   - makes exactly one call to the key's object (one wide-area round trip when the object sits next to Odoo),
 *   - never calls Odoo itself, and never an unauthenticated chain's object,
 * and the audit record the object appends describes the answer the client got: same HTTP status, same body size.
 *
 * The Worker runs with an edge environment whose hops are counted: every method called on a key object stub, every
 * unauthenticated-chain call; its ODOO_URL points at an address that does not resolve, so an Odoo call made by the
 * edge would fail the tool call (the object has its own, working environment).
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import worker from '../../../src/index'
import type { Env } from '../../../src/env'
import { newAuditRecord } from '../../../src/audit/record'
import type { KeyAnswer } from '../../../src/gateway/key-call'
import { sha256Hex } from '../../../src/lib/crypto'
import { auditByRequestId, flushAudit, keyObject } from '../audit/helpers'
import { createTestKey, MCP_URL, odooApiKey, type TestKey } from '../helpers'
import { FULL_ACCESS, SALES_AGENT_POLICY } from '../mcp/policies'

interface Hops {
  keyObject: string[]
  unauthenticated: number
}

/** A namespace whose stubs report each method called on them (then call it on the real stub). */
function countedNamespace<T extends DurableObjectNamespace<never>>(namespace: T, onCall: (method: string) => void): T {
  return new Proxy(namespace, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown
      if (typeof value !== 'function') return value
      if (property !== 'get') return value.bind(target)
      return (id: DurableObjectId) => {
        const stub = target.get(id) as unknown as Record<string, (...args: unknown[]) => unknown>
        return new Proxy(
          {},
          {
            get: (_, method) =>
              (...args: unknown[]) => {
                onCall(String(method))
                return stub[String(method)]!(...args)
              },
          },
        )
      }
    },
  })
}

async function send(body: string, headers: Record<string, string>) {
  const hops: Hops = { keyObject: [], unauthenticated: 0 }
  const edgeEnv: Env = {
    ...env,
    ODOO_URL: 'http://odoo-must-not-be-called-from-the-edge.invalid',
    KEY_OBJECTS: countedNamespace(env.KEY_OBJECTS as never, (method) => hops.keyObject.push(method)),
    UNAUTHENTICATED_AUDIT: countedNamespace(env.UNAUTHENTICATED_AUDIT as never, () => hops.unauthenticated++),
  } as Env
  const ctx = createExecutionContext()
  const response = await worker.fetch(new Request(MCP_URL, { method: 'POST', headers, body }), edgeEnv, ctx)
  const bytes = (await response.arrayBuffer()).byteLength
  await waitOnExecutionContext(ctx)
  return { status: response.status, bytes, requestId: response.headers.get('x-request-id')!, hops }
}

const MODERN_ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
}

const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }

let full: TestKey
let readOnly: TestKey
let revoked: TestKey
let throttled: TestKey

beforeAll(async () => {
  full = await createTestKey({ login: 'admin', secret: odooApiKey('admin'), policy: FULL_ACCESS })
  readOnly = await createTestKey({ login: 'admin', secret: odooApiKey('admin'), policy: SALES_AGENT_POLICY })
  revoked = await createTestKey({ login: 'admin', policy: FULL_ACCESS, revokedAt: Date.now() - 1000 })
  throttled = await createTestKey({ login: 'admin', policy: { ...SALES_AGENT_POLICY, rateLimit: { perMinute: 1, burst: 1 } } })
})

/** Messages of every kind the edge meets: answered by the SDK, by the object, or refused on the way. */
const message = fc.oneof(
  fc.constant({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'prop', version: '1' } } }),
  fc.constant({ jsonrpc: '2.0', id: 2, method: 'ping' }),
  fc.constant({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  fc.constant({ jsonrpc: '2.0', id: 'list', method: 'tools/list' }),
  fc.constant({ jsonrpc: '2.0', id: 3, method: 'tools/list', params: { cursor: 7 } }),
  fc.constant({ jsonrpc: '2.0', id: 4, method: 'resources/list' }),
  // MCP 2026-07-28 (mcp/modern.ts): the envelope in _meta; the headers come from `extraHeaders`.
  fc.constantFrom('tools/list', 'server/discover').map((method) => ({ jsonrpc: '2.0', id: 5, method, params: { _meta: MODERN_ENVELOPE } })),
  fc.constantFrom('search_records', 'create_record', 'no_such_tool').map((name) => ({
    jsonrpc: '2.0',
    id: 6,
    method: 'tools/call',
    params: { name, arguments: { model: 'res.partner', fields: ['name'], limit: 1 }, _meta: MODERN_ENVELOPE },
  })),
  fc.record({
    jsonrpc: fc.constant('2.0'),
    id: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.string({ maxLength: 8 })),
    method: fc.constant('tools/call'),
    params: fc.oneof(
      fc.record({
        name: fc.constantFrom('search_records', 'count_records', 'read_records', 'describe_model', 'create_record', 'nonexistent_tool', 'delete_records'),
        arguments: fc.oneof(
          fc.constant({ model: 'res.partner', fields: ['name'], limit: 2 }),
          fc.constant({ model: 'res.partner', domain: [['is_company', '=', true]] }),
          fc.constant({ model: 'res.partner', ids: [1] }),
          fc.constant({ model: 'res.partner', values: { name: 'Prop tëst ☕' } }),
          fc.constant({ model: 'res.partner', domain: [['name', 'ilike', 'tëst']], fields: ['name'] }),
          fc.constant({ model: 'sale.order', limit: 0 }),
          fc.constant({ model: 42 }),
          fc.constant({}),
        ),
      }),
      fc.constant({ name: 17 }),
      fc.constant({ name: 'search_records', arguments: [] }),
    ),
  }),
)
const rawBody = fc.oneof(
  { weight: 6, arbitrary: message.map((value) => JSON.stringify(value)) },
  { weight: 1, arbitrary: fc.constantFrom('{not json', '[]', '"text"', '[{"jsonrpc":"2.0","id":1,"method":"ping"}]') },
)
const extraHeaders = fc.oneof(
  { weight: 5, arbitrary: fc.constant({} as Record<string, string>) },
  { weight: 1, arbitrary: fc.constant({ 'mcp-method': 'tools/list' }) },
  { weight: 1, arbitrary: fc.constant({ 'mcp-protocol-version': '2031-01-01' }) },
  { weight: 1, arbitrary: fc.constant({ accept: 'application/json' }) },
  { weight: 2, arbitrary: fc.constantFrom('tools/list', 'tools/call', 'server/discover').map((method) => ({ 'mcp-protocol-version': '2026-07-28', 'mcp-method': method })) },
  { weight: 2, arbitrary: fc.constantFrom('search_records', 'create_record').map((name) => ({ 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': name })) },
)

describe('one call to the key object per request', () => {
  it('holds for generated requests of every kind and every key state', async () => {
    const checked: { requestId: string; status: number; bytes: number; keyId: string }[] = []
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('full', 'readOnly', 'revoked', 'throttled'), rawBody, extraHeaders, async (who, body, headers) => {
        const key = { full, readOnly, revoked, throttled }[who]
        const answer = await send(body, { ...MCP_HEADERS, authorization: `Bearer ${key.key}`, ...headers })
        expect(answer.hops.keyObject, body).toEqual(['serve'])
        expect(answer.hops.unauthenticated).toBe(0)
        expect(answer.status, body).toBeLessThan(500)
        checked.push({ requestId: answer.requestId, status: answer.status, bytes: answer.bytes, keyId: key.id })
      }),
      { numRuns: 120 },
    )
    await flushAudit([full.id, readOnly.id, revoked.id, throttled.id])
    for (const request of checked) {
      const record = await auditByRequestId(request.requestId)
      expect(record, request.requestId).toBeDefined()
      expect({ key: record!.keyId, status: record!.httpStatus, bytes: record!.responseBytes }).toEqual({
        key: request.keyId,
        status: request.status,
        bytes: request.bytes,
      })
      // A refusal of the key is recorded as such, whatever the edge noticed about the message first (the alert
      // rules count these codes).
      if (request.status === 401) expect(record!.code).toBe('revoked_key')
      if (request.status === 429) expect(record!.code).toBe('rate_limited')
    }
  })

  it("a key the directory knows but the object no longer finds: refused, and recorded on the key's chain", async () => {
    const gone = await createTestKey({ login: 'admin', policy: FULL_ACCESS })
    const ping = '{"jsonrpc":"2.0","id":1,"method":"ping"}'
    const headers = { ...MCP_HEADERS, authorization: `Bearer ${gone.key}` }
    expect((await send(ping, headers)).status).toBe(200)
    await env.DB.batch([
      env.DB.prepare('DELETE FROM api_key_secrets WHERE key_id = ?1').bind(gone.id),
      env.DB.prepare('DELETE FROM api_keys WHERE id = ?1').bind(gone.id),
    ])
    await keyObject(gone.id).refresh(gone.id)
    const answer = await send(ping, headers)
    expect(answer.status).toBe(401)
    expect(answer.hops.keyObject).toEqual(['serve'])
    await flushAudit([gone.id])
    expect(await auditByRequestId(answer.requestId)).toMatchObject({ chainId: gone.id, keyId: gone.id, code: 'unknown_key', httpStatus: 401 })
  })

  it('a retried call whose first call was served is neither admitted nor run again', async () => {
    const limited = await createTestKey({ login: 'admin', policy: { ...FULL_ACCESS, rateLimit: { perMinute: 1, burst: 2 } } })
    const call = (requestId: string, retried: boolean) =>
      keyObject(limited.id).serve({
        admission: { keyId: limited.id, keyHash: limitedHash },
        record: newAuditRecord({ time: Date.now(), requestId }),
        redactDomains: false,
        rpcId: 1,
        work: { kind: 'answered', status: 200, responseBytes: 10 },
        retried,
      }) as unknown as Promise<KeyAnswer>
    const limitedHash = await sha256Hex(limited.key)
    expect((await call('retry-a', false)).kind).toBe('release')
    expect(await call('retry-a', true)).toMatchObject({ kind: 'answer', status: 503 })
    // The retry took no token: the burst of 2 still admits a second request.
    expect((await call('retry-b', false)).kind).toBe('release')
    await flushAudit([limited.id])
    expect(await auditByRequestId('retry-a')).toMatchObject({ httpStatus: 200 })
  })

  it('the record counts the bytes sent, not the characters', async () => {
    const headers = { ...MCP_HEADERS, authorization: `Bearer ${full.key}` }
    const call = (name: string, args: unknown) => JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } })
    await send(call('create_record', { model: 'res.partner', values: { name: 'Bytes tëst ☕ 日本' } }), headers)
    const answer = await send(call('search_records', { model: 'res.partner', domain: [['name', '=', 'Bytes tëst ☕ 日本']], fields: ['name'] }), headers)
    await flushAudit([full.id])
    const record = await auditByRequestId(answer.requestId)
    expect(record?.responseBytes).toBe(answer.bytes)
    expect(record?.recordIds).toHaveLength(1)
  })

  it('a tool call runs in the object: the answer carries Odoo data although the edge cannot reach Odoo', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'search_records', arguments: { model: 'res.partner', fields: ['name'], limit: 1 } } })
    const headers = { ...MCP_HEADERS, authorization: `Bearer ${full.key}` }
    const ctx = createExecutionContext()
    const edgeEnv = { ...env, ODOO_URL: 'http://odoo-must-not-be-called-from-the-edge.invalid' } as Env
    const response = await worker.fetch(new Request(MCP_URL, { method: 'POST', headers, body }), edgeEnv, ctx)
    await waitOnExecutionContext(ctx)
    const answer = (await response.json()) as { result: { isError?: boolean; structuredContent: { records: { name: string }[] } } }
    expect(answer.result.isError).toBeFalsy()
    expect(answer.result.structuredContent.records).toHaveLength(1)
  })

  it('requests without a known key never reach a key object', async () => {
    for (const authorization of [undefined, 'Bearer omk_not-a-key', 'Basic abc']) {
      const answer = await send('{"jsonrpc":"2.0","id":1,"method":"ping"}', { ...MCP_HEADERS, ...(authorization ? { authorization } : {}) })
      expect(answer.status).toBe(401)
      expect(answer.hops.keyObject).toEqual([])
      expect(answer.hops.unauthenticated).toBe(1)
    }
  })
})
