/**
 * Per-key rate limits, enforced by the key's Durable Object: exact under concurrency, told to the client with
 * Retry-After and the IETF RateLimit headers, not shared between keys, not drained by refused requests, and kept
 * when the object restarts.
 */
import { abortAllDurableObjects, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import type { KeyObject } from '../../../src/keys/key-object'
import { createTestKey, postMcp } from '../helpers'

const ping = (id: number | string = 1) => ({ jsonrpc: '2.0', id, method: 'ping' })
const policy = (rateLimit: { perMinute: number; burst?: number }, extra: Record<string, unknown> = {}) => ({
  version: 1,
  models: {},
  rateLimit,
  ...extra,
})

async function burst(key: string, count: number): Promise<Response[]> {
  return Promise.all(Array.from({ length: count }, (_, index) => postMcp(key, ping(index))))
}

const statuses = (responses: Response[]) => responses.map((response) => response.status)
const count = (responses: Response[], status: number) => statuses(responses).filter((code) => code === status).length

function keyObject(id: string): DurableObjectStub<KeyObject> {
  return env.KEY_OBJECTS.get(env.KEY_OBJECTS.idFromName(id))
}

describe('per-key rate limit', () => {
  it('lets exactly the burst through out of 200 concurrent calls, plus at most what refilled meanwhile', async () => {
    const { key } = await createTestKey({ policy: policy({ perMinute: 60, burst: 60 }) })
    const started = Date.now()
    const responses = await burst(key, 200)
    const elapsedSeconds = (Date.now() - started) / 1000
    const ok = count(responses, 200)
    expect(count(responses, 429)).toBe(200 - ok)
    expect(ok).toBeGreaterThanOrEqual(60)
    // 60 a minute = one token a second.
    expect(ok).toBeLessThanOrEqual(60 + Math.ceil(elapsedSeconds))
  })

  it('answers 429 with Retry-After, RateLimit-Policy, RateLimit and a JSON-RPC error saying when to retry', async () => {
    const { key } = await createTestKey({ policy: policy({ perMinute: 60, burst: 2 }) })
    const first = await postMcp(key, ping('a'))
    expect(first.status).toBe(200)
    expect(first.headers.get('ratelimit-policy')).toBe('"key";q=60;w=60')
    expect(first.headers.get('ratelimit')).toMatch(/^"key";r=1;t=\d+$/)
    expect((await postMcp(key, ping('b'))).status).toBe(200)

    const refused = await postMcp(key, ping('c'))
    expect(refused.status).toBe(429)
    expect(refused.headers.get('retry-after')).toBe('1')
    expect(refused.headers.get('ratelimit-policy')).toBe('"key";q=60;w=60')
    expect(refused.headers.get('ratelimit')).toBe('"key";r=0;t=1')
    expect(refused.headers.get('content-type')).toMatch(/^application\/json/)
    const body = (await refused.json()) as { jsonrpc: string; id: unknown; error: { code: number; message: string; data: Record<string, unknown> } }
    expect(body.jsonrpc).toBe('2.0')
    expect(body.id).toBe('c')
    expect(body.error.code).toBe(-32029)
    expect(body.error.message).toMatch(/Rate limit exceeded for this API key \(60 requests per minute, bursts of 2\)\. Retry after 1 s\./)
    expect(body.error.data).toMatchObject({ retry_after_seconds: 1, scope: 'key' })
    expect(typeof body.error.data.request_id).toBe('string')
  })

  it('works again after waiting as long as Retry-After says', async () => {
    const { key } = await createTestKey({ policy: policy({ perMinute: 60, burst: 3 }) })
    expect(count(await burst(key, 10), 200)).toBeLessThanOrEqual(4)
    const refused = await postMcp(key, ping())
    expect(refused.status).toBe(429)
    await new Promise((resolve) => setTimeout(resolve, Number(refused.headers.get('retry-after')) * 1000 + 50))
    expect((await postMcp(key, ping())).status).toBe(200)
  })

  it('refills at the sustained rate, not in a window that lets twice the limit through', async () => {
    // 1200 a minute = one token every 50 ms; bucket of 5.
    const { key } = await createTestKey({ policy: policy({ perMinute: 1200, burst: 5 }) })
    const start = Date.now()
    const firstWave = count(await burst(key, 20), 200)
    await new Promise((resolve) => setTimeout(resolve, 500))
    const secondWave = count(await burst(key, 20), 200)
    const elapsed = Date.now() - start
    expect(firstWave).toBeGreaterThanOrEqual(5)
    // Over the whole run no more than the bucket plus one token per 50 ms can have passed.
    expect(firstWave + secondWave).toBeLessThanOrEqual(5 + Math.ceil(elapsed / 50) + 1)
    expect(secondWave).toBeGreaterThanOrEqual(5)
    expect(secondWave).toBeLessThanOrEqual(5 + 2 + Math.ceil((elapsed - 500) / 50))
  })

  it('keeps keys apart: exhausting one leaves the other untouched', async () => {
    const a = await createTestKey({ policy: policy({ perMinute: 60, burst: 5 }) })
    const b = await createTestKey({ policy: policy({ perMinute: 60, burst: 5 }) })
    const [fromA, fromB] = await Promise.all([burst(a.key, 30), burst(b.key, 30)])
    expect(count(fromA, 200)).toBeGreaterThanOrEqual(5)
    expect(count(fromA, 200)).toBeLessThanOrEqual(6)
    expect(count(fromB, 200)).toBeGreaterThanOrEqual(5)
    expect(count(fromB, 200)).toBeLessThanOrEqual(6)
  })

  it('applies the deployment default to a key whose policy sets no rateLimit', async () => {
    const { key } = await createTestKey({ policy: { version: 1, models: {} } })
    const response = await postMcp(key, ping())
    expect(response.status).toBe(200)
    const perMinute = env.DEFAULT_KEY_RATE_LIMIT_PER_MINUTE
    expect(response.headers.get('ratelimit-policy')).toBe(`"key";q=${perMinute};w=60`)
  })

  it('is not drained by requests from a refused address (a stolen key used from elsewhere)', async () => {
    const { key } = await createTestKey({ policy: policy({ perMinute: 60, burst: 3 }, { ip: { allow: ['203.0.113.0/24'] } }) })
    const attacker = await Promise.all(Array.from({ length: 20 }, () => postMcp(key, ping(), { 'cf-connecting-ip': '198.51.100.9' })))
    expect(new Set(statuses(attacker))).toEqual(new Set([403]))
    const owner = await Promise.all(Array.from({ length: 3 }, () => postMcp(key, ping(), { 'cf-connecting-ip': '203.0.113.10' })))
    expect(statuses(owner)).toEqual([200, 200, 200])
  })

  it('keeps the bucket when the object restarts', async () => {
    const { id, key } = await createTestKey({ policy: policy({ perMinute: 60, burst: 3 }) })
    expect(count(await burst(key, 3), 200)).toBe(3)
    await abortAllDurableObjects()
    const afterRestart = await postMcp(key, ping())
    expect(afterRestart.status).toBe(429)
    // The object that answered is a new instance that read the bucket back from storage.
    const tat = await runInDurableObject(keyObject(id), (_instance, state) => state.storage.kv.get<{ tat: number }>('usage')?.tat)
    expect(tat).toBeGreaterThan(Date.now())
  })

  it('refuses (503), never lets through, when the key object cannot answer', async () => {
    const { key } = await createTestKey({ policy: policy({ perMinute: 60 }) })
    const failing = {
      idFromName: (name: string) => env.KEY_OBJECTS.idFromName(name),
      get: () => ({ admit: () => Promise.reject(new Error('Durable Object is overloaded. Requests queued for too long.')) }),
    }
    const request = new Request('http://gateway.test/mcp', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${key}` },
      body: JSON.stringify(ping()),
    })
    const { default: worker } = await import('../../../src/index')
    const response = await worker.fetch(request, { ...env, KEY_OBJECTS: failing as unknown as typeof env.KEY_OBJECTS }, {
      waitUntil() {},
      passThroughOnException() {},
      props: {},
    } as unknown as ExecutionContext)
    expect(response.status).toBe(503)
    expect(response.headers.get('retry-after')).toBe('1')
    const body = (await response.json()) as { error: string; message: string }
    expect(body.error).toBe('key_service_unavailable')
    expect(body.message).not.toMatch(/overloaded\. Requests queued/)
  })

  it('refuses (503) when the key object cannot read D1 to load the key', async () => {
    const { id, key } = await createTestKey({ policy: policy({ perMinute: 60 }) })
    await runInDurableObject(keyObject(id), (instance) => {
      const broken = {
        prepare: () => ({ bind: () => ({}) }),
        batch: () => Promise.reject(new Error('D1_ERROR: Network connection lost.')),
      }
      ;(instance as unknown as { env: object }).env = { ...env, DB: broken }
    })
    const response = await postMcp(key, ping())
    expect(response.status).toBe(503)
    expect(((await response.json()) as { error: string }).error).toBe('key_service_unavailable')
    await abortAllDurableObjects()
    expect((await postMcp(key, ping())).status).toBe(200)
  })
})
