/**
 * The key lifecycle as the key's Durable Object sees it: the cached key and policy, changes applied at once through
 * the admin channel or within the cache time without it, rotation with a grace period and no failed request,
 * expiry, last_used_at without a D1 write per request, and state that survives a restart.
 */
import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { rotationStatements } from '../../../src/admin/v1/keys/plans'
import { displayPrefix, generateApiKey } from '../../../src/keys/key-format'
import type { KeyObject } from '../../../src/keys/key-object'
import { sha256Hex } from '../../../src/lib/crypto'
import { createTestKey, postMcp } from '../helpers'

const ping = { jsonrpc: '2.0', id: 1, method: 'ping' }
/** Policies told apart by their rate limit, which every response advertises in RateLimit-Policy. */
const policyWithRate = (perMinute: number) => ({ version: 1, models: {}, rateLimit: { perMinute } })
const advertisedRate = (response: Response) => /q=(\d+)/.exec(response.headers.get('ratelimit-policy') ?? '')?.[1]

function keyObject(id: string): DurableObjectStub<KeyObject> {
  return env.KEY_OBJECTS.get(env.KEY_OBJECTS.idFromName(id))
}

/** What the admin API does after its D1 change (src/admin/v1/change.ts applyNow): the key's object reloads now. */
async function refresh(id: string): Promise<{ status: number; json(): Promise<unknown> }> {
  const result = await keyObject(id).refresh(id)
  return { status: result.found ? 200 : 404, json: async () => ({ id, status: result.status }) }
}

async function setPolicyInD1(id: string, policy: unknown): Promise<void> {
  await env.DB.prepare('UPDATE api_keys SET policy = ?1 WHERE id = ?2').bind(JSON.stringify(policy), id).run()
}

/** A rotation with the CLI's own SQL; returns the new secret. */
async function rotate(id: string, graceMs: number): Promise<string> {
  const { key } = generateApiKey()
  const now = Date.now()
  const statements = rotationStatements({ id, keyHash: await sha256Hex(key), prefix: displayPrefix(key), now, graceEndsAt: now + graceMs })
  await env.DB.batch(statements.map((statement) => env.DB.prepare(statement.sql).bind(...statement.params)))
  return key
}

async function errorMessage(response: Response): Promise<string> {
  return ((await response.json()) as { message: string }).message
}

describe('cached key and policy', () => {
  it('serves the policy from the object, and applies a change on the very next request once told', async () => {
    const { id, key } = await createTestKey({ policy: policyWithRate(100) })
    expect(advertisedRate(await postMcp(key, ping))).toBe('100')
    await setPolicyInD1(id, policyWithRate(200))
    // Not told yet: the object still serves its cached copy (no D1 read per request).
    expect(advertisedRate(await postMcp(key, ping))).toBe('100')
    const told = await refresh(id)
    expect(told.status).toBe(200)
    expect(await told.json()).toMatchObject({ id, status: 'active' })
    expect(advertisedRate(await postMcp(key, ping))).toBe('200')
  })

  it('applies a change by itself once the cached copy is older than KEY_CACHE_TTL_SECONDS', async () => {
    const { id, key } = await createTestKey({ policy: policyWithRate(100) })
    expect(advertisedRate(await postMcp(key, ping))).toBe('100')
    await setPolicyInD1(id, policyWithRate(300))
    expect(advertisedRate(await postMcp(key, ping))).toBe('100')
    // Age the cached copy past the TTL (the limits project waits for it for real, with a 1 s TTL).
    const ttlMs = Number(env.KEY_CACHE_TTL_SECONDS) * 1000
    await runInDurableObject(keyObject(id), (instance) => {
      const state = instance as unknown as { cached: { loadedAt: number } }
      state.cached.loadedAt -= ttlMs
    })
    expect(advertisedRate(await postMcp(key, ping))).toBe('300')
  })

  it('refuses a revoked key on the next request once told', async () => {
    const { id, key } = await createTestKey({ policy: policyWithRate(100) })
    expect((await postMcp(key, ping)).status).toBe(200)
    const revokedAt = Date.now()
    await env.DB.prepare('UPDATE api_keys SET revoked_at = ?1 WHERE id = ?2').bind(revokedAt, id).run()
    expect((await refresh(id)).status).toBe(200)
    const refused = await postMcp(key, ping)
    expect(refused.status).toBe(401)
    expect(await errorMessage(refused)).toContain('revoked')
  })

  it('keeps its cached copy across a restart, from its own storage rather than D1', async () => {
    const { id, key } = await createTestKey({ policy: policyWithRate(100) })
    expect(advertisedRate(await postMcp(key, ping))).toBe('100')
    await setPolicyInD1(id, policyWithRate(400))
    await abortAllDurableObjects()
    expect(advertisedRate(await postMcp(key, ping))).toBe('100')
    expect((await refresh(id)).status).toBe(200)
    expect(advertisedRate(await postMcp(key, ping))).toBe('400')
  })
})

