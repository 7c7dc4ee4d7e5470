/**
 * The one place that sends bytes to Odoo. It turns every way an HTTP exchange can go wrong (timeout, refused
 * connection, redirect, HTML error page, truncated JSON) into an {@link OdooUnavailableError} with a message an
 * operator can act on, and never echoes the body Odoo or a proxy sent.
 */
import { OdooUnavailableError } from './errors'

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>

/** Workers' global fetch must be called unbound-safe; this wrapper is also the injection point for tests. */
export const defaultFetch: FetchLike = (input, init) => fetch(input, init)

export interface OdooHttpOptions {
  timeoutMs: number
  fetch?: FetchLike
}

export interface OdooHttpAnswer {
  status: number
  /** Parsed JSON body; `undefined` when the body was not JSON. */
  json: unknown
  isJson: boolean
  contentType: string
}

/** Biggest Odoo answer accepted: 32 MiB. A 500-record page of 20 fields is well under 1 MiB. */
const MAX_ODOO_RESPONSE_BYTES = 32 * 1024 * 1024

export async function odooHttp(
  url: string,
  init: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string },
  options: OdooHttpOptions,
): Promise<OdooHttpAnswer> {
  const fetchImpl = options.fetch ?? defaultFetch
  let response: Response
  try {
    response = await fetchImpl(url, {
      method: init.method,
      headers: init.headers,
      body: init.body,
      // A redirect from Odoo means ODOO_URL is wrong (http→https, login page...): following it could send the
      // credentials somewhere else.
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs),
    })
  } catch (error) {
    throw transportError(error, options.timeoutMs)
  }

  if (response.status >= 300 && response.status < 400) {
    await response.body?.cancel()
    throw new OdooUnavailableError(
      'bad_response',
      `Odoo answered with a redirect (HTTP ${response.status}); check that ODOO_URL is the server's exact base URL`,
    )
  }

  const contentType = response.headers.get('content-type') ?? ''
  let text: string
  try {
    const declaredLength = Number(response.headers.get('content-length') ?? '0')
    if (declaredLength > MAX_ODOO_RESPONSE_BYTES) {
      await response.body?.cancel()
      throw new OdooUnavailableError('bad_response', `Odoo's answer is larger than ${MAX_ODOO_RESPONSE_BYTES} bytes`)
    }
    text = await response.text()
  } catch (error) {
    if (error instanceof OdooUnavailableError) throw error
    throw transportError(error, options.timeoutMs)
  }
  if (!/\bjson\b/i.test(contentType)) return { status: response.status, json: undefined, isJson: false, contentType }
  try {
    return { status: response.status, json: JSON.parse(text), isJson: true, contentType }
  } catch {
    throw new OdooUnavailableError('bad_response', `Odoo answered HTTP ${response.status} with invalid JSON`)
  }
}

function transportError(error: unknown, timeoutMs: number): OdooUnavailableError {
  const name = error instanceof Error ? error.name : ''
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new OdooUnavailableError('timeout', `Odoo did not answer within ${timeoutMs} ms`)
  }
  return new OdooUnavailableError('unreachable', 'Odoo is unreachable (connection failed); check ODOO_URL and that Odoo is running')
}

/** Describes a non-JSON answer without quoting it (it may be an HTML page full of server details). */
export function describeNonJson(answer: OdooHttpAnswer): string {
  const kind = /html/i.test(answer.contentType) ? 'an HTML page' : answer.contentType ? `'${answer.contentType.split(';')[0]}'` : 'a body without content type'
  return `Odoo answered HTTP ${answer.status} with ${kind} instead of JSON`
}
