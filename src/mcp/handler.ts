/**
 * POST /mcp, once the key is identified and the message parsed: a request that needs the key (mcp/edge-requests.ts
 * for the 2025 revisions, mcp/modern.ts for 2026-07-28) is answered by the key's object in one call
 * (http/key-object-call.ts); any other is answered here by the SDK (a fresh stateless v1 server for 2025, the v2
 * handler for 2026-07-28), and the audit middleware then has the key's object admit and record it (http/audit.ts).
 */
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'
import type { Context } from 'hono'
import type { GatewayEnv } from '../http/types'
import { callKeyObject } from '../http/key-object-call'
import { logError } from '../log'
import { keyWorkOf } from './edge-requests'
import { answerModernAtEdge, isModernRequest, modernKeyWork } from './modern'
import { createEdgeMcpServer } from './server'

export async function handleMcpPost(c: Context<GatewayEnv>): Promise<Response> {
  const requestId = c.get('requestId')
  const message = c.get('rpcMessage')
  c.get('audit').message(message)
  // MCP 2026-07-28 (mcp/modern.ts): the v2 SDK at the edge, the key's work in the object.
  if (isModernRequest(message, c.req.header('mcp-protocol-version'))) {
    const work = modernKeyWork(c.req.raw, message)
    return work ? callKeyObject(c, work) : answerModernAtEdge(c.req.raw, message)
  }
  // The 2025 revisions.
  const work = keyWorkOf(message, c.req.header('mcp-protocol-version'))
  if (work) return callKeyObject(c, work)

  const server = createEdgeMcpServer({ requestId, logError: (error, where) => logError(error, where, requestId) })
  // Stateless: no session id, JSON answers (every request completes within the request).
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true })
  await server.connect(transport)
  try {
    return await transport.handleRequest(sdkRequest(c.req.raw), { parsedBody: message })
  } finally {
    c.executionCtx.waitUntil(server.close())
  }
}

/**
 * The SDK insists on `Accept: application/json, text/event-stream`. Every answer of this gateway is plain JSON, so
 * a client that accepts JSON (curl, simple HTTP clients, n8n) is served too instead of getting a 406.
 */
function sdkRequest(request: Request): Request {
  const accept = request.headers.get('accept') ?? ''
  // The body was read already; the SDK gets the parsed message and reads only the headers.
  if (accept.includes('application/json') && accept.includes('text/event-stream')) return request
  const headers = new Headers(request.headers)
  headers.set('accept', 'application/json, text/event-stream')
  return new Request(request.url, { method: 'POST', headers })
}
