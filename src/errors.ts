/**
 * The errors the gateway shows to clients, split by audience (see docs/ARCHITECTURE.md, "Kinds of error").
 *
 * Only these classes carry text that may reach a client or a model. Anything else thrown on the request path is our
 * own fault: it is logged with the request id and answered with a generic message, so no stack trace, SQL or Odoo
 * traceback ever leaves the gateway.
 */

/** A refusal at the HTTP layer (auth, transport, size...). Rendered as `{"error": code, "message": ...}`. */
export class HttpError extends Error {
  override name = 'HttpError'
  constructor(
    readonly status: number,
    /** Stable machine-readable reason, e.g. `invalid_token`. */
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
  }
}

/**
 * A tool call the gateway refuses because of the caller's input or policy. Its message is shown to the model as an
 * MCP tool error, so it must say exactly what was wrong and must never include data the caller may not see.
 */
export class ToolError extends Error {
  override name = 'ToolError'
  constructor(
    message: string,
    /** Stable reason, e.g. `invalid_domain`, `policy_denied`; used by the audit log. */
    readonly code: string = 'invalid_arguments',
  ) {
    super(message)
  }
}

/** Body of every HTTP-level error response. */
export function httpErrorBody(code: string, message: string, requestId?: string) {
  return requestId ? { error: code, message, request_id: requestId } : { error: code, message }
}