describe('expiry', () => {
  it('refuses a key from the moment it expires, with a clear "expired" message in the usual 401 shape', async () => {
    const expiresAt = Date.now() + 400
    const { key } = await createTestKey({ policy: policyWithRate(100), expiresAt })
    expect((await postMcp(key, ping)).status).toBe(200)
    await new Promise((resolve) => setTimeout(resolve, 450))
    const refused = await postMcp(key, ping)
    expect(refused.status).toBe(401)
    expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"')
    const body = (await refused.json()) as Record<string, string>
    expect(body.error).toBe('invalid_token')
    expect(body.message).toBe(`This API key expired at ${new Date(expiresAt).toISOString()}. Ask the gateway administrator for a new key.`)
  })
})

describe('rotation', () => {
  it('accepts the new secret at once, even when the object was not told, and the old one during the grace period', async () => {
    const { id, key: oldKey } = await createTestKey({ policy: policyWithRate(1000) })
    expect((await postMcp(oldKey, ping)).status).toBe(200)
    const newKey = await rotate(id, 60_000)
    expect((await postMcp(newKey, ping)).status).toBe(200)
    expect((await postMcp(oldKey, ping)).status).toBe(200)
  })

  it('refuses the old secret once the grace period has ended, saying it was rotated', async () => {
    const { id, key: oldKey } = await createTestKey({ policy: policyWithRate(1000) })
    const newKey = await rotate(id, 300)
    expect((await postMcp(oldKey, ping)).status).toBe(200)
    await new Promise((resolve) => setTimeout(resolve, 350))
    const refused = await postMcp(oldKey, ping)
    expect(refused.status).toBe(401)
    expect(await errorMessage(refused)).toMatch(/rotated: its previous secret stopped working at \d{4}-/)
    expect((await postMcp(newKey, ping)).status).toBe(200)
  })

  it('shares one rate-limit budget between the old and the new secret (same key)', async () => {
    const { id, key: oldKey } = await createTestKey({ policy: { version: 1, models: {}, rateLimit: { perMinute: 60, burst: 4 } } })
    const newKey = await rotate(id, 60_000)
    const responses = await Promise.all([oldKey, newKey, oldKey, newKey, oldKey, newKey, oldKey, newKey].map((key) => postMcp(key, ping)))
    expect(responses.filter((response) => response.status === 200).length).toBeLessThanOrEqual(5)
  })

  for (const told of [true, false]) {
    it(`produces zero failed requests under continuous traffic (${told ? 'object told' : 'object not told'})`, async () => {
      const { id, key: firstKey } = await createTestKey({ policy: policyWithRate(100_000) })
      let current = firstKey
      let rotated = false
      const failures: number[] = []
      let sent = 0
      const client = async () => {
        while (!rotated || sent < 120) {
          const response = await postMcp(current, ping)
          sent++
          if (response.status !== 200) failures.push(response.status)
          await response.body?.cancel()
        }
      }
      const clients = Promise.all([client(), client(), client(), client()])
      // Rotate once traffic is flowing with the old secret.
      while (sent < 20) await new Promise((resolve) => setTimeout(resolve, 10))
      const newKey = await rotate(id, 60_000)
      if (told) expect((await refresh(id)).status).toBe(200)
      current = newKey
      rotated = true
      await clients
      expect(sent).toBeGreaterThanOrEqual(120)
      expect(failures).toEqual([])
    }, 30_000)
  }
})

describe('last_used_at', () => {
  it('is kept by the object and copied to D1 by its alarm, not written on every request', async () => {
    const { id, key } = await createTestKey({ policy: policyWithRate(1000) })
    const before = Date.now()
    for (let index = 0; index < 5; index++) expect((await postMcp(key, ping)).status).toBe(200)
    const lastUsed = () => env.DB.prepare('SELECT last_used_at FROM api_keys WHERE id = ?1').bind(id).first<number>('last_used_at')
    expect(await lastUsed()).toBeNull()
    expect(await runDurableObjectAlarm(keyObject(id))).toBe(true)
    const stored = await lastUsed()
    expect(stored).toBeGreaterThanOrEqual(before)
    expect(stored).toBeLessThanOrEqual(Date.now())
  })
})
