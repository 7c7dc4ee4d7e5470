/**
 * Gateway configuration, parsed once per isolate from the Worker's vars. A bad value is an operator's mistake: it is
 * reported (in the log and as a generic 500 to the client), never guessed around.
 */
import { z } from 'zod'
import type { Env } from './env'

import { ODOO_PROTOCOLS, type OdooProtocolSetting } from './odoo/types'

export { ODOO_PROTOCOLS, type OdooProtocolSetting }

/** Cloudflare's Durable Object location hints, the values of `ODOO_REGION` (keys/placement.ts). */
export const LOCATION_HINTS = ['wnam', 'enam', 'sam', 'weur', 'eeur', 'apac', 'oc', 'afr', 'me'] as const satisfies readonly DurableObjectLocationHint[]

/** Default for `ODOO_TIMEOUT_MS`: 30 seconds. */
const DEFAULT_ODOO_TIMEOUT_MS = 30_000

const configSchema = z.object({
  ODOO_URL: z.url({ protocol: /^https?$/, error: 'ODOO_URL must be an http(s) URL' }),
  ODOO_DB: z.string().default(''),
  ODOO_PROTOCOL: z
    .string()
    .transform((value) => value.trim().toLowerCase() || 'auto')
    .pipe(z.enum(ODOO_PROTOCOLS, { error: 'ODOO_PROTOCOL must be jsonrpc, json2 or auto' })),
  ODOO_TIMEOUT_MS: z
    .string()
    .default('')
    .transform((value) => (value.trim() === '' ? DEFAULT_ODOO_TIMEOUT_MS : Number(value)))
    .pipe(z.number().int().min(100).max(300_000)),
  ODOO_REGION: z
    .string()
    .default('')
    .transform((value) => value.trim().toLowerCase())
    .pipe(z.enum(['', ...LOCATION_HINTS], { error: `ODOO_REGION must be one of ${LOCATION_HINTS.join(', ')} (the region nearest Odoo), or empty` })),
  ALLOWED_ORIGINS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((origin) => origin.trim().replace(/\/+$/, '').toLowerCase())
        .filter(Boolean),
    ),
})

export interface GatewayConfig {
  /** Odoo base URL without a trailing slash. */
  odooUrl: string
  odooDb: string
  odooProtocol: OdooProtocolSetting
  odooTimeoutMs: number
  allowedOrigins: ReadonlySet<string>
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

const cache = new WeakMap<object, GatewayConfig>()

export function loadConfig(env: Pick<Env, 'ODOO_URL' | 'ODOO_DB' | 'ODOO_PROTOCOL' | 'ODOO_TIMEOUT_MS' | 'ODOO_REGION' | 'ALLOWED_ORIGINS'>): GatewayConfig {
  const cached = cache.get(env)
  if (cached) return cached
  const parsed = configSchema.safeParse(env)
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '))
  }
  const config: GatewayConfig = {
    odooUrl: parsed.data.ODOO_URL.replace(/\/+$/, ''),
    odooDb: parsed.data.ODOO_DB.trim(),
    odooProtocol: parsed.data.ODOO_PROTOCOL,
    odooTimeoutMs: parsed.data.ODOO_TIMEOUT_MS,
    allowedOrigins: new Set(parsed.data.ALLOWED_ORIGINS),
  }
  cache.set(env, config)
  return config
}
