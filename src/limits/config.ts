/**
 * Settings of the rate limiter and the key cache, from wrangler.toml `[vars]`. Kept apart from the Odoo settings
 * (config.ts) because the Durable Objects need these and nothing about Odoo.
 */
import { z } from 'zod'
import type { Env } from '../env'
import type { BucketSpec } from './gcra'

const count = (name: string, min: number, max: number, fallback: number) =>
  z
    .string()
    .optional()
    .transform((value) => (value === undefined || value.trim() === '' ? fallback : Number(value)))
    .pipe(z.number({ error: `${name} must be a number` }).int(`${name} must be a whole number`).min(min).max(max))

const limitsSchema = z.object({
  GLOBAL_RATE_LIMIT_PER_MINUTE: count('GLOBAL_RATE_LIMIT_PER_MINUTE', 0, 100_000_000, 60_000),
  GLOBAL_RATE_LIMIT_SHARDS: count('GLOBAL_RATE_LIMIT_SHARDS', 1, 256, 8),
  DEFAULT_KEY_RATE_LIMIT_PER_MINUTE: count('DEFAULT_KEY_RATE_LIMIT_PER_MINUTE', 1, 1_000_000, 600),
  KEY_CACHE_TTL_SECONDS: count('KEY_CACHE_TTL_SECONDS', 0, 3600, 30),
})

export interface LimitsConfig {
  /** null: no global limit (GLOBAL_RATE_LIMIT_PER_MINUTE = 0). */
  global: BucketSpec | null
  globalShards: number
  defaultKeyLimit: BucketSpec
  keyCacheTtlMs: number
}

export type LimitsEnv = Partial<
  Pick<Env, 'GLOBAL_RATE_LIMIT_PER_MINUTE' | 'GLOBAL_RATE_LIMIT_SHARDS' | 'DEFAULT_KEY_RATE_LIMIT_PER_MINUTE' | 'KEY_CACHE_TTL_SECONDS'>
>

const cache = new WeakMap<object, LimitsConfig>()

/** @throws Error naming the bad variable: a misconfigured limiter must refuse traffic, not guess. */
export function loadLimitsConfig(env: LimitsEnv): LimitsConfig {
  const cached = cache.get(env)
  if (cached) return cached
  const parsed = limitsSchema.safeParse(env)
  if (!parsed.success) throw new Error(parsed.error.issues.map((issue) => issue.message).join('; '))
  const values = parsed.data
  const globalPerMinute = values.GLOBAL_RATE_LIMIT_PER_MINUTE
  const config: LimitsConfig = {
    global: globalPerMinute === 0 ? null : { perMinute: globalPerMinute, burst: globalPerMinute },
    // A shard needs at least one token a minute: fewer shards than that would be idle.
    globalShards: Math.max(1, Math.min(values.GLOBAL_RATE_LIMIT_SHARDS, globalPerMinute || 1)),
    defaultKeyLimit: { perMinute: values.DEFAULT_KEY_RATE_LIMIT_PER_MINUTE, burst: values.DEFAULT_KEY_RATE_LIMIT_PER_MINUTE },
    keyCacheTtlMs: values.KEY_CACHE_TTL_SECONDS * 1000,
  }
  cache.set(env, config)
  return config
}

/** Shard `index`'s share of the global budget; the shares add up to the global figures exactly. */
export function shardSpec(global: BucketSpec, shards: number, index: number): BucketSpec {
  const share = (total: number) => Math.floor(total / shards) + (index < total % shards ? 1 : 0)
  return { perMinute: share(global.perMinute), burst: Math.max(1, share(global.burst)) }
}
