/**
 * A key object's share of the global rate limit: tokens leased in blocks from the global shards
 * (global-limiter.ts), spent locally, and dropped when the lease ends. Most requests are served from the local
 * block and never leave the key's object.
 *
 * - Blocks adapt to the key's traffic: a block used up before its lease ends doubles the next one, a block that
 *   expires half unused halves it. A quiet key leases 1 token at a time; a busy one up to `maxBlock`.
 * - Leases last LEASE_MS. A token is spent at most LEASE_MS after the shard counted it, so over any window the
 *   deployment admits at most the global limit plus the tokens leased in LEASE_MS (docs/RATE-LIMITS.md).
 * - The home shard is picked from the key id; when it is empty the others are tried in turn, so a single key can
 *   use the whole global budget. When every shard is empty the key stops asking until the earliest refill.
 */
import type { LimitsConfig } from './config'
import { shardSpec } from './config'
import type { LeaseRequest, LeaseResult } from './global-limiter'

export const LEASE_MS = 1_000
/** Upper bound of a block, and at most this fraction of a shard's bucket, so one key cannot drain a shard at once. */
const MAX_BLOCK = 64
const MAX_SHARE_OF_SHARD = 8

export interface ShardCaller {
  lease(shard: number, request: LeaseRequest): Promise<LeaseResult>
}

export type GlobalTake = { ok: true } | { ok: false; retryAfterMs: number }

export class GlobalBudget {
  private tokens = 0
  private leaseEnds = 0
  private leasedInBlock = 0
  private block = 1
  /** While every shard is empty: do not ask again before this time. */
  private exhaustedUntil = 0
  private exhaustedRetryMs = 0
  private refilling?: Promise<void>

  constructor(
    private readonly config: LimitsConfig,
    private readonly homeShard: number,
    private readonly shards: ShardCaller,
  ) {}

  /** Takes one global token, leasing a new block if needed. */
  async take(): Promise<GlobalTake> {
    if (!this.config.global) return { ok: true }
    for (;;) {
      const now = Date.now()
      if (this.tokens > 0 && now < this.leaseEnds) {
        this.tokens--
        return { ok: true }
      }
      if (now < this.exhaustedUntil) return { ok: false, retryAfterMs: Math.max(1, this.exhaustedUntil - now) }
      // One lease at a time; requests arriving meanwhile wait for it, then race for its tokens.
      this.refilling ??= this.refill().finally(() => (this.refilling = undefined))
      await this.refilling
      if (this.tokens === 0 && Date.now() < this.exhaustedUntil) {
        return { ok: false, retryAfterMs: Math.max(1, this.exhaustedRetryMs) }
      }
    }
  }

  /** Tokens held locally right now (for tests and the bench). */
  get held(): number {
    return Date.now() < this.leaseEnds ? this.tokens : 0
  }

  /** Sizes the next block from how the last one went (called just before leasing). */
  private adaptBlock(now: number): void {
    if (this.leasedInBlock === 0) return
    const usedUpEarly = this.tokens === 0 && now < this.leaseEnds
    const mostlyUnused = this.tokens * 2 > this.leasedInBlock
    if (usedUpEarly) this.block = Math.min(this.block * 2, this.maxBlock())
    else if (mostlyUnused) this.block = Math.max(1, Math.floor(this.block / 2))
  }

  private maxBlock(): number {
    const global = this.config.global!
    const smallestShard = Math.floor(global.burst / this.config.globalShards)
    return Math.max(1, Math.min(MAX_BLOCK, Math.floor(smallestShard / MAX_SHARE_OF_SHARD)))
  }

  private async refill(): Promise<void> {
    const global = this.config.global!
    const shardCount = this.config.globalShards
    this.adaptBlock(Date.now())
    let soonest = Number.POSITIVE_INFINITY
    for (let step = 0; step < shardCount; step++) {
      const shard = (this.homeShard + step) % shardCount
      const result = await this.shards.lease(shard, { want: this.block, spec: shardSpec(global, shardCount, shard) })
      if (result.granted > 0) {
        // Tokens of an older lease are dropped: they were counted by their shard too long ago.
        this.tokens = result.granted
        this.leasedInBlock = result.granted
        this.leaseEnds = Date.now() + LEASE_MS
        this.exhaustedUntil = 0
        return
      }
      soonest = Math.min(soonest, result.retryAfterMs)
    }
    this.tokens = 0
    this.leasedInBlock = 0
    this.exhaustedRetryMs = soonest
    this.exhaustedUntil = Date.now() + soonest
  }
}

/** Stable home shard of a key id (FNV-1a), so a key's leases usually go to the same shard. */
export function homeShardOf(keyId: string, shards: number): number {
  let hash = 0x811c9dc5
  for (let index = 0; index < keyId.length; index++) {
    hash ^= keyId.charCodeAt(index)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash % shards
}
