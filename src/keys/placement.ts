/**
 * Where the per-key objects and the global limiter's shards live. Cloudflare creates a Durable Object near the first
 * request that asks for it unless told otherwise; for this gateway the right place is next to Odoo, which every tool
 * call reaches (an agent far away then pays its distance once, to the edge, not on each hop to the object). A
 * location hint only applies when an object is first created; objects that exist stay where they are.
 *
 * `ODOO_REGION` is one of Cloudflare's location hints (developers.cloudflare.com/durable-objects/reference/
 * data-location/): wnam, enam, sam, weur, eeur, apac, oc, afr, me. Unset: no hint.
 */
import { ConfigError, LOCATION_HINTS } from '../config'
import type { Env } from '../env'

/** The configured location hint, or undefined. @throws ConfigError naming the accepted values */
export function locationHintOf(env: Pick<Env, 'ODOO_REGION'>): DurableObjectLocationHint | undefined {
  const value = (env.ODOO_REGION ?? '').trim().toLowerCase()
  if (value === '') return undefined
  if ((LOCATION_HINTS as readonly string[]).includes(value)) return value as DurableObjectLocationHint
  throw new ConfigError(`ODOO_REGION must be one of ${LOCATION_HINTS.join(', ')} (the region nearest Odoo), or empty`)
}

const optionsOf = (env: Pick<Env, 'ODOO_REGION'>) => {
  const locationHint = locationHintOf(env)
  return locationHint ? { locationHint } : undefined
}

/** The Durable Object of one API key, created next to Odoo when ODOO_REGION says where that is. */
export function keyObject(env: Pick<Env, 'KEY_OBJECTS' | 'ODOO_REGION'>, keyId: string) {
  return env.KEY_OBJECTS.get(env.KEY_OBJECTS.idFromName(keyId), optionsOf(env))
}

/** One shard of the global rate limit, placed like the key objects that lease from it. */
export function limiterShard(env: Pick<Env, 'GLOBAL_LIMITER' | 'ODOO_REGION'>, shard: number) {
  return env.GLOBAL_LIMITER.get(env.GLOBAL_LIMITER.idFromName(`shard-${shard}`), optionsOf(env))
}
