import { describe, expect, it } from 'vitest'
import { generateApiKey } from '../../../src/keys/key-format'
import { createTestKey, postMcp } from '../helpers'

const ping = { jsonrpc: '2.0', id: 1, method: 'ping' }

async function expect401(response: Response) {
  expect(response.status).toBe(401)
  expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/)
  const body = (await response.json()) as Record<string, string>
  expect(Object.keys(body).sort()).toEqual(['error', 'message', 'request_id'])
  return body
}

describe('bearer authentication', () => {
  it('lets a valid key through', async () => {
    const { key } = await createTestKey()
    const response = await postMcp(key, ping)
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ id: 1, result: {} })
  })

  it('refuses a missing Authorization header', async () => {
    const body = await expect401(await postMcp(undefined, ping))
    expect(body.error).toBe('missing_token')
  })

  it('refuses other schemes and empty bearer values', async () => {
    const { key } = await createTestKey()
    for (const header of [`Basic ${btoa('a:b')}`, 'Bearer', 'Bearer ', `Token ${key}`, `Bearer ${key} extra`]) {
      const body = await expect401(await postMcp(undefined, ping, { authorization: header }))
      expect(body.error).toBe('invalid_token')
    }
  })

  it('tells a malformed key (typo, truncation) apart from a wrong key', async () => {
    const { key } = await createTestKey()
    const typo = key.slice(0, 20) + (key[20] === 'a' ? 'b' : 'a') + key.slice(21)
    const malformed = await expect401(await postMcp(typo, ping))
    const truncated = await expect401(await postMcp(key.slice(0, -3), ping))
    expect(malformed.message).toMatch(/malformed/)
    expect(truncated.message).toBe(malformed.message)
  })

  it('gives unknown, revoked and expired keys the same 401 shape, each with a message saying why', async () => {
    const unknown = generateApiKey().key
    const revokedAt = Date.now() - 1000
    const revoked = await createTestKey({ revokedAt })
    const expiresAt = Date.now() - 1000
    const expired = await createTestKey({ expiresAt })
    const responses = [await postMcp(unknown, ping), await postMcp(revoked.key, ping), await postMcp(expired.key, ping)]
    const bodies = await Promise.all(responses.map(expect401))
    for (const [index, body] of bodies.entries()) {
      expect(Object.keys(body).sort()).toEqual(['error', 'message', 'request_id'])
      expect(body.error).toBe('invalid_token')
      expect(responses[index]!.headers.get('www-authenticate')).toBe(
        `Bearer realm="odoo-mcp-edge", error="invalid_token", error_description="${body.message}"`,
      )
    }
    expect(bodies[0]!.message).toMatch(/not valid/)
    expect(bodies[1]!.message).toContain(`revoked (${new Date(revokedAt).toISOString()})`)
    expect(bodies[2]!.message).toContain(`expired at ${new Date(expiresAt).toISOString()}`)
  })

  it('accepts a key whose expiry is still in the future', async () => {
    const { key } = await createTestKey({ expiresAt: Date.now() + 60_000 })
    expect((await postMcp(key, ping)).status).toBe(200)
  })

  it('refuses a key sent in the URL, even with a valid header', async () => {
    const { key } = await createTestKey()
    const { gatewayFetch } = await import('../helpers')
    const response = await gatewayFetch(`http://gateway.test/mcp?api_key=${key}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify(ping),
    })
    expect(response.status).toBe(400)
    expect(((await response.json()) as { error: string }).error).toBe('key_in_url')
  })

  it('never echoes the presented key', async () => {
    const unknown = generateApiKey().key
    const response = await postMcp(unknown, ping)
    expect(await response.text()).not.toContain(unknown.slice(4, 20))
  })
})
