/**
 * Cheap refusals for /mcp, before any key lookup or parsing: browser origin (DNS-rebinding protection) and content
 * type. Body size and JSON shape are checked after authentication (readJsonRpcBody), so an anonymous caller
 * cannot make the gateway read a body at all.
 */
import type { MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { httpError, jsonRpcError } from './errors'
import type { GatewayEnv } from './types'

/** Largest accepted JSON-RPC message: 1 MiB. */
export const MAX_BODY_BYTES = 1024 * 1024
/**
 * Deepest nesting of objects and arrays accepted in a message. A tool call with a domain is about 6 levels deep and
 * nested one2many commands add 3 a level; a 1 MiB body can nest 500,000 levels, which would reach Odoo (a recursive
 * JSON parser) or recursive code on the way.
 */
export const MAX_JSON_DEPTH = 64

/** Whether a parsed JSON value nests objects/arrays deeper than `limit`; iterative, so any depth is safe to check. */
function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]]
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!
    if (depth > limit) return true
    for (const child of Array.isArray(current) ? current : Object.values(current as object)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1])
    }
  }
  return false
}

/**
 * Refuses browser requests from origins that are not configured. Non-browser clients send no Origin and pass; a
 * page on an attacker's site (or a DNS-rebound name) sends its own origin and is refused.
 */
export function originGuard(allowedOrigins: () => ReadonlySet<string>): MiddlewareHandler<GatewayEnv> {
  return async function originGuard(c, next) {
    const origin = c.req.header('origin')
    if (origin !== undefined && !allowedOrigins().has(origin.trim().toLowerCase())) {
      return httpError(c, 403, 'origin_not_allowed', `Origin '${origin.slice(0, 200)}' is not allowed to call this gateway`)
    }
    return next()
  }
}

export function requireJsonContentType(): MiddlewareHandler<GatewayEnv> {
  return async function requireJsonContentType(c, next) {
    const mediaType = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
    if (mediaType !== 'application/json') {
      return httpError(c, 415, 'unsupported_media_type', 'Content-Type must be application/json')
    }
    return next()
  }
}

/**
 * Reads the body (at most {@link MAX_BODY_BYTES}) and parses one JSON-RPC message. Batches (JSON arrays) are refused:
 * MCP 2025-06-18 removed them, and one message per POST keeps per-call accounting exact.
 */
export function readJsonRpcBody(): MiddlewareHandler<GatewayEnv>[] {
  return [
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => httpError(c, 413, 'payload_too_large', `Request body exceeds ${MAX_BODY_BYTES} bytes`),
    }),
    async function parseJsonRpc(c, next) {
      let message: unknown
      try {
        message = JSON.parse(await c.req.text())
      } catch {
        return jsonRpcError(c, 400, -32700, 'Parse error: the body is not valid JSON')
      }
      if (Array.isArray(message)) {
        return jsonRpcError(c, 400, -32600, 'Invalid Request: batches are not supported; send one JSON-RPC message per request')
      }
      if (message === null || typeof message !== 'object') {
        return jsonRpcError(c, 400, -32600, 'Invalid Request: the body must be a JSON-RPC 2.0 message object')
      }
      if (nestedDeeperThan(message, MAX_JSON_DEPTH)) {
        return jsonRpcError(c, 400, -32600, `Invalid Request: the message nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep`)
      }
      c.set('rpcMessage', message)
      return next()
    },
  ]
}

/** JSON-RPC code of MCP's HeaderMismatch error (SEP-2243, protocol 2026-07-28). */
export const HEADER_MISMATCH = -32020
/** The methods whose target `Mcp-Name` mirrors, and the parameter that names it. */
const NAME_PARAMETER: Record<string, 'name' | 'uri'> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
  'resources/subscribe': 'uri',
  'resources/unsubscribe': 'uri',
}

/**
 * `Mcp-Method` and `Mcp-Name` (MCP 2026-07-28, SEP-2243) exist so that a load balancer, a WAF or a rate limiter can
 * route and authorize without reading the body. A header that says `tools/list` over a body that calls a tool is an
 * attack on whoever trusts the header, so whenever a client sends them, they must say exactly what the body says:
 * `Mcp-Method` = `method`, and `Mcp-Name` = the tool's name (`params.name`) or the resource's URI (`params.uri`) on
 * the methods that address one, and absent elsewhere. Otherwise: HTTP 400, JSON-RPC HeaderMismatch (-32020). Clients
 * of the 2025 revisions do not send them, and nothing here requires them.
 */
export function requireMatchingRoutingHeaders(): MiddlewareHandler<GatewayEnv> {
  return async function requireMatchingRoutingHeaders(c, next) {
    const methodHeader = c.req.header('mcp-method')
    const nameHeader = c.req.header('mcp-name')
    if (methodHeader === undefined && nameHeader === undefined) return next()
    const message = c.get('rpcMessage') as { method?: unknown; params?: Record<string, unknown> }
    const method = typeof message.method === 'string' ? message.method : undefined
    const quoted = (value: string) => JSON.stringify(value.slice(0, 100))
    if (methodHeader !== undefined && methodHeader !== method) {
      return jsonRpcError(
        c,
        400,
        HEADER_MISMATCH,
        `Header mismatch: Mcp-Method is ${quoted(methodHeader)} but the body's method is ${method === undefined ? 'missing' : quoted(method)}`,
      )
    }
    const parameter = method === undefined ? undefined : NAME_PARAMETER[method]
    const target = parameter ? message.params?.[parameter] : undefined
    if (nameHeader !== undefined && nameHeader !== target) {
      const body = typeof target === 'string' ? `the body's params.${parameter} is ${quoted(target)}` : `the body names no ${parameter ?? 'tool, prompt or resource'}`
      return jsonRpcError(c, 400, HEADER_MISMATCH, `Header mismatch: Mcp-Name is ${quoted(nameHeader)} but ${body}`)
    }
    return next()
  }
}

