/**
 * Who may use the admin API (src/admin/v1/auth.ts), attacked.
 *
 * Property: a request is admitted exactly when it carries a signature made with ADMIN_SECRET over the very method,
 * host, path, query, actor and body it arrives with, a timestamp within 5 minutes, and a nonce never seen before.
 * Checked with generated requests: the honest one is admitted; the same bytes again (a replay) are refused; and so
 * is every single-part change of it (method, host, path, query, body, actor, timestamp, nonce) under the original
 * signature. Then one example per known attack, the IP allowlist, and Cloudflare Access tokens.
 */
import { env } from 'cloudflare:workers'
import fc from 'fast-check'
import { generateKeyPair, SignJWT } from 'jose'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ADMIN_NONCE_HEADER, ADMIN_SIGNATURE_HEADER, ADMIN_TIMESTAMP_HEADER, signAdminRequest } from '../../../src/admin/signature'
import type { Env } from '../../../src/env'
import { GATEWAY, gatewayFetch } from '../helpers'
import { accessTeam, admin, adminHeaders, sendWith } from './client'

const HOST = new URL(GATEWAY).host

interface Sent {
  method: string
  path: string
  body: string
  host: string
  headers: Record<string, string>
}

async function send(sent: Sent): Promise<{ status: number; error?: string }> {
  const response = await gatewayFetch(`http://${sent.host}${sent.path}`, {
    method: sent.method,
    headers: { ...sent.headers, ...(sent.method !== 'GET' && sent.body ? { 'content-type': 'application/json' } : {}) },
    body: sent.method === 'GET' ? undefined : sent.body,
  })
  const json = (await response.json()) as { error?: string }
  return { status: response.status, ...(json.error ? { error: json.error } : {}) }
}

const segment = fc.stringMatching(/^[a-z0-9_-]{1,12}$/)
const requestArbitrary = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'),
  path: fc.array(segment, { minLength: 0, maxLength: 3 }).map((parts) => `/admin/v1/${parts.join('/')}`),
  query: fc.array(fc.tuple(segment, fc.string({ maxLength: 8 })), { maxLength: 3 }),
  body: fc.json({ maxDepth: 2 }),
  actor: fc.option(fc.stringMatching(/^[a-z][a-z0-9.@_-]{0,20}$/), { nil: undefined }),
})

type Mutation = 'method' | 'host' | 'path' | 'query' | 'body' | 'actor' | 'timestamp' | 'nonce'

describe('admin API signatures (property)', () => {
  it('admits exactly the signed request, once; any change to what was signed, or a second use, is refused', async () => {
    await fc.assert(
      fc.asyncProperty(requestArbitrary, fc.constantFrom<Mutation>('method', 'host', 'path', 'query', 'body', 'actor', 'timestamp', 'nonce'), async (request, mutation) => {
        const search = new URLSearchParams(request.query).toString()
        const path = request.path + (search ? `?${search}` : '')
        const body = request.method === 'GET' ? '' : request.body
        const headers = await signAdminRequest(env.ADMIN_SECRET!, { method: request.method, host: HOST, pathWithQuery: path, body, ...(request.actor ? { actor: request.actor } : {}) })
        const honest: Sent = { method: request.method, path, body, host: HOST, headers }

        const first = await send(honest)
        expect(first.status, JSON.stringify(first)).not.toBe(401)
        expect(await send(honest)).toEqual({ status: 401, error: 'admin_replayed' })

        // The same signature on a request that differs in one part, with a fresh nonce where the nonce is not the part.
        const fresh = await signAdminRequest(env.ADMIN_SECRET!, { method: request.method, host: HOST, pathWithQuery: path, body, ...(request.actor ? { actor: request.actor } : {}) })
        const changed: Sent = { ...honest, headers: { ...fresh } }
        switch (mutation) {
          case 'method':
            changed.method = request.method === 'PUT' ? 'DELETE' : 'PUT'
            break
          case 'host':
            changed.host = 'other-gateway.test'
            break
          case 'path':
            changed.path = path.replace('/admin/v1', '/admin/v1/x')
            break
          case 'query':
            changed.path = `${path}${search ? '&' : '?'}limit=1`
            break
          case 'body':
            changed.body = `${body} `
            if (request.method === 'GET') changed.method = 'POST'
            break
          case 'actor':
            changed.headers['X-Admin-Actor'] = request.actor ? `${request.actor}x` : 'mallory'
            break
          case 'timestamp':
            changed.headers[ADMIN_TIMESTAMP_HEADER] = String(Number(fresh[ADMIN_TIMESTAMP_HEADER]) - 1)
            break
          case 'nonce':
            changed.headers[ADMIN_NONCE_HEADER] = 'n'.repeat(22)
            break
        }
        expect(await send(changed), mutation).toEqual({ status: 401, error: 'admin_bad_signature' })
      }),
      { numRuns: 60 },
    )
    // 180 signed round trips, each claiming its nonce in the ledger: 3-6 s on a busy 2-CPU machine.
  }, 30_000)
})

