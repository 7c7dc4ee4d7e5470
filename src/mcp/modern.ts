/**
 * MCP 2026-07-28 at the edge (the stateless revision: no initialize, every request carries its protocol version and
 * client capabilities in `params._meta`, `server/discover`, `Mcp-Method`/`Mcp-Name` headers, `resultType`).
 *
 * The 2025 revisions stay on the SDK v1 path (mcp/server.ts); a request is 2026-07-28 when its body claims it in the
 * envelope or its MCP-Protocol-Version header names it. For those:
 * - a valid tools/list, and a valid tools/call of a gateway tool, go to the key's object (mcp/key-answers.ts builds
 *   the 2026 body there: `resultType`, the server's info in `_meta`, cache hints on the list);
 * - everything else — `server/discover`, notifications, other methods, unknown tools and every invalid request — is
 *   answered here by the v2 SDK's own handler (`createMcpHandler` of @modelcontextprotocol/server, `legacy:
 *   'reject'`), so its checks and error bodies are the SDK's.
 *
 * "Valid" is decided without building a server: the SDK's exported `classifyInboundRequest` (JSON-RPC shape, envelope,
 * header/body agreement) plus the rungs `createMcpHandler` runs after it that the SDK does not export (the supported
 * revision, the required headers). A request that fails any of them is left to the SDK, which refuses it; so the
 * object only ever sees requests the SDK would have dispatched (property-tested against the SDK's handler:
 * test/worker/mcp/modern.test.ts).
 */
import { classifyInboundRequest, createMcpHandler, McpServer } from '@modelcontextprotocol/server'
import type { KeyToolWork } from '../gateway/key-call'
import { INSTRUCTIONS, SERVER_INFO } from './server'
import { toolErrorResult } from './tool'
import { isPlainObject, TOOL_SCHEMAS, TOOLS, toolCallWork, toolNamed } from './tool-schemas'

export const MODERN_PROTOCOL_VERSION = '2026-07-28'
const ENVELOPE_VERSION = 'io.modelcontextprotocol/protocolVersion'
export const SERVER_INFO_META = 'io.modelcontextprotocol/serverInfo'
/** How long a client may keep a key's tool list (it changes only with the key's policy). */
export const TOOL_LIST_TTL_MS = 60_000

/** Whether a request speaks 2026-07-28: its envelope claims a revision, or its MCP-Protocol-Version header names it. */
export function isModernRequest(message: unknown, protocolVersionHeader: string | undefined): boolean {
  const meta = isPlainObject(message) && isPlainObject(message.params) ? message.params._meta : undefined
  if (isPlainObject(meta) && Object.hasOwn(meta, ENVELOPE_VERSION)) return true
  return protocolVersionHeader?.trim() === MODERN_PROTOCOL_VERSION
}

/** The key's work for a valid 2026-07-28 tools/list or tools/call of a gateway tool; undefined: the SDK answers. */
export function modernKeyWork(request: Request, message: unknown): KeyToolWork | undefined {
  const headers = {
    protocolVersionHeader: request.headers.get('mcp-protocol-version') ?? undefined,
    mcpMethodHeader: request.headers.get('mcp-method') ?? undefined,
    mcpNameHeader: request.headers.get('mcp-name') ?? undefined,
  }
  const outcome = classifyInboundRequest({ httpMethod: request.method, ...headers, body: message })
  if (outcome.kind !== 'modern' || outcome.messageKind !== 'request') return undefined
  if (outcome.classification.revision !== MODERN_PROTOCOL_VERSION) return undefined
  // The headers a 2026-07-28 request must carry (the SDK checks them after classifying; it does not export the check).
  if (headers.protocolVersionHeader === undefined || headers.mcpMethodHeader === undefined) return undefined
  const { id, method, params } = outcome.message as { id: string | number; method: string; params?: Record<string, unknown> }
  // A cursor the SDK refuses stays the SDK's to refuse (the list has one page: a string cursor is ignored).
  if (method === 'tools/list') return isPlainObject(params) && params.cursor !== undefined && typeof params.cursor !== 'string' ? undefined : { kind: 'list_tools', rpcId: id, era: 'modern' }
  if (method !== 'tools/call' || !isPlainObject(params) || typeof params.name !== 'string') return undefined
  // Mcp-Name must be there and name the tool (http/transport-guard.ts has refused one that names another).
  if (headers.mcpNameHeader?.trim() !== params.name) return undefined
  if (params.arguments !== undefined && !isPlainObject(params.arguments)) return undefined
  const tool = toolNamed(params.name)
  if (!tool) return undefined
  return toolCallWork(tool, id, params.arguments, 'modern')
}

/**
 * The v2 SDK's server for what the edge answers itself. Every gateway tool is registered so that an unknown tool or
 * malformed params get the SDK's answer; none can run here (modernKeyWork sends every valid call to the object).
 */
function edgeServer(): McpServer {
  const server = new McpServer(SERVER_INFO, {
    capabilities: { tools: { listChanged: false } },
    instructions: INSTRUCTIONS,
    cacheHints: { 'tools/list': { ttlMs: TOOL_LIST_TTL_MS, cacheScope: 'private' } },
  })
  for (const tool of TOOLS) {
    const schemas = TOOL_SCHEMAS.get(tool.name)!
    server.registerTool(
      tool.name,
      { title: tool.title, description: tool.description, inputSchema: schemas.input, outputSchema: schemas.output, annotations: { title: tool.title, ...tool.annotations } },
      async () => toolErrorResult(new Error(`2026-07-28 tools/call of ${tool.name} reached the edge's server: mcp/modern.ts let it through`), {
        requestId: 'edge',
        logError: (error) => console.error(JSON.stringify({ level: 'error', where: 'modern edge server', message: String(error) })),
      }),
    )
  }
  return server
}

const modernHandler = createMcpHandler(edgeServer, { legacy: 'reject' })

/** Answers a 2026-07-28 request at the edge with the v2 SDK (the body was read and parsed already). */
export function answerModernAtEdge(request: Request, message: unknown): Promise<Response> {
  return modernHandler.fetch(request, { parsedBody: message })
}
