/**
 * Which connector profiles admit a client's sign-in, and which Odoo logins a profile admits. Pure.
 *
 * A profile's `redirectUris` is the binding that matters: a client's name is whatever it registered (anyone can
 * register as "Claude"), so `clientName` narrows the choice shown to the user but proves nothing. An administrator
 * who wants a profile for Claude only pins Claude's redirect URI (docs/OAUTH.md).
 */
import type { ConnectorProfile } from './connector-profile'

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])

/** Exact match; on a loopback host any port (RFC 8252 §7.3: native apps listen on an ephemeral port). */
export function sameRedirectUri(registered: string, presented: string): boolean {
  if (registered === presented) return true
  let a: URL
  let b: URL
  try {
    a = new URL(registered)
    b = new URL(presented)
  } catch {
    return false
  }
  if (a.protocol !== 'http:' || b.protocol !== 'http:' || !LOOPBACK.has(a.hostname) || a.hostname !== b.hostname) return false
  return a.pathname === b.pathname && a.search === b.search && a.hash === '' && b.hash === '' && a.username === '' && b.username === '' && a.password === '' && b.password === ''
}

export interface ClientFacts {
  /** As the client named itself (DCR) or its CIMD document did. */
  name: string
  /** The verified domain of a URL client id, if any. */
  domain?: string
  redirectUri: string
}

export function profilesFor(profiles: ConnectorProfile[], client: ClientFacts): ConnectorProfile[] {
  return profiles.filter((profile) => {
    if (profile.redirectUris.length > 0 && !profile.redirectUris.some((uri) => sameRedirectUri(uri, client.redirectUri))) return false
    if (profile.clientName === null) return true
    const wanted = profile.clientName.toLowerCase()
    return wanted === client.name.toLowerCase() || (client.domain !== undefined && wanted === client.domain.toLowerCase())
  })
}

/** Odoo logins compare as Odoo stores them (res.users.login is case-sensitive, surrounding spaces never match). */
export function loginAllowed(profile: Pick<ConnectorProfile, 'logins'>, login: string): boolean {
  return profile.logins === null || profile.logins.includes(login)
}
