/**
 * Checks of what `connectors add` is given, before anything reaches D1. The gateway reads these values at every
 * sign-in (src/oauth/profile-match.ts) and shows the name on its consent page, so a value it would read differently
 * is refused here with the reason instead.
 */
import { UsageError } from './errors'
import { parseDuration } from './key-input'
import { hasControlCharacters } from './sql'

/** As schema.sql says: shown on the consent page and typed in commands. */
export const PROFILE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/

const LOGIN_MAX = 255
const CLIENT_NAME_MAX = 100
/** RFC 8252 §7.3: native apps (Claude Desktop, Claude Code, mcp-remote) receive the code on loopback over http. */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

export function checkProfileName(name: string | undefined, what = 'connector NAME'): string {
  if (name === undefined) throw new UsageError(`missing ${what}`)
  if (!PROFILE_NAME.test(name)) {
    throw new UsageError(`'${name.slice(0, 70)}' is not a valid connector name: 1-63 lowercase letters, digits and -, starting with a letter or digit`)
  }
  return name
}

/**
 * --logins a,b or --any-login, exactly one: a profile open to every Odoo user must be asked for, never the result
 * of a forgotten option. Returns the logins, or null for any login. Logins compare exactly as Odoo stores them.
 */
export function checkLogins(listed: string | undefined, anyLogin: boolean): string[] | null {
  if (listed !== undefined && anyLogin) throw new UsageError('give either --logins LOGIN,... or --any-login, not both')
  if (listed === undefined && !anyLogin) {
    throw new UsageError('say who may sign in: --logins LOGIN,... (only these Odoo logins) or --any-login (any Odoo user)')
  }
  if (anyLogin) return null
  const logins = [...new Set(listed!.split(',').map((login) => login.trim()).filter(Boolean))]
  if (logins.length === 0) throw new UsageError('--logins needs at least one Odoo login')
  const bad = logins.find((login) => [...login].length > LOGIN_MAX || hasControlCharacters(login))
  if (bad !== undefined) throw new UsageError(`--logins: '${bad.slice(0, 40)}' is not an Odoo login (at most ${LOGIN_MAX} characters, no control characters)`)
  return logins
}

export function checkClientName(name: string | undefined): string | null {
  if (name === undefined) return null
  if (name.trim() === '' || [...name].length > CLIENT_NAME_MAX || hasControlCharacters(name)) {
    throw new UsageError(`--client-name must be 1 to ${CLIENT_NAME_MAX} characters, without control characters`)
  }
  return name
}

/** Why a redirect URI cannot be pinned, or undefined when it can. */
function redirectUriProblem(uri: string): string | undefined {
  if (hasControlCharacters(uri) || /\s/.test(uri)) return 'contains spaces or control characters'
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

/**
 * The --redirect-uri values, each checked; stored as given (not normalized), because the gateway compares them with
 * the client's exactly (on loopback any port).
 */
export function checkRedirectUris(given: string[]): string[] {
  for (const uri of given) {
    const problem = redirectUriProblem(uri)
    if (problem) throw new UsageError(`--redirect-uri '${uri.slice(0, 200)}' ${problem}`)
  }
  return [...new Set(given)]
}

export interface TtlOption {
  option: 'token-ttl' | 'connection-ttl'
  /** Durations as the user writes them (parseDuration). */
  fallback: string
  min: string
  max: string
}

/** An access token lives 5 minutes to a day: shorter would make clients refresh all the time. */
export const TOKEN_TTL: TtlOption = { option: 'token-ttl', fallback: '1h', min: '5m', max: '24h' }
/** A connection must sign in again after 1 hour to a year. */
export const CONNECTION_TTL: TtlOption = { option: 'connection-ttl', fallback: '30d', min: '1h', max: '365d' }

/** 3600 → '1h', 2592000 → '30d': the largest unit that divides the value. */
export function formatDuration(seconds: number): string {
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60]] as const) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`
  }
  return `${seconds}s`
}

/** A duration option in seconds, within its bounds; its default when not given. */
export function checkTtl(ttl: TtlOption, value: string | undefined): number {
  const text = value ?? ttl.fallback
  const range = `${ttl.min} to ${ttl.max}`
  const ms = parseDuration(text)
  if (ms === undefined) throw new UsageError(`--${ttl.option} must be a duration such as 30m, 12h or 7d, from ${range} (got '${text.slice(0, 40)}')`)
  if (ms < parseDuration(ttl.min)! || ms > parseDuration(ttl.max)!) throw new UsageError(`--${ttl.option} must be from ${range} (got '${text}')`)
  return ms / 1000
}
