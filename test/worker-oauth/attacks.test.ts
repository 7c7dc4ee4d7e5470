/**
 * The usual OAuth attacks, one test each (docs/SECURITY.md, "OAuth threats" lists them with these tests' names).
 * The generated-input properties are in properties.test.ts.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { SIGN_IN_REFUSED } from '../../src/oauth/authorize'
import { flushAudit } from '../worker/audit/helpers'
import { sim } from '../worker/helpers'
import {
  addProfile,
  authorizeUrl,
  CALLBACK,
  clearProfiles,
  connectionOf,
  fetchGateway,
  ISSUER,
  mcpWith,
  obtainCode,
  openPage,
  pkce,
  postPage,
  redeem,
  refreshWith,
  register,
  signInAsBrowser,
  type Tokens,
} from './helpers'


async function connected(values: Parameters<typeof obtainCode>[0] = {}) {
  const grant = await obtainCode(values)
  const response = await redeem(grant)
  expect(response.status, await response.clone().text()).toBe(200)
  return { grant, tokens: (await response.json()) as Tokens }
}

async function connectionRow(id: string) {
  return env.DB.prepare('SELECT * FROM connections WHERE id = ?1').bind(id).first<Record<string, unknown>>()
}

/** Every response of a flow, headers and body, as one string: what a client could ever have seen. */
async function everythingSeen(responses: (Response | string)[]): Promise<string> {
  const parts: string[] = []
  for (const response of responses) {
    if (typeof response === 'string') {
      parts.push(response)
      continue
    }
    parts.push(JSON.stringify([...response.headers]))
    if (!response.bodyUsed) parts.push(await response.clone().text())
  }
  return parts.join('\n')
}

beforeAll(async () => {
  await clearProfiles()
  await addProfile({ name: 'sales' })
})

describe('redirect URIs (no open redirect)', () => {
  it('an unregistered redirect URI gets a page, never a redirect', async () => {
    const clientId = await register()
    const { challenge } = await pkce()
    for (const redirectUri of ['https://evil.example/callback', 'http://127.0.0.1:33418/other', 'http://localhost.evil.example:33418/callback', `${CALLBACK}?x=1`, `${CALLBACK}#frag`]) {
      const page = await openPage(authorizeUrl({ clientId, challenge, redirectUri }))
      expect(page.status, redirectUri).toBeGreaterThanOrEqual(400)
      expect(page.response.headers.get('location'), redirectUri).toBeNull()
    }
  })

  it('an unknown client gets a page, never a redirect, whatever redirect URI it names', async () => {
    const { challenge } = await pkce()
    const page = await openPage(authorizeUrl({ clientId: 'no-such-client', challenge, redirectUri: 'https://evil.example/cb' }))
    expect(page.status).toBe(400)
    expect(page.response.headers.get('location')).toBeNull()
  })

  it('a loopback redirect may change its port (RFC 8252), nothing else', async () => {
    const clientId = await register()
    const { challenge } = await pkce()
    const page = await openPage(authorizeUrl({ clientId, challenge, redirectUri: 'http://127.0.0.1:45555/callback' }))
    expect(page.status).toBe(200)
  })

  it('a profile pinned to a redirect URI admits no other client', async () => {
    await addProfile({ name: 'claude-only', redirectUris: ['https://claude.ai/api/mcp/auth_callback'], clientName: 'Claude' })
    const impostor = await register([CALLBACK], 'Claude')
    const { challenge } = await pkce()
    const page = await openPage(authorizeUrl({ clientId: impostor, challenge }))
    // The impostor only sees the unpinned profile: its name alone buys it nothing.
    expect(page.profiles).toEqual(['sales'])
    await env.DB.prepare("DELETE FROM connector_profiles WHERE name = 'claude-only'").run()
  })
})

