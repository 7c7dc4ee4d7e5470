// HTTP answers shaped like Odoo's (werkzeug) ones.
import { pyJsonDumps } from './python'
import type { HttpResponse, Out } from './types'

/** What the recording's server sent; kept so clients see the same Server header. */
export const SERVER = 'Werkzeug/2.2.2 Python/3.11.2'
export const JSON_TYPE = 'application/json; charset=utf-8'
export const HTML_TYPE = 'text/html; charset=utf-8'

/** Odoo's make_json_response; successful answers also carry X-Content-Type-Options: nosniff. */
export function jsonResponse(
  status: number,
  body: Out,
  headers: Record<string, string> = {},
  nosniff = status < 400,
): HttpResponse {
  return {
    status,
    headers: {
      server: SERVER,
      'content-type': JSON_TYPE,
      ...(nosniff ? { 'x-content-type-options': 'nosniff' } : {}),
      ...headers,
    },
    body: pyJsonDumps(body),
  }
}

export function htmlResponse(status: number, body: string, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { server: SERVER, 'content-type': HTML_TYPE, ...headers }, body }
}

/** Werkzeug's default error page, what Odoo answers for an unknown route (e.g. /json/2 on Odoo 18). */
export function notFoundPage(): HttpResponse {
  return htmlResponse(
    404,
    '<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n' +
      '<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n',
  )
}

export function methodNotAllowedPage(allow: string): HttpResponse {
  return htmlResponse(
    405,
    '<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n<h1>Method Not Allowed</h1>\n' +
      '<p>The method is not allowed for the requested URL.</p>\n',
    { allow },
  )
}

/** Odoo 19 when X-Odoo-Database names no served database (transcripts 24 and 40). */
export function noDatabasePage(): HttpResponse {
  return htmlResponse(
    404,
    '<!DOCTYPE html>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n' +
      '<p>No database is selected and the requested URL was not found in the server-wide controllers.</p>\n' +
      '<p>Please verify the hostname, <a href=/web/login>login</a> and try again.</p>\n\n' +
      '<!-- Alternatively, use the X-Odoo-Database header. -->\n',
  )
}
