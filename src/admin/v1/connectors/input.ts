/**
 * What a connector profile may hold, as pure rules shared by the admin API (routes.ts, which enforces them) and the
 * CLI (cli/connector-input.ts, which checks its flags with them before sending anything). The gateway reads these
 * values at every sign-in (src/oauth/profile-match.ts) and shows the name on its consent page, so a value it would
 * read differently is refused with the reason instead. No I/O, no Worker types: part of the Node build too.
 */

/** As schema.sql says: shown on the consent page and typed in commands. */
export const PROFILE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/
export const PROFILE_NAME_RULE = '1-63 lowercase letters, digits and -, starting with a letter or digit'

export const LOGIN_MAX = 255
/** Logins are listed one by one; beyond this a profile wants --any-login and Odoo's own rights. */
export const LOGINS_MAX = 1000
export const CLIENT_NAME_MAX = 100
export const REDIRECT_URIS_MAX = 50
export const REDIRECT_URI_MAX = 2000

/** Access token lifetime: 5 minutes to a day (shorter would make clients refresh all the time); default 1 hour. */
export const TOKEN_TTL_SECONDS = { min: 300, max: 86_400, fallback: 3600 } as const
/** How long a connection lasts before its user signs in again: 1 hour to 365 days; default 30 days. */
export const CONNECTION_TTL_SECONDS = { min: 3600, max: 365 * 86_400, fallback: 30 * 86_400 } as const

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
/** RFC 8252 §7.3: native apps (Claude Desktop, Claude Code, mcp-remote) receive the code on loopback over http. */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

export function hasControlCharacters(text: string): boolean {
  return CONTROL.test(text)
}

/**
 * Why an Odoo login cannot be listed, or undefined. The sign-in page trims what the user types, so a login with
 * spaces around it could never match: refused rather than stored.
 */
export function loginProblem(login: string): string | undefined {
  if (login === '') return 'is empty'
  if ([...login].length > LOGIN_MAX) return `is longer than ${LOGIN_MAX} characters`
  if (hasControlCharacters(login)) return 'contains control characters'
  if (login.trim() !== login) return 'starts or ends with spaces (the sign-in page trims what the user types)'
  return undefined
}

/** Why a client name cannot be pinned, or undefined. */
export function clientNameProblem(name: string): string | undefined {
  if (name.trim() === '' || [...name].length > CLIENT_NAME_MAX || hasControlCharacters(name)) {
    return `must be 1 to ${CLIENT_NAME_MAX} characters, without control characters`
  }
  return undefined
}

/**
 * Why a redirect URI cannot be pinned, or undefined when it can. Stored as given (not normalized): the gateway
 * compares them with the client's exactly (on loopback any port).
 */
export function redirectUriProblem(uri: string): string | undefined {
  if (hasControlCharacters(uri) || /\s/.test(uri)) return 'contains spaces or control characters'
  if (uri.length > REDIRECT_URI_MAX) return `is longer than ${REDIRECT_URI_MAX} characters`
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    return 'is not a URL'
  }
  // OAuth forbids a fragment in a redirect URI (RFC 6749 §3.1.2); an empty one ('#') counts too.
  if (uri.includes('#')) return 'must not have a fragment (#...)'
  if (url.protocol === 'https:') return undefined
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return undefined
  return 'must be https (plain http only on localhost, 127.0.0.1 or [::1])'
}
