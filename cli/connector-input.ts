/**
 * Checks of what `connectors add` is given, before anything is sent: a mistake on the command line is told as a
 * usage error naming the option. The rules are the gateway's own (src/admin/v1/connectors/input.ts), which the admin
 * API enforces again on every request.
 */
import {
  clientNameProblem,
  CONNECTION_TTL_SECONDS,
  LOGIN_MAX,
  loginProblem,
  PROFILE_NAME,
  PROFILE_NAME_RULE,
  redirectUriProblem,
  TOKEN_TTL_SECONDS,
} from '../src/admin/v1/connectors/input'
import { UsageError } from './errors'
import { parseDuration } from './key-input'

export { PROFILE_NAME }

export function checkProfileName(name: string | undefined, what = 'connector NAME'): string {
  if (name === undefined) throw new UsageError(`missing ${what}`)
  if (!PROFILE_NAME.test(name)) {
    throw new UsageError(`'${name.slice(0, 70)}' is not a valid connector name: ${PROFILE_NAME_RULE}`)
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
  const bad = logins.find((login) => loginProblem(login) !== undefined)
  if (bad !== undefined) throw new UsageError(`--logins: '${bad.slice(0, 40)}' is not an Odoo login (at most ${LOGIN_MAX} characters, no control characters)`)
  return logins
}

export function checkClientName(name: string | undefined): string | null {
  if (name === undefined) return null
  const problem = clientNameProblem(name)
  if (problem) throw new UsageError(`--client-name ${problem}`)
  return name
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
  /** Durations as the user writes them (parseDuration), for messages and the default. */
  fallback: string
  min: string
  max: string
  /** The gateway's bounds, in seconds (the texts above say the same). */
  seconds: { min: number; max: number }
}

/** An access token lives 5 minutes to a day: shorter would make clients refresh all the time. */
export const TOKEN_TTL: TtlOption = { option: 'token-ttl', fallback: '1h', min: '5m', max: '24h', seconds: TOKEN_TTL_SECONDS }
/** A connection must sign in again after 1 hour to a year. */
export const CONNECTION_TTL: TtlOption = { option: 'connection-ttl', fallback: '30d', min: '1h', max: '365d', seconds: CONNECTION_TTL_SECONDS }

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
  if (ms < ttl.seconds.min * 1000 || ms > ttl.seconds.max * 1000) throw new UsageError(`--${ttl.option} must be from ${range} (got '${text}')`)
  return ms / 1000
}
