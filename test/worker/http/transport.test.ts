import { describe, expect, it } from 'vitest'
import { createTestKey, gatewayFetch, MCP_URL, postMcp } from '../helpers'

const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
}

async function expectJsonError(response: Response, status: number, code: string) {
  expect(response.status).toBe(status)
  expect(response.headers.get('content-type')).toMatch(/application\/json/)
  const body = (await response.json()) as { error: string; message: string; request_id: string }
  expect(body.error).toBe(code)
  expect(body.message.length).toBeGreaterThan(10)
  expect(body.request_id).toBe(response.headers.get('x-request-id'))
  return body
}

describe('transport guard on /mcp', () => {
  it('answers GET and DELETE with 405 and a JSON body', async () => {
    for (const method of ['GET', 'DELETE', 'PUT']) {
      const response = await gatewayFetch(MCP_URL, { method })
      const body = await expectJsonError(response, 405, 'method_not_allowed')
      expect(response.headers.get('allow')).toBe('POST')
      expect(body.message).toContain(method)
    }
  })

  it('refuses a wrong content type with 415', async () => {
    const { key } = await createTestKey()
    await expectJsonError(await postMcp(key, JSON.stringify(initialize), { 'content-type': 'text/plain' }), 415, 'unsupported_media_type')
    await expectJsonError(await postMcp(key, 'a=1', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type')
  })

  it('accepts application/json with a charset parameter', async () => {
    const { key } = await createTestKey()
    const response = await postMcp(key, initialize, { 'content-type': 'application/json; charset=utf-8' })
    expect(response.status).toBe(200)
  })

  it('refuses a body over 1 MiB with 413', async () => {
    const { key } = await createTestKey()
    const big = JSON.stringify({ ...initialize, padding: 'x'.repeat(1024 * 1024) })
    await expectJsonError(await postMcp(key, big), 413, 'payload_too_large')
  })

  it('refuses a body over 1 MiB sent without Content-Length (chunked)', async () => {
    const { key } = await createTestKey()
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024))
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 20; i++) controller.enqueue(chunk)
        controller.close()
      },
    })
    const response = await gatewayFetch(MCP_URL, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: stream,
    })
    await expectJsonError(response, 413, 'payload_too_large')
  })

  it('answers malformed JSON with JSON-RPC -32700', async () => {
    const { key } = await createTestKey()
    const response = await postMcp(key, '{"jsonrpc": "2.0", "id": 1, "method": ')
    expect(response.status).toBe(400)
    const body = (await response.json()) as { id: null; error: { code: number; message: string } }
    expect(body).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } })
    expect(body.error.message).toMatch(/not valid JSON/)
  })

  it('refuses JSON-RPC batches and non-object bodies with -32600', async () => {
    const { key } = await createTestKey()
    for (const body of [[initialize, initialize], 42, 'null']) {
      const response = await postMcp(key, typeof body === 'string' ? body : JSON.stringify(body))
      expect(response.status).toBe(400)
      expect(((await response.json()) as { error: { code: number } }).error.code).toBe(-32600)
    }
  })

  it('answers an unknown method with -32601', async () => {
    const { key } = await createTestKey()
    const response = await postMcp(key, { jsonrpc: '2.0', id: 7, method: 'no/such/method', params: {} })
    const body = (await response.json()) as { id: number; error: { code: number } }
    expect(body).toMatchObject({ id: 7, error: { code: -32601 } })
  })

  it('refuses a browser Origin that is not configured (DNS rebinding) before looking at the key', async () => {
    const response = await postMcp(undefined, initialize, { origin: 'http://evil.example' })
    const body = await expectJsonError(response, 403, 'origin_not_allowed')
    expect(body.message).toContain('http://evil.example')
  })

  it('accepts a configured Origin and answers CORS preflights for it only', async () => {
    const { key } = await createTestKey()
    const allowed = await postMcp(key, initialize, { origin: 'https://allowed.example' })
    expect(allowed.status).toBe(200)
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://allowed.example')

    const preflight = await gatewayFetch(MCP_URL, {
      method: 'OPTIONS',
      headers: { origin: 'https://allowed.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization')

    const evil = await gatewayFetch(MCP_URL, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    })
    expect(evil.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('refuses an unsupported MCP-Protocol-Version header with 400', async () => {
    const { key } = await createTestKey()
    const response = await postMcp(key, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { 'mcp-protocol-version': '1999-01-01' })
    expect(response.status).toBe(400)
    expect(await response.text()).toMatch(/Unsupported protocol version/)
  })

  it('serves clients that accept only application/json', async () => {
    const { key } = await createTestKey()
    const response = await postMcp(key, initialize, { accept: 'application/json' })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/application\/json/)
  })

  it('answers unknown paths with a JSON 404, and /healthz with 200', async () => {
    await expectJsonError(await gatewayFetch('http://gateway.test/nope'), 404, 'not_found')
    expect((await gatewayFetch('http://gateway.test/healthz')).status).toBe(200)
  })
})
