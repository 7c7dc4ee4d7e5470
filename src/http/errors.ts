import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { httpErrorBody } from '../errors'
import type { GatewayEnv } from './types'

/** An HTTP-level refusal: `{"error": code, "message": ..., "request_id": ...}` with the given status. */
export function httpError(
  c: Context<GatewayEnv>,
  status: ContentfulStatusCode,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return c.json(httpErrorBody(code, message, c.get('requestId')), status, headers)
}

/** A JSON-RPC error for a message the gateway could not accept (parse error, batch...), `id: null` as the spec says. */
export function jsonRpcError(c: Context<GatewayEnv>, status: ContentfulStatusCode, code: number, message: string): Response {
  return c.json({ jsonrpc: '2.0', id: null, error: { code, message, data: { request_id: c.get('requestId') } } }, status)
}
