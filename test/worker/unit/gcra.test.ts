import { describe, expect, it } from 'vitest'
import { giveBack, takeUpTo } from '../../../src/limits/gcra'
import { shardSpec } from '../../../src/limits/config'

const spec = { perMinute: 60, burst: 10 } // one token a second, bucket of 10

describe('GCRA token bucket', () => {
  it('grants exactly the burst at once, then one token per interval', () => {
    let tat = 0
    const now = 1_000_000
    let granted = 0
    for (let index = 0; index < 50; index++) {
      const result = takeUpTo(spec, tat, now, 1)
      granted += result.granted
      tat = result.tat
    }
    expect(granted).toBe(10)
    const refused = takeUpTo(spec, tat, now, 1)
    expect(refused.granted).toBe(0)
    expect(refused.retryAfterMs).toBe(1000)
    expect(refused.resetMs).toBe(10_000)
    expect(takeUpTo(spec, tat, now + 999, 1).granted).toBe(0)
    expect(takeUpTo(spec, tat, now + 1000, 1).granted).toBe(1)
    expect(takeUpTo(spec, tat, now + 5000, 10).granted).toBe(5)
  })

  it('counts remaining tokens and never lets more than burst + elapsed/interval through, whatever the spacing', () => {
    let tat = 0
    let granted = 0
    const start = 5_000_000
    // Requests every 137 ms for 60 s: at most 10 + 60 can pass.
    for (let now = start; now <= start + 60_000; now += 137) {
      const result = takeUpTo(spec, tat, now, 1)
      if (result.granted) tat = result.tat
      granted += result.granted
    }
    expect(granted).toBeLessThanOrEqual(70)
    expect(granted).toBeGreaterThanOrEqual(69)
    const fresh = takeUpTo(spec, 0, start, 1)
    expect(fresh.remaining).toBe(9)
  })

  it('takes a block of up to N tokens, and gives tokens back', () => {
    const first = takeUpTo(spec, 0, 0, 4)
    expect(first.granted).toBe(4)
    expect(first.remaining).toBe(6)
    const rest = takeUpTo(spec, first.tat, 0, 64)
    expect(rest.granted).toBe(6)
    const back = giveBack(spec, rest.tat, 0, 3)
    expect(takeUpTo(spec, back, 0, 64).granted).toBe(3)
    // Giving back never creates tokens beyond a full bucket.
    expect(giveBack(spec, 0, 1000, 5)).toBe(1000)
  })

  it('splits the global budget across shards so that the shares add up exactly', () => {
    for (const [total, shards] of [[60_000, 8], [120, 7], [5, 3], [1, 1]] as const) {
      const specs = Array.from({ length: shards }, (_, index) => shardSpec({ perMinute: total, burst: total }, shards, index))
      expect(specs.reduce((sum, shard) => sum + shard.perMinute, 0)).toBe(total)
      expect(specs.reduce((sum, shard) => sum + shard.burst, 0)).toBe(total)
    }
  })
})