describe('state and PKCE are required of every client', () => {
  it('no state, no code_challenge, or the plain method: an error back to the client, no page, no code', async () => {
    const clientId = await register()
    const { challenge } = await pkce()
    for (const [label, params] of [
      ['no state', { state: null, challenge }],
      ['no challenge', { challenge: null }],
      ['plain', { challenge, method: 'plain' }],
      ['no method', { challenge, method: null }],
    ] as const) {
      const page = await openPage(authorizeUrl({ clientId, ...params }))
      expect(page.status, label).toBe(302)
      const location = new URL(page.response.headers.get('location')!)
      expect(location.origin + location.pathname, label).toBe(CALLBACK)
      expect(location.searchParams.get('error'), label).toBe('invalid_request')
      expect(location.searchParams.get('code'), label).toBeNull()
    }
  })

  it('a confidential client is held to PKCE too', async () => {
    const response = await fetchGateway(`${ISSUER}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Confidential', redirect_uris: [CALLBACK], token_endpoint_auth_method: 'client_secret_basic' }),
    })
    const { client_id } = (await response.json()) as { client_id: string }
    const page = await openPage(authorizeUrl({ clientId: client_id, challenge: null }))
    expect(new URL(page.response.headers.get('location')!).searchParams.get('error')).toBe('invalid_request')
  })

  it('a wrong code_verifier redeems nothing', async () => {
    const grant = await obtainCode()
    const response = await redeem(grant, { code_verifier: (await pkce()).verifier })
    expect(response.status).toBe(400)
    expect(((await response.json()) as { error: string }).error).toBe('invalid_grant')
  })
})

describe('codes', () => {
  it('a code works once; replaying it revokes what it gave', async () => {
    const { grant, tokens } = await connected()
    expect((await mcpWith(tokens.access_token)).status).toBe(200)
    const replay = await redeem(grant)
    expect(replay.status).toBe(400)
    expect((await mcpWith(tokens.access_token)).status).toBe(401)
  })

  it('a code is bound to its client and redirect URI', async () => {
    const grant = await obtainCode()
    const other = await register()
    expect((await redeem(grant, { client_id: other })).status).toBeGreaterThanOrEqual(400)
    expect((await redeem(grant, { redirect_uri: 'http://127.0.0.1:33418/elsewhere' })).status).toBe(400)
  })

  it('tokens are bound to this resource (RFC 8707)', async () => {
    const clientId = await register()
    const { challenge } = await pkce()
    const page = await openPage(authorizeUrl({ clientId, challenge, resource: 'https://other.example/mcp' }))
    expect(new URL(page.response.headers.get('location')!).searchParams.get('error')).toBe('invalid_target')
  })
})

describe('the consent form', () => {
  it('cannot be framed, cached or referred', async () => {
    const clientId = await register()
    const { challenge } = await pkce()
    const page = await openPage(authorizeUrl({ clientId, challenge }))
    expect(page.status).toBe(200)
    const headers = page.response.headers
    expect(headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
    expect(headers.get('content-security-policy')).toContain("default-src 'none'")
    expect(headers.get('x-frame-options')).toBe('DENY')
    expect(headers.get('cache-control')).toBe('no-store')
    expect(headers.get('referrer-policy')).toBe('same-origin')
    expect(page.html).not.toContain('<script')
  })

  it('refuses a post without the browser binding cookie (CSRF), and one from another site', async () => {
    const clientId = await register()
    const { challenge } = await pkce()
    const url = authorizeUrl({ clientId, challenge })
    const page = await openPage(url)
    const { CookieJar } = await import('./helpers')
    // Another login than the other tests' successful sign-ins: a post without the binding spends a sign-in try.
    const noCookie = await postPage(page.action!, new CookieJar(), { handle: page.handle!, login: 'internal_user', secret: 'internal_user' })
    expect(noCookie.status).toBe(400)
    expect(noCookie.headers.get('location')).toBeNull()
    const crossSite = await postPage(page.action!, page.jar, { handle: page.handle!, login: 'admin', secret: 'admin' }, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' })
    expect(crossSite.status).toBe(403)
    expect(crossSite.headers.get('location')).toBeNull()
    // The real page still works afterwards: neither attempt spent the handle.
    const real = await postPage(page.action!, page.jar, { handle: page.handle!, login: 'admin', secret: 'admin' })
    expect(real.status).toBe(302)
  })

  it('escapes what the client chose (its name)', async () => {
    const clientId = await register([CALLBACK], '<img src=x onerror=alert(1)>"Claude"')
    const { challenge } = await pkce()
    const page = await openPage(authorizeUrl({ clientId, challenge }))
    expect(page.html).not.toContain('<img src=x')
    expect(page.html).toContain('&#60;img src=x onerror=alert(1)&#62;')
  })

  it('a denied consent sends access_denied back, with the state, and creates nothing', async () => {
    const before = await env.DB.prepare('SELECT COUNT(*) AS n FROM connections').first<{ n: number }>()
    const clientId = await register()
    const { challenge } = await pkce()
    const response = await signInAsBrowser(authorizeUrl({ clientId, challenge }), { decision: 'deny' })
    const location = new URL(response.headers.get('location')!)
    expect(location.searchParams.get('error')).toBe('access_denied')
    expect(location.searchParams.get('state')).toBe('state-123')
    const after = await env.DB.prepare('SELECT COUNT(*) AS n FROM connections').first<{ n: number }>()
    expect(after!.n).toBe(before!.n)
  })
})

describe('sign-in failures', () => {
  it('say the same words whether the login, the secret, or the profile refused, and are audited', async () => {
    await addProfile({ name: 'only-demo', logins: ['demo'] })
    const clientId = await register()
    const { challenge } = await pkce()
    const url = authorizeUrl({ clientId, challenge })
    const ip = { 'cf-connecting-ip': '198.51.100.10' }
    const answers: { status: number; text: string }[] = []
    for (const [login, secret, profile] of [
      ['admin', 'wrong-secret', 'sales'],
      ['nobody-here', 'whatever', 'sales'],
      ['admin', 'admin', 'only-demo'],
    ] as const) {
      const page = await openPage(url)
      const response = await postPage(page.action!, page.jar, { handle: page.handle!, login, secret, profile }, ip)
      const html = await response.text()
      answers.push({ status: response.status, text: /role="alert" id="error">([^<]*)</.exec(html)?.[1] ?? '' })
      if (secret !== 'admin') expect(html).not.toContain(secret)
    }
    expect(answers.map((answer) => answer.status)).toEqual([401, 401, 401])
    expect(new Set(answers.map((answer) => answer.text))).toEqual(new Set([SIGN_IN_REFUSED.replace(/'/g, '&#39;')]))
    await env.DB.prepare("DELETE FROM connector_profiles WHERE name = 'only-demo'").run()
    await flushAudit()
    const failures = await env.DB.prepare("SELECT odoo_user FROM audit_log WHERE code = 'oauth_sign_in_failed' AND ip = '198.51.100.10'").all<{ odoo_user: string }>()
    expect(failures.results.map((row) => row.odoo_user).sort()).toEqual(['admin', 'admin', 'nobody-here'])
  })

  it('are limited per login: after 5 failures even the right secret waits', async () => {
    const clientId = await register()
    const { challenge } = await pkce()
    const url = authorizeUrl({ clientId, challenge })
    const statuses: number[] = []
    for (let attempt = 0; attempt < 6; attempt++) {
      const page = await openPage(url)
      // A different address each time: the login's own limit is what stops it.
      const response = await postPage(page.action!, page.jar, { handle: page.handle!, login: 'demo', secret: 'wrong' }, { 'cf-connecting-ip': `203.0.113.${attempt + 1}` })
      statuses.push(response.status)
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429])
    const page = await openPage(url)
    const right = await postPage(page.action!, page.jar, { handle: page.handle!, login: 'demo', secret: 'demo' }, { 'cf-connecting-ip': '203.0.113.99' })
    expect(right.status).toBe(429)
    expect(await right.text()).toContain('Too many failed sign-ins')
  })

  it('feed the auth_failures alert for the address', async () => {
    const clientId = await register()
    const { challenge } = await pkce()
    const url = authorizeUrl({ clientId, challenge })
    for (let attempt = 0; attempt < 10; attempt++) {
      const page = await openPage(url)
      await postPage(page.action!, page.jar, { handle: page.handle!, login: `guess-${attempt}`, secret: 'x' }, { 'cf-connecting-ip': '192.0.2.77' })
    }
    await flushAudit()
    const alerts = await env.DB.prepare("SELECT rule FROM alerts WHERE subject = 'ip:192.0.2.77'").all<{ rule: string }>()
    expect(alerts.results.map((row) => row.rule)).toContain('auth_failures')
  })
})

describe('refresh tokens', () => {
  it('rotate, and a reused one revokes the connection (and raises token_reuse)', async () => {
    const { grant, tokens } = await connected()
    const first = await refreshWith(grant.clientId, tokens.refresh_token)
    expect(first.status).toBe(200)
    const next = (await first.json()) as Tokens
    expect(next.refresh_token).not.toBe(tokens.refresh_token)
    const reused = await refreshWith(grant.clientId, tokens.refresh_token)
    expect(reused.status).toBe(400)
    expect(((await reused.json()) as { error: string }).error).toBe('invalid_grant')
    const id = connectionOf(tokens.access_token)
    expect((await connectionRow(id))!.revoked_reason).toBe('refresh_reuse')
    // Everything of the grant stops: the newer refresh token and the access tokens.
    expect((await refreshWith(grant.clientId, next.refresh_token)).status).toBe(400)
    expect((await mcpWith(next.access_token)).status).toBe(401)
    expect((await mcpWith(tokens.access_token)).status).toBe(401)
    await flushAudit([id])
    const alerts = await env.DB.prepare("SELECT rule FROM alerts WHERE key_id = ?1").bind(id).all<{ rule: string }>()
    expect(alerts.results.map((row) => row.rule)).toContain('token_reuse')
  })

  it('a forged refresh token naming someone else\'s connection revokes nothing', async () => {
    const { grant, tokens } = await connected()
    const [id, grantId] = tokens.refresh_token.split(':')
    const forged = `${id}:${grantId}:${'A'.repeat(32)}`
    expect((await refreshWith(grant.clientId, forged)).status).toBe(400)
    expect((await connectionRow(id!))!.revoked_at).toBeNull()
    expect((await refreshWith(grant.clientId, tokens.refresh_token)).status).toBe(200)
  })

  it('a revoked connection cannot refresh', async () => {
    const { grant, tokens } = await connected()
    const id = connectionOf(tokens.access_token)
    await env.DB.prepare("UPDATE connections SET revoked_at = ?1, revoked_reason = 'admin' WHERE id = ?2").bind(Date.now(), id).run()
    const response = await refreshWith(grant.clientId, tokens.refresh_token)
    expect(response.status).toBe(400)
    expect(await response.text()).toContain('revoked')
  })
})

describe('tokens at /mcp', () => {
  it('a token with another connection\'s id in front is refused', async () => {
    const a = await connected()
    const b = await connected()
    const [, grantA, secretA] = a.tokens.access_token.split(':')
    const spliced = `${connectionOf(b.tokens.access_token)}:${grantA}:${secretA}`
    expect((await mcpWith(spliced)).status).toBe(401)
  })

  it('an expired connection is refused with a sign-in hint', async () => {
    const { tokens } = await connected()
    const id = connectionOf(tokens.access_token)
    await env.DB.prepare('UPDATE connections SET expires_at = ?1 WHERE id = ?2').bind(Date.now() - 1000, id).run()
    const { keyObject } = await import('../../src/keys/placement')
    await keyObject(env, id).refresh(id)
    const response = await mcpWith(tokens.access_token)
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toContain('resource_metadata=')
    expect(((await response.json()) as { message: string }).message).toContain('Sign in again')
  })

  it('an API key keeps working beside OAuth, and its refusals carry no sign-in hint', async () => {
    const { createTestKey, postMcp } = await import('../worker/helpers')
    const key = await createTestKey({ policy: { version: 1, models: {} } })
    expect((await postMcp(key.key, { jsonrpc: '2.0', id: 1, method: 'tools/list' })).status).toBe(200)
    await env.DB.prepare('UPDATE api_keys SET revoked_at = ?1 WHERE id = ?2').bind(Date.now() - 1, key.id).run()
    const { keyObject } = await import('../../src/keys/placement')
    await keyObject(env, key.id).refresh(key.id)
    const refused = await postMcp(key.key, { jsonrpc: '2.0', id: 1, method: 'tools/list' })
    expect(refused.status).toBe(401)
    expect(refused.headers.get('www-authenticate')).not.toContain('resource_metadata')
  })
})

describe('no token passthrough', () => {
  it('Odoo never sees the OAuth token, and the client never sees the Odoo secret', async () => {
    await sim.clearCalls()
    const secret = 'odoo-apikey-admin'
    const clientId = await register()
    const { verifier, challenge } = await pkce()
    const url = authorizeUrl({ clientId, challenge })
    const page = await openPage(url)
    const seen: (Response | string)[] = [page.response, page.html]
    // A failed attempt first: the re-rendered page must not echo the secret either.
    const failed = await postPage(page.action!, page.jar, { handle: page.handle!, login: 'admin', secret: `${secret}-wrong` })
    const failedHtml = await failed.text()
    expect(failedHtml).not.toContain(`${secret}-wrong`)
    seen.push(failed, failedHtml)
    const redirect = await postPage(page.action!, page.jar, { handle: page.handle!, login: 'admin', secret })
    seen.push(redirect)
    const code = new URL(redirect.headers.get('location')!).searchParams.get('code')!
    const tokenResponse = await redeem({ clientId, verifier, code, redirectUri: CALLBACK })
    seen.push(tokenResponse)
    const tokens = (await tokenResponse.clone().json()) as Tokens
    const call = await fetchGateway(`${ISSUER}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${tokens.access_token}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'search_records', arguments: { model: 'res.partner', fields: ['name'], limit: 1 } } }),
    })
    expect(call.status).toBe(200)
    seen.push(call)
    seen.push(await refreshWith(clientId, tokens.refresh_token))
    expect(await everythingSeen(seen)).not.toContain(secret)
    const calls = JSON.stringify(await sim.calls())
    expect(calls).toContain('admin')
    for (const part of tokens.access_token.split(':').slice(1)) expect(calls).not.toContain(part)
    expect(calls).not.toContain(connectionOf(tokens.access_token))
    // Stored sealed, bound to the connection id.
    const row = await connectionRow(connectionOf(tokens.access_token))
    expect(String(row!.odoo_secret)).not.toContain(secret)
  })

  it('the KV store holds no token or code in clear', async () => {
    const { tokens } = await connected()
    const keys: string[] = []
    let cursor: string | undefined
    do {
      const page = await env.OAUTH_KV.list(cursor ? { cursor } : {})
      keys.push(...page.keys.map((key) => key.name))
      cursor = page.list_complete ? undefined : page.cursor
    } while (cursor)
    const secretPart = tokens.access_token.split(':')[2]!
    expect(keys.join('\n')).not.toContain(secretPart)
    for (const name of keys.filter((key) => key.startsWith('token:') || key.startsWith('grant:')).slice(0, 50)) {
      expect(String(await env.OAUTH_KV.get(name))).not.toContain(secretPart)
    }
  })
})