describe('admin API signatures (known attacks)', () => {
  const path = '/admin/v1/whoami'
  const now = () => Math.floor(Date.now() / 1000)
  const cases: [string, () => Promise<Record<string, string>>, string][] = [
    ['no credentials at all', async () => ({}), 'admin_unauthenticated'],
    ['a timestamp alone', async () => ({ [ADMIN_TIMESTAMP_HEADER]: String(now()) }), 'admin_unsigned'],
    ['a guessed secret', () => adminHeaders('GET', path, '', { secret: 'g'.repeat(40) }), 'admin_bad_signature'],
    ['six minutes old', () => adminHeaders('GET', path, '', { nowSeconds: now() - 360 }), 'admin_stale'],
    ['six minutes ahead', () => adminHeaders('GET', path, '', { nowSeconds: now() + 360 }), 'admin_stale'],
    [
      'an exponent-form timestamp',
      async () => ({ ...(await adminHeaders('GET', path, '')), [ADMIN_TIMESTAMP_HEADER]: '1.9e9' }),
      'admin_stale',
    ],
    [
      'a version 1 signature (replayable)',
      async () => ({ [ADMIN_TIMESTAMP_HEADER]: String(now()), [ADMIN_SIGNATURE_HEADER]: `v1=${'0'.repeat(64)}` }),
      'admin_signature_outdated',
    ],
    ['no nonce', async () => { const headers = await adminHeaders('GET', path, ''); delete headers[ADMIN_NONCE_HEADER]; return headers }, 'admin_bad_nonce'],
    ['a nonce with separators', async () => ({ ...(await adminHeaders('GET', path, '')), [ADMIN_NONCE_HEADER]: 'abcdefgh ijklmnop:q' }), 'admin_bad_nonce'],
    ['an actor with spaces (to pass for another name in the log)', async () => ({ ...(await adminHeaders('GET', path, '', { actor: 'alice' })), 'X-Admin-Actor': 'alice (admin)' }), 'admin_bad_actor'],
    ['an all-zero signature', async () => ({ ...(await adminHeaders('GET', path, '')), [ADMIN_SIGNATURE_HEADER]: `v2=${'0'.repeat(64)}` }), 'admin_bad_signature'],
    ['a GitHub-style signature', async () => ({ ...(await adminHeaders('GET', path, '')), [ADMIN_SIGNATURE_HEADER]: 'sha256=zz' }), 'admin_bad_signature'],
  ]
  for (const [label, headers, error] of cases) {
    it(`refuses ${label}`, async () => {
      const response = await gatewayFetch(GATEWAY + path, { headers: await headers() })
      expect(response.status).toBe(401)
      expect(((await response.json()) as { error: string }).error).toBe(error)
    })
  }

  it('signs the actor into the admin log, and a replay with another actor is refused', async () => {
    const answer = await admin<{ actor: string; auth: string }>('GET', '/whoami', undefined, { actor: 'alice' })
    expect(answer.body).toMatchObject({ actor: 'secret:alice', auth: 'signature' })
    expect((await admin<{ actor: string }>('GET', '/whoami')).body.actor).toBe('secret')
  })

  it('never reads the body of a request without credentials, and refuses bodies over 1 MiB', async () => {
    const huge = 'x'.repeat(2 * 1024 * 1024)
    const unsigned = await gatewayFetch(`${GATEWAY}/admin/v1/keys`, { method: 'POST', body: huge })
    expect(unsigned.status).toBe(413)
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(huge))
        controller.close()
      },
    })
    const signedHeaders = await adminHeaders('POST', '/admin/v1/keys', huge)
    const chunked = await gatewayFetch(`${GATEWAY}/admin/v1/keys`, { method: 'POST', headers: signedHeaders, body: stream, duplex: 'half' } as RequestInit)
    expect(chunked.status).toBe(413)
    expect(((await chunked.json()) as { error: string }).error).toBe('body_too_large')
  })

  it('is off without ADMIN_SECRET and Access, and off (fail closed) with a short secret or a bad setting', async () => {
    const headers = await adminHeaders('GET', '/admin/v1/whoami', '', { secret: 'z'.repeat(40) })
    expect((await sendWith({ ADMIN_SECRET: undefined }, '/whoami', { headers })).body.error).toBe('admin_disabled')
    expect((await sendWith({ ADMIN_SECRET: 'short-secret' }, '/whoami', { headers })).body.error).toBe('admin_misconfigured')
    expect((await sendWith({ ADMIN_ALLOWED_IPS: '10.0.0.0/33' }, '/whoami', { headers })).body).toMatchObject({ error: 'admin_misconfigured', message: expect.stringContaining('ADMIN_ALLOWED_IPS') })
    expect((await sendWith({ ACCESS_TEAM_DOMAIN: 'https://team.cloudflareaccess.com' }, '/whoami', { headers })).body.error).toBe('admin_misconfigured')
  })
})

