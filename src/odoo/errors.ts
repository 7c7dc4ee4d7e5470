/**
 * Typed errors of the Odoo client. Odoo's own exceptions keep their class name and message (the agent needs them to
 * act: "AccessError: you are not allowed..."), but never Odoo's `debug` traceback, which exposes server paths, code
 * and sometimes data. Transport failures get messages written here, never the raw body Odoo (or a proxy) returned.
 */

/** An exception raised by Odoo itself (AccessError, ValidationError, MissingError, UserError, ValueError...). */
export class OdooError extends Error {
  override name = 'OdooError'
  constructor(
    /** Fully qualified Python class, e.g. `odoo.exceptions.AccessError`. */
    readonly exceptionType: string,
    message: string,
    /** HTTP status JSON-2 answered with (JSON-RPC always answers 200). */
    readonly httpStatus?: number,
  ) {
    super(message)
  }

  /** `AccessError`, `ValidationError`, `ValueError`... */
  get exceptionName(): string {
    return this.exceptionType.split('.').pop() || this.exceptionType
  }

  /** True when Odoo refused the credentials bound to the API key (not a permission problem of one call). */
  get isAuthenticationFailure(): boolean {
    return this.exceptionName === 'AccessDenied' || this.httpStatus === 401
  }
}

export type OdooUnavailableReason = 'timeout' | 'unreachable' | 'bad_response' | 'not_found'

/** Odoo could not be reached, or answered with something that is not an Odoo answer (HTML error page, proxy 502...). */
export class OdooUnavailableError extends Error {
  override name = 'OdooUnavailableError'
  constructor(
    readonly reason: OdooUnavailableReason,
    message: string,
  ) {
    super(message)
  }
}

/** Longest Odoo message passed on; Odoo messages are a few hundred characters, anything longer is noise. */
const MAX_ODOO_MESSAGE_CHARS = 2000

/** Builds an {@link OdooError} from the `data` of a JSON-RPC error or a JSON-2 error body; drops `debug`. */
export function odooErrorFromPayload(payload: unknown, httpStatus?: number): OdooError {
  const data = (payload ?? {}) as { name?: unknown; message?: unknown; arguments?: unknown }
  const exceptionType = typeof data.name === 'string' && data.name ? data.name : 'odoo.exceptions.UserError'
  let message = typeof data.message === 'string' ? data.message : ''
  if (!message && Array.isArray(data.arguments) && typeof data.arguments[0] === 'string') message = data.arguments[0]
  if (message.length > MAX_ODOO_MESSAGE_CHARS) message = message.slice(0, MAX_ODOO_MESSAGE_CHARS) + '…'
  return new OdooError(exceptionType, message || 'Odoo returned an error without a message', httpStatus)
}
