/** Signed requests to the admin API (/admin/v1) from inside the Worker tests, as the CLI signs them. */
import { env } from 'cloudflare:workers'
import { signAdminRequest } from '../../../src/admin/signature'
import { GATEWAY, gatewayFetch } from '../helpers'

export interface AdminAnswer<T = Record<string, unknown>> {
  status: number
  body: T & { error?: string; message?: string; details?: string[] }
  headers: Headers
}

export interface AdminCallOptions {
  secret?: string
  actor?: string
  /** Extra headers (added after the signature ones, so they can override them). */
  headers?: Record<string, string>
  nowSeconds?: number
  nonce?: string
  /** Sign this instead of what is sent (tampering tests). */
  signed?: { method?: string; pathWithQuery?: string; body?: string; host?: string }
}

export async function adminHeaders(method: string, pathWithQuery: string, body: string, options: AdminCallOptions = {}): Promise<Record<string, string>> {
  return signAdminRequest(
    options.secret ?? env.ADMIN_SECRET!,
    {
      method: options.signed?.method ?? method,
      host: options.signed?.host ?? new URL(GATEWAY).host,
      pathWithQuery: options.signed?.pathWithQuery ?? pathWithQuery,
      body: options.signed?.body ?? body,
      ...(options.actor ? { actor: options.actor } : {}),
    },
    options.nowSeconds,
    options.nonce,
  )
}

/** `path` is below /admin/v1 and may carry a query string. */
export async function admin<T = Record<string, unknown>>(method: string, path: string, payload?: unknown, options: AdminCallOptions = {}): Promise<AdminAnswer<T>> {
  const pathWithQuery = `/admin/v1${path}`
  const body = payload === undefined ? '' : typeof payload === 'string' ? payload : JSON.stringify(payload)
  const headers = { ...(await adminHeaders(method, pathWithQuery, body, options)), ...(body ? { 'content-type': 'application/json' } : {}), ...options.headers }
  const response = await gatewayFetch(GATEWAY + pathWithQuery, { method, headers, body: body || undefined })
  return { status: response.status, body: (await response.json()) as AdminAnswer<T>['body'], headers: response.headers }
}

/** A fresh request with the same signed headers as an earlier one: a replay. */
export async function replay(method: string, path: string, headers: Record<string, string>, body?: string): Promise<AdminAnswer> {
  const response = await gatewayFetch(`${GATEWAY}/admin/v1${path}`, { method, headers, body })
  return { status: response.status, body: (await response.json()) as AdminAnswer['body'], headers: response.headers }
}