describe('client id metadata documents', () => {
  it('a URL client id that names an address, or is not https, is refused before anything is fetched', async () => {
    const { challenge } = await pkce()
    for (const clientId of ['https://127.0.0.1/client.json', 'https://[::1]/c.json', 'http://client.example/c.json', 'https://client.example/', 'https://metadata.google.internal/c.json']) {
      const page = await openPage(authorizeUrl({ clientId, challenge }))
      expect(page.status, clientId).toBe(400)
      expect(page.response.headers.get('location'), clientId).toBeNull()
    }
    const token = await fetchGateway(`${ISSUER}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'x', client_id: 'https://10.0.0.1/c.json' }),
    })
    expect(token.status).toBe(401)
    expect(((await token.json()) as { error: string }).error).toBe('invalid_client')
  })
})

describe('client registration', () => {
  it('is open, but limited per client address (30, then one a minute)', async () => {
    const from = (ip: string) =>
      fetchGateway(`${ISSUER}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'cf-connecting-ip': ip },
        body: JSON.stringify({ client_name: 'flood', redirect_uris: [CALLBACK], token_endpoint_auth_method: 'none' }),
      })
    const statuses: number[] = []
    for (let index = 0; index < 30; index++) statuses.push((await from('198.51.100.200')).status)
    expect(statuses).toEqual(Array(30).fill(201))
    const refused = await from('198.51.100.200')
    expect(refused.status).toBe(429)
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/)
    expect(((await refused.json()) as { error: string }).error).toBe('too_many_registrations')
    // Another address is not affected.
    expect((await from('198.51.100.201')).status).toBe(201)
  })
})