describe('ADMIN_ALLOWED_IPS', () => {
  const allow = { ADMIN_ALLOWED_IPS: '203.0.113.0/24, 2001:db8::/32' }

  it('admits listed addresses and refuses others, before looking at the signature', async () => {
    const signed = async () => adminHeaders('GET', '/admin/v1/whoami', '')
    expect((await sendWith(allow, '/whoami', { headers: { ...(await signed()), 'cf-connecting-ip': '203.0.113.9' } })).status).toBe(200)
    expect((await sendWith(allow, '/whoami', { headers: { ...(await signed()), 'cf-connecting-ip': '2001:db8::1' } })).status).toBe(200)
    for (const address of ['198.51.100.1', '::ffff:198.51.100.1', '2001:db9::1']) {
      const refused = await sendWith(allow, '/whoami', { headers: { ...(await signed()), 'cf-connecting-ip': address } })
      expect([refused.status, refused.body.error], address).toEqual([403, 'admin_ip_not_allowed'])
    }
    // Only CF-Connecting-IP counts: a forwarded-for header naming a listed address changes nothing.
    const spoofed = await sendWith(allow, '/whoami', { headers: { ...(await signed()), 'x-forwarded-for': '203.0.113.9', 'x-real-ip': '203.0.113.9' } })
    expect([spoofed.status, spoofed.body.error]).toEqual([403, 'admin_ip_not_allowed'])
  })
})

