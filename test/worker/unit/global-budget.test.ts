/** The key object's leases of the global budget, against in-memory shards (the real shards are tested end to end). */
import { describe, expect, it } from 'vitest'
import type { LimitsConfig } from '../../../src/limits/config'
import { takeUpTo, type BucketSpec } from '../../../src/limits/gcra'
import { GlobalBudget } from '../../../src/limits/global-budget'
import type { LeaseRequest, LeaseResult } from '../../../src/limits/global-limiter'

function config(perMinute: number, shards: number): LimitsConfig {
  return { global: { perMinute, burst: perMinute }, globalShards: shards, defaultKeyLimit: { perMinute: 600, burst: 600 }, keyCacheTtlMs: 30_000 }
}

/** Shards as plain buckets; counts the lease calls. */
function memoryShards() {
  const tats = new Map<number, number>()
  const calls: number[] = []
  return {
    calls,
    async lease(shard: number, { want, spec }: LeaseRequest): Promise<LeaseResult> {
      calls.push(shard)
      const result = takeUpTo(spec as BucketSpec, tats.get(shard) ?? 0, Date.now(), want)
      if (result.granted) tats.set(shard, result.tat)
      return { granted: result.granted, retryAfterMs: result.retryAfterMs }
    },
  }
}

describe('global budget leases', () => {
  it('never admits more than the global budget, across every shard, and one key can use all of it', async () => {
    const shards = memoryShards()
    const budget = new GlobalBudget(config(100, 4), 2, shards)
    const results = await Promise.all(Array.from({ length: 300 }, () => budget.take()))
    const admitted = results.filter((result) => result.ok).length
    // 100 tokens in the shards' buckets, plus at most what refilled during the test (100/min).
    expect(admitted).toBeGreaterThanOrEqual(100)
    expect(admitted).toBeLessThanOrEqual(102)
    expect(new Set(shards.calls)).toEqual(new Set([0, 1, 2, 3]))
    const refused = results.find((result) => !result.ok)
    expect(refused && !refused.ok && refused.retryAfterMs).toBeGreaterThan(0)
  })

  it('leases in growing blocks, so a busy key calls the shards far less than once per request', async () => {
    const shards = memoryShards()
    const budget = new GlobalBudget(config(600_000, 2), 0, shards)
    for (let index = 0; index < 1000; index++) expect((await budget.take()).ok).toBe(true)
    expect(shards.calls.length).toBeLessThan(60)
  })

  it('stops asking the shards while they are all empty', async () => {
    const shards = memoryShards()
    const budget = new GlobalBudget(config(4, 2), 0, shards)
    for (let index = 0; index < 4; index++) expect((await budget.take()).ok).toBe(true)
    expect((await budget.take()).ok).toBe(false)
    const callsAfterExhaustion = shards.calls.length
    for (let index = 0; index < 50; index++) expect((await budget.take()).ok).toBe(false)
    expect(shards.calls.length).toBe(callsAfterExhaustion)
  })

  it('admits everything when the global limit is off', async () => {
    const shards = memoryShards()
    const budget = new GlobalBudget({ ...config(1, 1), global: null }, 0, shards)
    for (let index = 0; index < 100; index++) expect((await budget.take()).ok).toBe(true)
    expect(shards.calls).toEqual([])
  })
})
