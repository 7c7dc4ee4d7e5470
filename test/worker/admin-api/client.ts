/** Signed requests to the admin API (/admin/v1) from inside the Worker tests, as the CLI signs them. */
import { env } from 'cloudflare:workers'
import { exportJWK, generateKeyPair, type JWK } from 'jose'
import { vi } from 'vitest'
import { signAdminRequest } from '../../../src/admin/signature'
import type { Env } from '../../../src/env'
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

/** A request through the Worker with another configuration (ADMIN_SECRET, Access, allowlist...). */
export async function sendWith(overrides: Partial<Env>, path: string, init: RequestInit = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const { default: worker } = await import('../../../src/index')
  const response = await worker.fetch(new Request(`${GATEWAY}/admin/v1${path}`, init), { ...env, ...overrides } as Env, {
    waitUntil() {},
    passThroughOnException() {},
    props: {},
  } as unknown as ExecutionContext)
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

/**
 * A Cloudflare Access team with its own signing key, its certs URL answered by a stand-in for Cloudflare (a fetch
 * spy: restore it with vi.restoreAllMocks()).
 */
export async function accessTeam(name: string): Promise<{ domain: string; privateKey: CryptoKey; jwk: JWK & { kid: string } }> {
  const { privateKey, publicKey } = await generateKeyPair('RS256')
  const jwk = { ...(await exportJWK(publicKey)), kid: `${name}-key`, alg: 'RS256', use: 'sig' }
  const domain = `https://${name}.cloudflareaccess.com`
  const realFetch = globalThis.fetch
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const url = input instanceof Request ? input.url : String(input)
    if (url === `${domain}/cdn-cgi/access/certs`) return Response.json({ keys: [jwk] })
    return realFetch(input, init)
  })
  return { domain, privateKey, jwk }
}
