import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { httpErrorBody } from '../errors'
import type { GatewayEnv } from './types'

/**
 * An HTTP-level refusal: `{"error": code, "message": ..., "request_id": ...}` with the given status. The audit
 * record (when there is one) takes the code as its reason unless a more specific one was set first.
 */
export function httpError(
  c: Context<GatewayEnv>,
  status: ContentfulStatusCode,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): Response {
  c.get('audit')?.outcome(status >= 500 ? 'error' : 'denied', code)
  return c.json(httpErrorBody(code, message, c.get('requestId')), status, headers)
}

/** A JSON-RPC error for a message the gateway could not accept (parse error, batch...), `id: null` as the spec says. */
export function jsonRpcError(c: Context<GatewayEnv>, status: ContentfulStatusCode, code: number, message: string): Response {
  c.get('audit')?.outcome('denied', JSON_RPC_ERROR_CODES[code] ?? `jsonrpc_${code}`)
  return c.json({ jsonrpc: '2.0', id: null, error: { code, message, data: { request_id: c.get('requestId') } } }, status)
}

/** Audit codes of the JSON-RPC errors the gateway answers itself. */
const JSON_RPC_ERROR_CODES: Record<number, string> = {
  [-32700]: 'parse_error',
  [-32600]: 'invalid_request',
  [-32601]: 'method_not_found',
  [-32602]: 'invalid_params',
  [-32020]: 'header_mismatch',
}
