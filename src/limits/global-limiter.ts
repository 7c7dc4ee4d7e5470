/**
 * One shard of the global rate limit. The global budget (GLOBAL_RATE_LIMIT_PER_MINUTE) is split evenly across
 * GLOBAL_RATE_LIMIT_SHARDS of these objects; key objects lease tokens from them in blocks (global-budget.ts), so a
 * shard sees one call per block rather than one per request. docs/RATE-LIMITS.md explains the design and its bound.
 */
import { DurableObject } from 'cloudflare:workers'
import type { Env } from '../env'
import { takeUpTo, type BucketSpec } from './gcra'

export interface LeaseRequest {
  /** Tokens wanted (the caller's block size). */
  want: number
  /** This shard's share of the global budget, computed by the caller from the same configuration. */
  spec: BucketSpec
}

export interface LeaseResult {
  granted: number
  /** When nothing was granted: ms until this shard has a token again. */
  retryAfterMs: number
}

const STATE_KEY = 'tat'

export class GlobalLimiterShard extends DurableObject<Env> {
  /** The bucket's TAT (gcra.ts), mirrored in storage so a restart does not hand out a fresh bucket. */
  private tat: number

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.tat = (ctx.storage.kv.get<number>(STATE_KEY) ?? 0)
  }

  lease({ want, spec }: LeaseRequest): LeaseResult {
    const now = Date.now()
    const result = takeUpTo(spec, this.tat, now, Math.max(1, Math.floor(want)))
    if (result.granted > 0) {
      this.tat = result.tat
      // Synchronous SQLite write; the output gate holds the answer until it is durable.
      this.ctx.storage.kv.put(STATE_KEY, this.tat)
    }
    return { granted: result.granted, retryAfterMs: result.retryAfterMs }
  }
}
