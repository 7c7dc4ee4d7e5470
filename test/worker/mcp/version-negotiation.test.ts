/**
 * Clients newer than the gateway open with a protocol version it does not speak (a revision after 2026-07-28, with
 * `server/discover` or a newer MCP-Protocol-Version) and fall back on the SDK's answer. That answer goes back
 * unchanged (it is what makes the client fall back), and the audit record says what happened: outcome `ok`, code
 * `protocol_version_fallback`, not an error. Other errors, an older or malformed protocol version included, stay
 * errors. 2026-07-28 itself is served (test/worker/mcp/modern.test.ts): its `server/discover` is a plain success.
 */
import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js'
import { beforeAll, describe, expect, it } from 'vitest'
import { PROTOCOL_VERSION_FALLBACK } from '../../../src/audit/record'
import { auditByRequestId, flushAudit } from '../audit/helpers'
import { createTestKey, gatewayFetch, MCP_URL, postMcp } from '../helpers'
import { FULL_ACCESS } from './policies'

/** A revision newer than any the gateway serves, sent without the 2026 envelope (as a 2025-style client would). */
const NEWER = '2031-01-01'
const discover = { jsonrpc: '2.0', id: 1, method: 'server/discover', params: {} }

let keyId: string
let key: string

beforeAll(async () => {
  ;({ id: keyId, key } = await createTestKey({ policy: FULL_ACCESS }))
})

/** A POST to /mcp without an MCP-Protocol-Version header (postMcp always sends one). */
function postWithoutVersion(body: unknown): Promise<Response> {
  return gatewayFetch(MCP_URL, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  })
}

async function answerAndRecord(response: Response) {
  const body = (await response.json()) as { jsonrpc: string; id: unknown; error?: { code: number; message: string }; result?: unknown }
  await flushAudit([keyId])
  const record = await auditByRequestId(response.headers.get('x-request-id')!)
  expect(record).toBeDefined()
  return { status: response.status, body, record: record! }
}

describe('protocol version negotiation in the audit log', () => {
  it('records server/discover with a newer MCP-Protocol-Version as a fallback, and answers as the SDK does', async () => {
    const { status, body, record } = await answerAndRecord(await postMcp(key, discover, { 'mcp-protocol-version': NEWER }))
    // Unchanged: the SDK's HTTP 400 / -32000, which clients fall back on (never -32022, which would stop them).
    expect(status).toBe(400)
    expect(body).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32000, message: `Bad Request: Unsupported protocol version: ${NEWER} (supported versions: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})` },
    })
    expect(record).toMatchObject({ method: 'server/discover', keyId, outcome: 'ok', code: PROTOCOL_VERSION_FALLBACK, httpStatus: 400 })
  })

  it('answers server/discover of 2026-07-28 (envelope and headers) and records a plain success', async () => {
    const envelope = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} }
    const { status, body, record } = await answerAndRecord(
      await postMcp(key, { ...discover, params: { _meta: envelope } }, { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'server/discover' }),
    )
    expect(status).toBe(200)
    expect(body.result).toMatchObject({ supportedVersions: ['2026-07-28'], capabilities: { tools: { listChanged: false } }, resultType: 'complete' })
    expect(record).toMatchObject({ method: 'server/discover', outcome: 'ok', code: null, httpStatus: 200 })
  })

  it('records server/discover without a version header, or with a supported one, as a fallback', async () => {
    for (const response of [await postWithoutVersion(discover), await postMcp(key, discover, { 'mcp-protocol-version': LATEST_PROTOCOL_VERSION })]) {
      const { status, body, record } = await answerAndRecord(response)
      expect(status).toBe(200)
      expect(body).toMatchObject({ jsonrpc: '2.0', id: 1, error: { code: -32601, message: expect.stringMatching(/Method not found/) } })
      expect(body.result).toBeUndefined()
      expect(record).toMatchObject({ method: 'server/discover', outcome: 'ok', code: PROTOCOL_VERSION_FALLBACK, httpStatus: 200 })
    }
  })

  it('records an opening request sent with a newer protocol version as a fallback', async () => {
    const { status, body, record } = await answerAndRecord(await postMcp(key, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, { 'mcp-protocol-version': NEWER }))
    expect(status).toBe(400)
    expect(body.error?.code).toBe(-32000)
    expect(record).toMatchObject({ method: 'tools/list', outcome: 'ok', code: PROTOCOL_VERSION_FALLBACK })
  })

  it('keeps a tool call refused for a newer (or impossible) version an error: no ok record names a call that did not run', async () => {
    const call = { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'delete_records', arguments: { model: 'res.partner', ids: [1] } } }
    for (const version of [NEWER, '2999-01-01']) {
      const { status, record } = await answerAndRecord(await postMcp(key, call, { 'mcp-protocol-version': version }))
      expect(status).toBe(400)
      expect(record).toMatchObject({ method: 'tools/call', outcome: 'error', code: 'jsonrpc_-32000' })
    }
    const impossible = await answerAndRecord(await postMcp(key, { jsonrpc: '2.0', id: 5, method: 'tools/list' }, { 'mcp-protocol-version': '9999-99-99' }))
    expect(impossible.record).toMatchObject({ outcome: 'error', code: 'jsonrpc_-32000' })
  })

  it('then records the fallback initialize as a plain success', async () => {
    const { status, body, record } = await answerAndRecord(
      await postWithoutVersion({
        jsonrpc: '2.0',
        id: 3,
        method: 'initialize',
        params: { protocolVersion: NEWER, capabilities: {}, clientInfo: { name: 'newer-client', version: '1' } },
      }),
    )
    expect(status).toBe(200)
    expect(body.result).toMatchObject({ protocolVersion: LATEST_PROTOCOL_VERSION })
    expect(record).toMatchObject({ method: 'initialize', outcome: 'ok', code: null })
  })

  it('keeps other errors errors: an older or malformed version, an unknown method, a refused key', async () => {
    const older = await answerAndRecord(await postMcp(key, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { 'mcp-protocol-version': '1999-01-01' }))
    expect(older.status).toBe(400)
    expect(older.record).toMatchObject({ outcome: 'error', code: 'jsonrpc_-32000' })
    const malformed = await answerAndRecord(await postMcp(key, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { 'mcp-protocol-version': '2026-07-28; drop' }))
    expect(malformed.status).toBe(400)
    expect(malformed.record).toMatchObject({ outcome: 'error', code: 'jsonrpc_-32000' })
    const unknown = await answerAndRecord(await postMcp(key, { jsonrpc: '2.0', id: 1, method: 'server/discovery' }))
    expect(unknown.body.error?.code).toBe(-32601)
    expect(unknown.record).toMatchObject({ outcome: 'error', code: 'jsonrpc_-32601' })

    const anonymous = await gatewayFetch(MCP_URL, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': NEWER },
      body: JSON.stringify(discover),
    })
    expect(anonymous.status).toBe(401)
    await anonymous.arrayBuffer()
    await flushAudit()
    expect(await auditByRequestId(anonymous.headers.get('x-request-id')!)).toMatchObject({ outcome: 'denied', code: 'missing_token' })
  })
})
