/**
 * Checks an Odoo login and secret the way a key session will use them (gateway/session.ts): the same client
 * (odoo/client.ts), the same server detection and protocol, the gateway's own ODOO_URL and ODOO_DB. The CLI asks for
 * it (POST /admin/odoo/check-credentials) before `keys create` or `keys set-odoo-secret` store a secret, since only
 * the gateway knows where Odoo is.
 *
 *   JSON-RPC: `common.authenticate(db, login, secret)` resolves the uid (login and secret together: Odoo says only
 *             that the pair is wrong, never which part), then `res.users.context_get` runs as that user.
 *   JSON-2:   the API key alone says who calls; Odoo never sees the login. `res.users/context_get` tells the uid, and
 *             the user's own `login` (which every user may read) is compared with the login the key will be bound to,
 *             so a key cannot be labelled with one user while acting as another.
 *
 * Nothing here logs or returns the secret.
 */
import type { GatewayConfig } from '../config'
import { createOdooClient } from '../odoo/client'
import { OdooError, OdooUnavailableError } from '../odoo/errors'
import type { FetchLike } from '../odoo/http'
import type { OdooCredentials, OdooProtocol } from '../odoo/types'

export type CredentialCheck =
  /** `loginChecked`: false only when Odoo (JSON-2) would not tell the user's uid or login; the secret was accepted. */
  | { kind: 'ok'; uid: number | null; protocol: OdooProtocol; loginChecked: boolean }
  | { kind: 'refused'; protocol: OdooProtocol }
  /** JSON-2: the secret is valid, but it is another user's API key. */
  | { kind: 'login_mismatch'; uid: number; actualLogin: string }
  | { kind: 'unavailable'; message: string }
  | { kind: 'odoo_error'; message: string }

export interface CheckInput {
  config: GatewayConfig
  credentials: OdooCredentials
  /** Unique per check (the request id): each check authenticates afresh instead of reusing a cached uid. */
  checkId: string
  fetch?: FetchLike
}

const positiveInteger = (value: unknown): number | null =>
  typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : null

export async function checkOdooCredentials(input: CheckInput): Promise<CredentialCheck> {
  const { config, credentials } = input
  const resolved: { uid: number | null } = { uid: null }
  const client = createOdooClient({
    baseUrl: config.odooUrl,
    db: config.odooDb,
    protocol: config.odooProtocol,
    timeoutMs: config.odooTimeoutMs,
    credentials,
    // A key of its own in the per-isolate uid cache: a check never trusts an earlier answer.
    uidCacheKey: `admin-check:${input.checkId}`,
    knownUid: null,
    onUidResolved: (uid) => {
      resolved.uid = uid
    },
    ...(input.fetch ? { fetch: input.fetch } : {}),
  })
  let protocol: OdooProtocol = config.odooProtocol === 'json2' ? 'json2' : 'jsonrpc'
  try {
    protocol = (await client.serverInfo()).protocol
    const context = await client.call<{ uid?: unknown } | null>('res.users', 'context_get')
    const uid = resolved.uid ?? positiveInteger(context?.uid)
    // JSON-RPC authenticated the login with the secret: the uid is that login's.
    if (protocol === 'jsonrpc') return { kind: 'ok', uid, protocol, loginChecked: true }
    if (uid === null) return { kind: 'ok', uid, protocol, loginChecked: false }
    let login: unknown
    try {
      const rows = await client.call<{ login?: unknown }[]>('res.users', 'read', { ids: [uid], kwargs: { fields: ['login'] } })
      login = Array.isArray(rows) ? rows[0]?.login : undefined
    } catch (error) {
      // A user Odoo does not let read its own login: the secret is good, the login cannot be compared.
      if (error instanceof OdooError && !error.isAuthenticationFailure) return { kind: 'ok', uid, protocol, loginChecked: false }
      throw error
    }
    if (typeof login !== 'string') return { kind: 'ok', uid, protocol, loginChecked: false }
    if (login !== credentials.login) return { kind: 'login_mismatch', uid, actualLogin: login }
    return { kind: 'ok', uid, protocol, loginChecked: true }
  } catch (error) {
    if (error instanceof OdooError && error.isAuthenticationFailure) return { kind: 'refused', protocol }
    if (error instanceof OdooUnavailableError) return { kind: 'unavailable', message: error.message }
    if (error instanceof OdooError) return { kind: 'odoo_error', message: `${error.exceptionName}: ${error.message}` }
    throw error
  }
}
