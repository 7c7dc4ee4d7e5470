/**
 * How the admin API is reached (docs/ADMIN-API.md "Authentication"), read once per env object:
 * - ADMIN_SECRET (≥ 32 characters): signed requests (the CLI), admin/signature.ts;
 * - ACCESS_TEAM_DOMAIN + ACCESS_AUD: Cloudflare Access; a valid `Cf-Access-Jwt-Assertion` is an admin identity;
 * - ADMIN_ALLOWED_IPS (optional): only these addresses / CIDR ranges reach the admin API at all.
 * Neither of the first two: the admin API is off. A setting that does not parse turns it off too (fail closed), with
 * an answer naming the setting.
 */
import type { Env } from '../../env'
import { parseRange, type CompiledRange } from '../../policy/ip-rules'
import { ADMIN_SECRET_MIN_LENGTH } from '../signature'

export interface AccessSettings {
  /** https://<team>.cloudflareaccess.com: the tokens' issuer; its keys are at /cdn-cgi/access/certs. */
  teamDomain: string
  audiences: string[]
}

export type AdminSettings =
  | { kind: 'off' }
  | { kind: 'misconfigured'; message: string }
  | { kind: 'on'; secret?: string; access?: AccessSettings; allowedIps?: CompiledRange[] }

type AdminEnv = Pick<Env, 'ADMIN_SECRET' | 'ACCESS_TEAM_DOMAIN' | 'ACCESS_AUD' | 'ADMIN_ALLOWED_IPS'>

const cache = new WeakMap<object, AdminSettings>()

export function adminSettings(env: AdminEnv): AdminSettings {
  let settings = cache.get(env)
  if (!settings) {
    settings = readSettings(env)
    cache.set(env, settings)
  }
  return settings
}

/** Plain http is accepted only on loopback (a local Access stand-in); a deployed team domain is https. */
function parseTeamDomain(text: string): string | undefined {
  const withScheme = /^https?:\/\//.test(text) ? text : `https://${text}`
  try {
    const url = new URL(withScheme)
    if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) return undefined
    if (url.protocol === 'http:' && !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) return undefined
    return url.origin
  } catch {
    return undefined
  }
}

function readSettings(env: AdminEnv): AdminSettings {
  const secret = env.ADMIN_SECRET?.trim() || undefined
  if (secret !== undefined && secret.length < ADMIN_SECRET_MIN_LENGTH) {
    return { kind: 'misconfigured', message: `ADMIN_SECRET is shorter than ${ADMIN_SECRET_MIN_LENGTH} characters` }
  }
  const teamText = env.ACCESS_TEAM_DOMAIN?.trim() || undefined
  const audiences = (env.ACCESS_AUD ?? '').split(',').map((one) => one.trim()).filter(Boolean)
  let access: AccessSettings | undefined
  if (teamText !== undefined || audiences.length > 0) {
    if (teamText === undefined || audiences.length === 0) {
      return { kind: 'misconfigured', message: 'Cloudflare Access needs both ACCESS_TEAM_DOMAIN and ACCESS_AUD' }
    }
    const teamDomain = parseTeamDomain(teamText)
    if (!teamDomain) return { kind: 'misconfigured', message: 'ACCESS_TEAM_DOMAIN must be https://<team>.cloudflareaccess.com' }
    access = { teamDomain, audiences }
  }
  let allowedIps: CompiledRange[] | undefined
  const ipText = env.ADMIN_ALLOWED_IPS?.trim()
  if (ipText) {
    allowedIps = []
    for (const entry of ipText.split(',').map((one) => one.trim()).filter(Boolean)) {
      const parsed = parseRange(entry)
      if (!parsed.ok) return { kind: 'misconfigured', message: `ADMIN_ALLOWED_IPS: '${entry.slice(0, 60)}' ${parsed.error}` }
      allowedIps.push(parsed.value)
    }
  }
  if (!secret && !access) return { kind: 'off' }
  return { kind: 'on', ...(secret ? { secret } : {}), ...(access ? { access } : {}), ...(allowedIps ? { allowedIps } : {}) }
}