describe('revoking one access token (RFC 7009)', () => {
  it('stops that token at once through the connection\'s object, even where KV still holds it; the connection lives on', async () => {
    const { grant, tokens } = await connected()
    const id = connectionOf(tokens.access_token)
    const { keyObject } = await import('../../src/keys/placement')
    const { sha256Hex } = await import('../../src/lib/crypto')
    // The object's own refusal, with KV untouched (as at a location whose KV copy is stale).
    await keyObject(env, id).revokeAccessToken(await sha256Hex(tokens.access_token), Date.now() + 60_000)
    const refused = await mcpWith(tokens.access_token)
    expect(refused.status).toBe(401)
    expect(((await refused.json()) as { message: string }).message).toContain('revoked by its client')
    // The connection itself is fine: a refreshed token works.
    const next = (await (await refreshWith(grant.clientId, tokens.refresh_token)).json()) as Tokens
    expect((await mcpWith(next.access_token)).status).toBe(200)
    // And through the endpoint: the client revokes its new access token.
    const revocation = await fetchGateway(`${ISSUER}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: next.access_token, client_id: grant.clientId, token_type_hint: 'access_token' }),
    })
    expect(revocation.status).toBe(200)
    expect((await mcpWith(next.access_token)).status).toBe(401)
    expect((await connectionRow(id))!.revoked_at).toBeNull()
  })
})

describe('parameter smuggling and oversized input', () => {
  it('a parameter sent twice is refused at /authorize and /token (RFC 6749 §3.1), whichever copy a parser would take', async () => {
    const clientId = await register()
    const { challenge } = await pkce()
    const url = authorizeUrl({ clientId, challenge })
    url.searchParams.append('client_id', 'https://10.0.0.1/c.json')
    const page = await openPage(url)
    expect(page.status).toBe(400)
    expect(page.response.headers.get('location')).toBeNull()
    const twiceRedirect = authorizeUrl({ clientId, challenge })
    twiceRedirect.searchParams.append('redirect_uri', 'https://evil.example/cb')
    expect((await openPage(twiceRedirect)).status).toBe(400)

    const grant = await obtainCode()
    const body = new URLSearchParams({ grant_type: 'authorization_code', code: grant.code, redirect_uri: grant.redirectUri, client_id: grant.clientId, code_verifier: grant.verifier })
    body.append('client_id', 'https://10.0.0.1/c.json')
    const token = await fetchGateway(`${ISSUER}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body })
    expect(token.status).toBe(400)
    expect(((await token.json()) as { error: string }).error).toBe('invalid_request')
  })

  it('oversized bodies are refused before they are parsed', async () => {
    const big = 'x'.repeat(200 * 1024)
    for (const path of ['/token', '/register', '/authorize']) {
      const response = await fetchGateway(`${ISSUER}${path}`, {
        method: 'POST',
        headers: { 'content-type': path === '/register' ? 'application/json' : 'application/x-www-form-urlencoded' },
        body: path === '/register' ? JSON.stringify({ client_name: big }) : `secret=${big}`,
      })
      expect(response.status, path).toBe(413)
    }
  })

  it('a refresh token is not an access token, nor the other way round', async () => {
    const { grant, tokens } = await connected()
    expect((await mcpWith(tokens.refresh_token)).status).toBe(401)
    const asRefresh = await refreshWith(grant.clientId, tokens.access_token)
    expect(asRefresh.status).toBe(400)
    // Presenting the access token as a refresh token revokes nothing.
    expect((await connectionRow(connectionOf(tokens.access_token)))!.revoked_at).toBeNull()
    expect((await mcpWith(tokens.access_token)).status).toBe(200)
  })
})

