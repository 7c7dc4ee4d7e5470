/**
 * The audit middleware of /mcp: opens the request's audit record, lets the request run, then makes sure the record
 * is appended to its chain before the response leaves:
 * - a request the key's object answered: the object appended it, in the same call (http/key-object-call.ts);
 * - a request with a key whose answer the edge made (initialize, ping, a refusal of the message): the key's object
 *   admits it and appends the record in one call, then the answer is released (or the object's refusal sent);
 * - a request without a usable key (none, malformed, unknown, or its object unreachable): the record goes to an
 *   unauthenticated chain's object, by the client address.
 *
 * A response with data is never released unaudited: if the record cannot be stored, a successful answer is replaced
 * by 503 `audit_unavailable` (the client may retry). Refusals carry no data and are released either way, and so are
 * the answers a newer client falls back on (`protocol_version_fallback`, see isVersionFallback).
 */
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js'
import type { Context, MiddlewareHandler } from 'hono'
import { PROTOCOL_VERSION_FALLBACK, type AuditRecord } from '../audit/record'
import { AuditTrail } from '../audit/trail'
import { unauthenticatedChainFor } from '../audit/unauthenticated-object'
import type { Env } from '../env'
import { httpErrorBody } from '../errors'
import { retryObjectCallOnce } from '../lib/object-retry'
import { logError } from '../log'
import { clientAddress } from './auth'
import { releaseEdgeAnswer } from './key-object-call'
import type { GatewayEnv } from './types'

/** Bodies above this size are not parsed to find a JSON-RPC error (ours are small; tool results can be large). */
const MAX_INSPECTED_BYTES = 256 * 1024

async function appendOnce(env: Env, record: AuditRecord, retried: boolean): Promise<void> {
  const chain = unauthenticatedChainFor(record.ip)
  await env.UNAUTHENTICATED_AUDIT.get(env.UNAUTHENTICATED_AUDIT.idFromName(chain)).appendAudit(chain, record, retried)
}

/**
 * Appends the record, once more if the object restarted under the call: the Odoo call has already been made, so
 * giving up would leave it unaudited. The retry is marked, and the object does not store a record twice if the first
 * call had stored it before its answer was lost.
 */
function appendToChain(env: Env, record: AuditRecord): Promise<void> {
  let retried = false
  return retryObjectCallOnce(() => {
    const attempt = appendOnce(env, record, retried)
    retried = true
    return attempt
  })
}

/** The request an answer was given to, as far as telling a version negotiation apart needs. */
interface AnsweredRequest {
  status: number
  /** The parsed JSON-RPC message (absent when the gateway refused the request before reading it). */
  message: unknown
  /** The MCP-Protocol-Version header. */
  protocolVersion: string | undefined
}

const JSON_RPC_METHOD_NOT_FOUND = -32601
/** The SDK's code for a transport-level refusal; with HTTP 400 on a POST, only for an unsupported protocol version. */
const SDK_TRANSPORT_ERROR = -32000
/** Protocol versions are dates; a later one than the SDK's latest is a newer client's. */
const PROTOCOL_VERSION = /^20\d{2}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/
/**
 * The requests a newer client opens with, none of which names a tool or a model: a `tools/call` refused for its
 * version stays an error, so no `ok` record ever names a tool call that did not run.
 */
const OPENING_METHODS: ReadonlySet<string> = new Set(['server/discover', 'initialize', 'ping', 'tools/list'])

/**
 * A newer client opening with a protocol version this gateway does not speak yet, answered the way the client falls
 * back from (it then initializes with an older version): `server/discover` answered "method not found", or a
 * well-formed opening request (OPENING_METHODS) whose MCP-Protocol-Version is newer than the SDK's latest answered
 * 400 "Unsupported protocol version". Anything else, an older or malformed version or a tool call included, stays an
 * error.
 */
function isVersionFallback(request: AnsweredRequest, error: { code?: unknown }): boolean {
  const { method, jsonrpc } = (request.message ?? {}) as { method?: unknown; jsonrpc?: unknown }
  if (jsonrpc !== '2.0' || typeof method !== 'string') return false
  if (method === 'server/discover' && error.code === JSON_RPC_METHOD_NOT_FOUND) return true
  const version = request.protocolVersion?.trim()
  return (
    OPENING_METHODS.has(method) &&
    request.status === 400 &&
    error.code === SDK_TRANSPORT_ERROR &&
    version !== undefined &&
    PROTOCOL_VERSION.test(version) &&
    version > LATEST_PROTOCOL_VERSION
  )
}

/** What the MCP answer says when the tool did not report (the SDK refused the arguments, or the method failed). */
function inspectAnswer(trail: AuditTrail, body: ArrayBuffer, contentType: string | null, request: AnsweredRequest): void {
  if (trail.toolReported || trail.record.outcome !== 'ok') return
  if (!contentType?.includes('application/json') || body.byteLength > MAX_INSPECTED_BYTES) return
  try {
    const answer = JSON.parse(new TextDecoder().decode(body)) as { error?: { code?: number }; result?: { isError?: boolean } }
    if (answer.error && isVersionFallback(request, answer.error)) trail.versionFallback()
    else if (answer.error) trail.outcome('error', `jsonrpc_${answer.error.code ?? 'unknown'}`)
    else if (answer.result?.isError) trail.outcome('denied', 'invalid_arguments')
  } catch {
    // Not JSON: nothing more to learn.
  }
}

export function auditTrail(redactDomains: (env: Env) => boolean): MiddlewareHandler<GatewayEnv> {
  return async function audit(c: Context<GatewayEnv>, next) {
    // CORS preflights are the browser's, not MCP requests.
    if (c.req.method === 'OPTIONS') return next()
    const trail = new AuditTrail({
      requestId: c.get('requestId'),
      ip: clientAddress(c.req.raw) ?? null,
      userAgent: c.req.header('user-agent') ?? null,
      redactDomains: redactDomains(c.env),
    })
    c.set('audit', trail)
    await next()
    if (c.get('recordedByKeyObject')) return

    let response = c.res
    let body = await response.arrayBuffer()
    inspectAnswer(trail, body, response.headers.get('content-type'), {
      status: response.status,
      message: c.get('rpcMessage'),
      protocolVersion: c.req.header('mcp-protocol-version'),
    })
    if (c.get('keyRef') && !c.get('keyObjectFailed')) {
      const released = await releaseEdgeAnswer(c, response, body)
      if (c.get('recordedByKeyObject')) {
        c.res = released
        return
      }
      // The key's object could not be reached: its 503 is the answer, recorded below on an unauthenticated chain.
      response = released
      body = await released.arrayBuffer()
    }
    const record = trail.finish(response.status, body.byteLength)
    try {
      await appendToChain(c.env, record)
    } catch (error) {
      logError(error, 'audit append', record.requestId)
      // A version negotiation's answer carries no data either: the client falls back on it, as on a refusal.
      if (record.outcome === 'ok' && record.code !== PROTOCOL_VERSION_FALLBACK) {
        c.res = Response.json(
          httpErrorBody('audit_unavailable', 'The request could not be recorded in the audit log, so its answer is withheld; retry shortly', record.requestId),
          { status: 503, headers: { 'Retry-After': '1', 'X-Request-Id': record.requestId } },
        )
        return
      }
    }
    // An empty body goes back as no body: 204/304 answers may not carry one at all.
    c.res = new Response(body.byteLength > 0 ? body : null, response)
  }
}
