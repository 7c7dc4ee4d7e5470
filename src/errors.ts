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
 * What a `policy_denied` refusal refused, for the alert rules (src/alerts/rules.ts); the code stays `policy_denied`
 * for all of them. Only three kinds are told apart, each naming what the policy refused:
 * - `model`: the model is not reachable for the key (not in its policy, a sensitive model under `"*"`, or the key
 *   has no policy: `noPolicy`);
 * - `operation`: the model is, but not for this operation (`read`, `create`, `write`, `unlink`);
 * - `field`: one or more fields of the model the key may not see, used where the call used them (`where`).
 * `via` names what reached a model other than the one called (a domain path, an x2many command, a related field).
 * Other policy refusals (name searches, context keys, operators, field types...) carry none.
 */
export type PolicyRefusal =
  | { kind: 'model'; model: string; via?: string; noPolicy?: true }
  | { kind: 'operation'; model: string; operation: string; via?: string }
  | { kind: 'field'; model: string; fields: string[]; where: string }

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
    /** For `policy_denied`: what the policy refused, when it was a model, an operation or fields. Never shown. */
    readonly refusal?: PolicyRefusal,
  ) {
    super(message)
  }
}

/** Body of every HTTP-level error response. */
export function httpErrorBody(code: string, message: string, requestId?: string) {
  return requestId ? { error: code, message, request_id: requestId } : { error: code, message }
}