describe('Cloudflare Access', () => {
  afterEach(() => vi.restoreAllMocks())

  /** A team with its own signing key, its certs URL answered by a stand-in for Cloudflare. */
  async function team(name: string) {
    const { domain, privateKey, jwk } = await accessTeam(name)
    const config = { ACCESS_TEAM_DOMAIN: domain, ACCESS_AUD: 'aud-tag-123', ADMIN_SECRET: undefined }
    const token = (claims: Record<string, unknown>, options: { audience?: string; issuer?: string; expiresIn?: string; key?: CryptoKey; kid?: string } = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? jwk.kid })
        .setIssuer(options.issuer ?? domain)
        .setAudience(options.audience ?? 'aud-tag-123')
        .setIssuedAt()
        .setExpirationTime(options.expiresIn ?? '5m')
        .sign(options.key ?? privateKey)
    return { domain, config, token }
  }

  const whoami = (config: Partial<Env>, token: string) => sendWith(config, '/whoami', { headers: { 'cf-access-jwt-assertion': token } })

  it('accepts a valid token as an admin identity (a person by e-mail, a service token by its id)', async () => {
    const { config, token } = await team('acme')
    expect((await whoami(config, await token({ email: 'alice@example.com' }))).body).toMatchObject({ actor: 'access:alice@example.com', auth: 'access' })
    expect((await whoami(config, await token({ common_name: 'ci.access' }))).body).toMatchObject({ actor: 'access:service:ci.access' })
  })

  it('refuses tokens for another application, another team, expired, signed by another key, unsigned or HMAC-signed', async () => {
    const { config, token, domain } = await team('beta')
    const other = await generateKeyPair('RS256')
    const refused: [string, string][] = [
      ['other audience', await token({ email: 'a@b.c' }, { audience: 'someone-else' })],
      ['other issuer', await token({ email: 'a@b.c' }, { issuer: 'https://evil.cloudflareaccess.com' })],
      ['expired', await token({ email: 'a@b.c' }, { expiresIn: '-10m' })],
      ['another key, same kid', await token({ email: 'a@b.c' }, { key: other.privateKey })],
      ['unknown kid', await token({ email: 'a@b.c' }, { key: other.privateKey, kid: 'nope' })],
      ['no identity', await token({})],
      ['alg none', `${btoa(JSON.stringify({ alg: 'none' }))}.${btoa(JSON.stringify({ iss: domain, aud: 'aud-tag-123', email: 'a@b.c', exp: 9e9 }))}.`],
      [
        'HS256 with the public key as secret',
        await new SignJWT({ email: 'a@b.c' })
          .setProtectedHeader({ alg: 'HS256', kid: 'beta-key' })
          .setIssuer(domain)
          .setAudience('aud-tag-123')
          .setExpirationTime('5m')
          .sign(new TextEncoder().encode('public-key-material-as-hmac-secret')),
      ],
      ['garbage', 'not.a.jwt'],
    ]
    for (const [label, bad] of refused) {
      const answer = await whoami(config, bad)
      expect([answer.status, answer.body.error], label).toEqual([401, 'admin_access_denied'])
    }
  })

  it('answers 503 when the team keys cannot be fetched, and ignores Access headers where Access is not configured', async () => {
    const { privateKey } = await generateKeyPair('RS256')
    const wellFormed = await new SignJWT({ email: 'a@b.c' }).setProtectedHeader({ alg: 'RS256', kid: 'k' }).setIssuer('https://down.cloudflareaccess.com').setAudience('x').setExpirationTime('5m').sign(privateKey)
    vi.spyOn(globalThis, 'fetch').mockRejectedValue(new TypeError('network down'))
    const unreachable = await whoami({ ACCESS_TEAM_DOMAIN: 'https://down.cloudflareaccess.com', ACCESS_AUD: 'x' }, wellFormed)
    expect([unreachable.status, unreachable.body.error]).toEqual([503, 'access_keys_unavailable'])
    vi.restoreAllMocks()
    // Only ADMIN_SECRET configured: an Access header is no credential at all.
    const ignored = await whoami({}, 'a.b.c')
    expect([ignored.status, ignored.body.error]).toEqual([401, 'admin_unauthenticated'])
  })
})