describe('another origin than PUBLIC_URL', () => {
  it('gets a clear 404 naming the right origin on every OAuth URL', async () => {
    for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-authorization-server', '/register', '/token', '/authorize']) {
      const response = await fetchGateway(`http://gateway.test${path}`, { method: path === '/register' || path === '/token' ? 'POST' : 'GET' })
      expect(response.status, path).toBe(404)
      const body = (await response.json()) as { error: string; message: string }
      expect(body.error, path).toBe('wrong_origin')
      expect(body.message, path).toContain(`served at ${ISSUER}`)
    }
  })
})

describe('holes found by review (each test failed before its fix)', () => {
  it('a post cannot swap the request: the code goes only with the profiles of the client the page was opened for', async () => {
    await addProfile({ name: 'pinned-wide', redirectUris: ['https://claude.ai/api/mcp/auth_callback'], policy: { version: 1, models: { 'res.partner': { operations: ['read', 'write'], fields: '*' } } } })
    const clientA = await register()
    const { challenge } = await pkce()
    const pageA = await openPage(authorizeUrl({ clientId: clientA, challenge }))
    expect(pageA.profiles).not.toContain('pinned-wide')
    const clientB = await register(['https://claude.ai/api/mcp/auth_callback'], 'Claude')
    const swapped = authorizeUrl({ clientId: clientB, challenge, redirectUri: 'https://claude.ai/api/mcp/auth_callback' })
    const response = await postPage(swapped, pageA.jar, { handle: pageA.handle!, login: 'admin', secret: 'admin', profile: 'pinned-wide' })
    expect(response.status).toBe(400)
    expect(response.headers.get('location')).toBeNull()
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM connections WHERE profile = 'pinned-wide'").first<{ n: number }>()
    expect(rows!.n).toBe(0)
    await env.DB.prepare("DELETE FROM connector_profiles WHERE name = 'pinned-wide'").run()
  })

  it('made-up refresh tokens leave no audit record and no state', async () => {
    const ids: string[] = []
    for (let index = 0; index < 3; index++) {
      const id = `con_${crypto.randomUUID().replace(/-/g, '').slice(0, 16)}`
      ids.push(id)
      const response = await refreshWith('nobody', `${id}:${'A'.repeat(16)}:${'B'.repeat(32)}`)
      expect(response.status).toBeGreaterThanOrEqual(400)
    }
    await flushAudit(ids)
    const rows = await env.DB.prepare(`SELECT COUNT(*) AS n FROM audit_log WHERE chain_id IN (${ids.map(() => '?').join(',')})`).bind(...ids).first<{ n: number }>()
    expect(rows!.n).toBe(0)
  })

  it('a URL client id in HTTP Basic or a client assertion is checked like one in the form', async () => {
    const basic = btoa(`${encodeURIComponent('https://127.0.0.1/c.json')}:x`)
    const viaBasic = await fetchGateway(`${ISSUER}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'x' }),
    })
    expect(viaBasic.status).toBe(401)
    expect(await viaBasic.text()).toContain('not an IP address')
    const payload = btoa(JSON.stringify({ iss: 'https://169.254.169.254/c.json' })).replace(/=+$/, '')
    const viaAssertion = await fetchGateway(`${ISSUER}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'x', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: `e30.${payload}.sig` }),
    })
    expect(viaAssertion.status).toBe(401)
  })

  it('a revocation with an empty grant_type ends the connection too', async () => {
    const { grant, tokens } = await connected()
    const response = await fetchGateway(`${ISSUER}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: '', token: tokens.refresh_token, client_id: grant.clientId }),
    })
    expect(response.status).toBe(200)
    expect((await connectionRow(connectionOf(tokens.access_token)))!.revoked_reason).toBe('client')
  })

  it('right credentials posted without the page\'s browser binding are audited and count against the limit', async () => {
    const clientId = await register()
    const { challenge } = await pkce()
    const url = authorizeUrl({ clientId, challenge })
    const { CookieJar } = await import('./helpers')
    const ip = { 'cf-connecting-ip': '198.51.100.77' }
    const statuses: number[] = []
    for (let attempt = 0; attempt < 6; attempt++) {
      const response = await postPage(url, new CookieJar(), { handle: 'made-up', login: 'sales_manager', secret: 'sales_manager' }, ip)
      statuses.push(response.status)
    }
    // Five unbound probes spend the login's five tries; the sixth is refused before Odoo is asked.
    expect(statuses).toEqual([400, 400, 400, 400, 400, 429])
    await flushAudit()
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE code = 'oauth_consent_unbound' AND ip = '198.51.100.77'").first<{ n: number }>()
    expect(rows!.n).toBe(5)
  })

  it('counts IPv6 sign-in attempts per /64', async () => {
    const { addressSubject } = await import('../../src/oauth/sign-in-limiter')
    expect(addressSubject('2001:db8:1:2:aaaa::1')).toBe(addressSubject('2001:db8:1:2:bbbb::9'))
    expect(addressSubject('2001:db8:1:3::1')).not.toBe(addressSubject('2001:db8:1:2::1'))
    expect(addressSubject('203.0.113.5')).toBe('203.0.113.5')
    expect(addressSubject('::ffff:203.0.113.5')).toBe('203.0.113.5')
    expect(addressSubject(undefined)).toBe('unknown')
    expect(addressSubject('not an address')).toBe('unknown')
  })
})
