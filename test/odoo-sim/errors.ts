// Python exceptions as Odoo raises them. An OdooError carries the exception's qualified class name (what Odoo puts
// in `data.name` / `name`), its message, and the place it was raised from, which selects the frames of the
// simulated traceback (`debug`).
import type { Json } from './types'

export type TraceSite =
  | 'auth' // security.check refused the credentials (AccessDenied)
  | 'db' // unknown database (psycopg2 cannot connect)
  | 'rpc-service' // unknown JSON-RPC service or service method
  | 'unknown-model'
  | 'unknown-method'
  | 'private-method'
  | 'signature' // the ORM method was called with wrong arguments (TypeError)
  | 'acl' // ir.model.access refused the operation
  | 'rule' // ir.rule hides some of the records
  | 'field-access' // a field with groups= the user lacks
  | 'hr-private' // Odoo 19: field not on hr.employee.public
  | 'hr-search' // hr.employee._search on a private field
  | 'domain' // malformed domain or unknown operator
  | 'domain-field' // unknown field in a domain
  | 'order' // unknown field in order
  | 'fields' // unknown field in the fields to read
  | 'write-field' // unknown field in values to write / create
  | 'missing' // MissingError
  | 'constraint' // Python constraint (ValidationError)
  | 'sql' // PostgreSQL constraint turned into a ValidationError
  | 'user-error' // UserError raised by business code
  | 'value' // other ValueError raised by the ORM
  | 'json2-auth'
  | 'json2-bad-json'
  | 'json2-route'
  | 'json2-unknown-model'
  | 'json2-unknown-method'
  | 'json2-ids'
  | 'json2-bind'

export interface SqlDetail {
  /** e.g. psycopg2.errors.CheckViolation */
  pgError: string
  pgMessage: string
}

export class OdooError extends Error {
  constructor(
    /** Qualified Python class: odoo.exceptions.AccessError, builtins.ValueError, werkzeug.exceptions.NotFound... */
    readonly exceptionName: string,
    message: string,
    readonly site: TraceSite,
    readonly extra: { httpStatus?: number; sql?: SqlDetail; model?: string; method?: string } = {},
  ) {
    super(message)
  }

  /** `arguments` of the serialized exception: werkzeug exceptions carry (description, code). */
  get arguments(): Json[] {
    return this.extra.httpStatus !== undefined ? [this.message, this.extra.httpStatus] : [this.message]
  }
}

export const accessError = (message: string, site: TraceSite) =>
  new OdooError('odoo.exceptions.AccessError', message, site)
export const accessDenied = () => new OdooError('odoo.exceptions.AccessDenied', 'Access Denied', 'auth')
export const missingError = (message: string) => new OdooError('odoo.exceptions.MissingError', message, 'missing')
export const validationError = (message: string, site: TraceSite, sql?: SqlDetail) =>
  new OdooError('odoo.exceptions.ValidationError', message, site, sql ? { sql } : {})
export const userError = (message: string, site: TraceSite = 'user-error') =>
  new OdooError('odoo.exceptions.UserError', message, site)
export const valueError = (message: string, site: TraceSite) => new OdooError('builtins.ValueError', message, site)
export const typeError = (message: string) => new OdooError('builtins.TypeError', message, 'signature')

export const HTTP_REASONS: Record<number, string> = {
  200: 'OK',
  303: 'See Other',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  422: 'Unprocessable Entity',
  500: 'Internal Server Error',
}

const WERKZEUG: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  404: 'NotFound',
  422: 'UnprocessableEntity',
}

export function httpError(status: 400 | 401 | 404 | 422, description: string, site: TraceSite): OdooError {
  return new OdooError(`werkzeug.exceptions.${WERKZEUG[status] ?? 'HTTPException'}`, description, site, {
    httpStatus: status,
  })
}

/** JSON-2 status of an exception (odoo/http.py, see test/fixtures/odoo/odoo-19.0/INDEX.md). */
export function json2Status(error: OdooError): number {
  if (error.extra.httpStatus !== undefined) return error.extra.httpStatus
  switch (error.exceptionName) {
    case 'odoo.exceptions.UserError':
    case 'odoo.exceptions.ValidationError':
    case 'odoo.exceptions.RedirectWarning':
      return 422
    case 'odoo.exceptions.AccessError':
    case 'odoo.exceptions.AccessDenied':
      return 403
    case 'odoo.exceptions.MissingError':
      return 404
    case 'odoo.exceptions.LockError':
      return 409
    default:
      return 500
  }
}
