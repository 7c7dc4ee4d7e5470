/**
 * Rate-limit response headers as the IETF httpapi draft (draft-ietf-httpapi-ratelimit-headers-10) defines them:
 *   RateLimit-Policy: "key";q=60;w=60        quota q per window w seconds (the sustained rate)
 *   RateLimit: "key";r=59;t=1                 r units left now, t seconds until the quota is fully available again
 * plus Retry-After (RFC 9110) on a 429.
 */
import type { BucketSpec } from './gcra'

export type LimitScope = 'key' | 'global'

export function rateLimitHeaders(scope: LimitScope, spec: BucketSpec, remaining: number, resetMs: number): Record<string, string> {
  return {
    'RateLimit-Policy': `"${scope}";q=${spec.perMinute};w=60`,
    RateLimit: `"${scope}";r=${Math.max(0, remaining)};t=${Math.ceil(Math.max(0, resetMs) / 1000)}`,
  }
}

/** Whole seconds to wait, never 0: "Retry-After: 0" invites an immediate retry that will fail again. */
export function retryAfterSeconds(retryAfterMs: number): number {
  return Math.max(1, Math.ceil(retryAfterMs / 1000))
}
