/**
 * Which MCP requests the key's object answers (gateway/key-call.ts `KeyWork`), and which the edge answers with the
 * SDK (mcp/server.ts). Allowlist: only a well-formed tools/list, and a well-formed tools/call naming one of the
 * gateway's tools, go to the object; anything else — initialize, ping, notifications, other methods, malformed
 * params, an unsupported MCP-Protocol-Version — is the SDK's to answer (or refuse) at the edge, as it always did.
 *
 * "Well-formed" is what the SDK's own request schemas accept (JSON-RPC 2.0 request with a string or integer id;
 * tools/call params with a string `name`, an object `arguments` if any, an object `_meta` if any). A tool call's
 * arguments are validated here, against the tool's input schema; the object gets them parsed, or the error.
 */
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js'
import type { KeyToolWork } from '../gateway/key-call'
import { isPlainObject, toolCallWork, toolNamed } from './tool-schemas'

/** The JSON-RPC id of a request: a string or an integer (the SDK's RequestIdSchema). */
export function requestIdOf(message: unknown): string | number | null {
  const id = (message as { id?: unknown }).id
  return typeof id === 'string' || (typeof id === 'number' && Number.isInteger(id)) ? id : null
}

export function keyWorkOf(message: unknown, protocolVersionHeader: string | undefined): KeyToolWork | undefined {
  if (!isPlainObject(message) || message.jsonrpc !== '2.0') return undefined
  const rpcId = requestIdOf(message)
  if (rpcId === null) return undefined
  // The SDK refuses a version it does not support (HTTP 400); it is the one to say so.
  if (protocolVersionHeader !== undefined && !SUPPORTED_PROTOCOL_VERSIONS.includes(protocolVersionHeader)) return undefined
  const params = message.params
  if (params !== undefined && !isPlainObject(params)) return undefined
  if (params?._meta !== undefined && !isPlainObject(params._meta)) return undefined

  if (message.method === 'tools/list') {
    if (params?.cursor !== undefined && typeof params.cursor !== 'string') return undefined
    return { kind: 'list_tools', rpcId }
  }
  if (message.method === 'tools/call') {
    if (!params || typeof params.name !== 'string') return undefined
    if (params.arguments !== undefined && !isPlainObject(params.arguments)) return undefined
    const tool = toolNamed(params.name)
    // Not a tool of this gateway: the SDK says "Tool ... not found".
    if (!tool) return undefined
    return toolCallWork(tool, rpcId, params.arguments, 'legacy')
  }
  return undefined
}
