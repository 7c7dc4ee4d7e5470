/**
 * The policy of an authenticated key, parsed from the JSON stored in D1 and cached per isolate by its exact text (a
 * changed policy is a new cache entry, so there is nothing to invalidate).
 */
import type { ApiKeyRecord } from '../keys/key-store'
import { parsePolicyText, type Policy } from './schema'

export type KeyPolicy =
  | { kind: 'none' }
  | { kind: 'valid'; policy: Policy }
  /** A stored policy that no longer validates (edited by hand in D1, or written by a newer version): fail closed. */
  | { kind: 'invalid'; errors: string[] }

/** Parsed policies kept per isolate. */
const MAX_CACHED_POLICIES = 500
const cache = new Map<string, KeyPolicy>()

export function keyPolicy(key: Pick<ApiKeyRecord, 'policy'>): KeyPolicy {
  if (key.policy === null || key.policy.trim() === '') return { kind: 'none' }
  const hit = cache.get(key.policy)
  if (hit) return hit
  const parsed = parsePolicyText(key.policy)
  const result: KeyPolicy = parsed.ok ? { kind: 'valid', policy: parsed.policy } : { kind: 'invalid', errors: parsed.errors }
  if (cache.size >= MAX_CACHED_POLICIES) cache.delete(cache.keys().next().value!)
  cache.set(key.policy, result)
  return result
}
