/**
 * POST /mcp: hands the already-authenticated, already-parsed JSON-RPC message to a fresh stateless MCP server.
 */
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'
import type { Context } from 'hono'
import { loadConfig } from '../config'
import { createKeySession } from '../gateway/session'
import type { GatewayEnv } from '../http/types'
import { logError } from '../log'
import { keyPolicy } from '../policy/key-policy'
import { toolAvailability } from './availability'
import { createMcpServer } from './server'

export async function handleMcpPost(c: Context<GatewayEnv>): Promise<Response> {
  const requestId = c.get('requestId')
  const message = c.get('rpcMessage')
  c.get('audit').message(message)
  const log = (error: unknown, where: string) => logError(error, where, requestId)
  const server = createMcpServer({
    requestId,
    // Parsed once per isolate per policy text; a policy that does not parse lists no tool.
    tools: toolAvailability(keyPolicy(c.get('apiKey'))),
    calledTool: calledTool(message),
    logError: log,
    audit: c.get('audit'),
    context: () =>
      createKeySession({
        env: c.env,
        config: loadConfig(c.env),
        key: c.get('apiKey'),
        requestId,
        waitUntil: (promise) => c.executionCtx.waitUntil(promise),
        logError: log,
      }),
  })
  // Stateless: no session id, JSON answers (every tool call completes within the request).
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true })
  await server.connect(transport)
  try {
    return await transport.handleRequest(sdkRequest(c.req.raw), { parsedBody: c.get('rpcMessage') })
  } finally {
    c.executionCtx.waitUntil(server.close())
  }
}

/** The tool a tools/call message names. */
function calledTool(message: unknown): string | undefined {
  const { method, params } = message as { method?: unknown; params?: { name?: unknown } }
  return method === 'tools/call' && typeof params?.name === 'string' ? params.name : undefined
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
