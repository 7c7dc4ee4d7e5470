/**
 * Attacks on the admin API (/admin/v1), from an adversarial review: replays, forgeries, cross-site requests, Access,
 * ADMIN_ALLOWED_IPS, 500s and leaks, the admin log's chain under concurrent writers and lost D1 answers, cursors.
 * Every test asserts the secure behaviour and names the property it checks: a failing test is a hole.
 */
import { env } from 'cloudflare:workers'
import { abortAllDurableObjects, runInDurableObject } from 'cloudflare:test'
import { SignJWT } from 'jose'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ADMIN_NONCE_HEADER, ADMIN_SIGNATURE_HEADER, ADMIN_TIMESTAMP_HEADER } from '../../../src/admin/signature'
import { adminRowToRecord, verifyAdminRecords, ADMIN_GENESIS_HASH } from '../../../src/admin/v1/admin-record'
import { decodeCursor, encodeCursor } from '../../../src/admin/v1/http'
import type { Env } from '../../../src/env'
import { z } from 'zod'
import { GATEWAY, gatewayFetch } from '../helpers'
import { accessTeam, admin, adminHeaders, sendWith } from './client'

const HOST = new URL(GATEWAY).host
const hex = (bytes = 8) => [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, '0')).join('')

async function raw(url: string, init: RequestInit = {}): Promise<{ status: number; text: string; error?: string }> {
  const response = await gatewayFetch(url, init)
  const text = init.method === 'HEAD' ? '' : await response.text()
  let error: string | undefined
  try {
    error = (JSON.parse(text) as { error?: string }).error
  } catch {
    error = undefined
  }
  return { status: response.status, text, ...(error ? { error } : {}) }
}

const ledger = () => env.ADMIN_LEDGER.get(env.ADMIN_LEDGER.idFromName('admin'))

// ——— (1) Replays ———

describe('replays of a captured signed request', () => {
  // Property: a nonce is remembered across a restart of the admin ledger (nonces live in its SQLite storage).
  it('refuses a replay after the admin ledger restarted', async () => {
    const headers = await adminHeaders('GET', '/admin/v1/whoami', '')
    expect((await raw(`${GATEWAY}/admin/v1/whoami`, { headers })).status).toBe(200)
    await abortAllDurableObjects()
    expect(await raw(`${GATEWAY}/admin/v1/whoami`, { headers })).toMatchObject({ status: 401, error: 'admin_replayed' })
  })

  // Property: header name case, surrounding whitespace and duplicated headers give no second use of a nonce.
  it('refuses replays with header case / whitespace variations and duplicated headers', async () => {
    const headers = await adminHeaders('GET', '/admin/v1/whoami', '', { actor: 'alice' })
    expect((await raw(`${GATEWAY}/admin/v1/whoami`, { headers })).status).toBe(200)
    const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), `  ${v}\t`]))
    expect(await raw(`${GATEWAY}/admin/v1/whoami`, { headers: lower })).toMatchObject({ status: 401, error: 'admin_replayed' })
    const upper = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]))
    expect(await raw(`${GATEWAY}/admin/v1/whoami`, { headers: upper })).toMatchObject({ status: 401, error: 'admin_replayed' })
    // A second nonce / signature / actor value appended: the joined value never validates.
    for (const name of [ADMIN_NONCE_HEADER, ADMIN_SIGNATURE_HEADER, 'X-Admin-Actor', ADMIN_TIMESTAMP_HEADER]) {
      const fresh = await adminHeaders('GET', '/admin/v1/whoami', '', { actor: 'alice' })
      const duplicated = new Headers(fresh)
      duplicated.append(name, fresh[name]!)
      const answer = await raw(`${GATEWAY}/admin/v1/whoami`, { headers: duplicated })
      expect(answer.status, name).toBe(401)
    }
  })

  // Property: the signature covers the query exactly (order, encoding) and the path exactly (//, %2F, trailing /).
  it('refuses the same signature on a reordered or re-encoded query, or a differently spelled path', async () => {
    const signedPath = '/admin/v1/keys?status=active&limit=1'
    const variants = [
      '/admin/v1/keys?limit=1&status=active',
      '/admin/v1/keys?status=%61ctive&limit=1',
      '/admin/v1/keys?status=active&limit=1&',
      '/admin/v1/keys/?status=active&limit=1',
      '/admin/v1//keys?status=active&limit=1',
      '/admin%2Fv1/keys?status=active&limit=1',
      '/admin/v1/%6Beys?status=active&limit=1',
      '/admin/v1/keys;x?status=active&limit=1',
    ]
    for (const variant of variants) {
      const headers = await adminHeaders('GET', variant, '', { signed: { pathWithQuery: signedPath } })
      const answer = await raw(GATEWAY + variant, { headers })
      // Either not an admin route at all (404 from the gateway) or a signature that does not match.
      expect([[401, 'admin_bad_signature'], [404, 'not_found']], variant).toContainEqual([answer.status, answer.error])
    }
    // `..` is resolved by the URL parser before anything sees it: the same request, so the same (single) use.
    const headers = await adminHeaders('GET', '/admin/v1/whoami', '')
    expect((await raw(`${GATEWAY}/admin/v1/whoami`, { headers })).status).toBe(200)
    expect(await raw(`${GATEWAY}/admin/v1/x/../whoami`, { headers })).toMatchObject({ status: 401, error: 'admin_replayed' })
  })

  // Property: the method is signed; HEAD is not GET, and method-override headers are not honoured.
  it('refuses a GET signature on HEAD, and ignores X-HTTP-Method-Override', async () => {
    const headers = await adminHeaders('GET', '/admin/v1/keys', '')
    expect((await raw(`${GATEWAY}/admin/v1/keys`, { method: 'HEAD', headers })).status).toBe(401)
    const created = await admin<{ id: string }>('POST', '/keys', { name: 'override', odoo_login: 'a', odoo_secret: 'b', verify: false })
    expect(created.status).toBe(201)
    const body = JSON.stringify({ policy: { version: 1, models: {} } })
    for (const override of ['X-HTTP-Method-Override', 'X-HTTP-Method', 'X-Method-Override']) {
      const answer = await admin('POST', `/keys/${created.body.id}/policy`, body, { headers: { [override]: 'PUT' } })
      expect(answer.status, override).toBe(404)
    }
    const row = await env.DB.prepare('SELECT policy FROM api_keys WHERE id = ?1').bind(created.body.id).first<{ policy: string | null }>()
    expect(row!.policy).toBeNull()
  })

  // Property: a request signed for one host is refused on another (a second deployment sharing ADMIN_SECRET).
  it('refuses a request signed for another host, and one whose Host differs only in case is the same request', async () => {
    const headers = await adminHeaders('GET', '/admin/v1/whoami', '', { signed: { host: 'other.example' } })
    expect(await raw(`${GATEWAY}/admin/v1/whoami`, { headers })).toMatchObject({ status: 401, error: 'admin_bad_signature' })
    const ok = await adminHeaders('GET', '/admin/v1/whoami', '', { signed: { host: HOST.toUpperCase() } })
    expect((await raw(`${GATEWAY}/admin/v1/whoami`, { headers: ok })).status).toBe(200)
  })
})

// ——— (2) Forged or altered requests ———

describe('forged or altered requests', () => {
  // Property: prototype keys in a body are unknown fields (allowlist), never merged or silently dropped.
  it('refuses __proto__ / constructor keys in bodies', async () => {
    const before = (await env.DB.prepare('SELECT COUNT(*) AS n FROM api_keys').first<{ n: number }>())!.n
    for (const body of [
      '{"__proto__":{"verify":false},"name":"p","odoo_login":"a","odoo_secret":"b","verify":false}',
      '{"constructor":{"prototype":{"x":1}},"name":"p","odoo_login":"a","odoo_secret":"b","verify":false}',
      '{"name":"p","odoo_login":"a","odoo_secret":"b","verify":false,"policy":{"version":1,"models":{"__proto__":{"operations":["read"]}}}}',
    ]) {
      const answer = await admin('POST', '/keys', body)
      expect(answer.status, body).toBe(400)
    }
    expect((await env.DB.prepare('SELECT COUNT(*) AS n FROM api_keys').first<{ n: number }>())!.n).toBe(before)
  })

  // Property: the body is hashed as received (docs: "hex SHA-256 of the body"): other bytes are another body. Today the
  // hash is over c.req.text(), which drops a leading BOM and maps every invalid UTF-8 sequence to U+FFFD, so several
  // byte strings share one signature. (No change of meaning: JSON.parse sees the same text; a nonce is still single use.)
  it('refuses a body whose bytes differ from the signed ones (BOM, invalid UTF-8, whitespace)', async () => {
    const utf8 = new TextEncoder()
    const admitted: string[] = []
    const variants: [string, string, Uint8Array][] = []
    const body = JSON.stringify({ name: 'bom', odoo_login: 'a', odoo_secret: 'b', verify: false })
    variants.push(['leading BOM', body, utf8.encode(`\uFEFF${body}`)])
    variants.push(['trailing newline', body, utf8.encode(`${body}\n`)])
    const replaced = JSON.stringify({ name: 'bad \uFFFD byte', odoo_login: 'a', odoo_secret: 'b', verify: false })
    const [before, after] = replaced.split('\uFFFD') as [string, string]
    variants.push(['0xFF where U+FFFD was signed', replaced, new Uint8Array([...utf8.encode(before), 0xff, ...utf8.encode(after)])])
    for (const [label, signed, sent] of variants) {
      const headers = await adminHeaders('POST', '/admin/v1/keys', signed)
      const answer = await raw(`${GATEWAY}/admin/v1/keys`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: sent })
      if (answer.status !== 401) admitted.push(`${label} → ${answer.status}`)
    }
    expect(admitted).toEqual([])
  })

  // Property: text the database or JSON cannot hold faithfully (lone surrogates) is a 4xx or stored intact; never 5xx.
  // (Assertions compare escaped text only: a lone surrogate in a failure message breaks the test pool's WebSocket.)
  it('answers lone surrogates in names with a 4xx (or stores them faithfully), never a 5xx', async () => {
    const escape = (value: unknown) => JSON.stringify(value) ?? String(value)
    const answer = await admin<{ id?: string }>('POST', '/keys', '{"name":"x\\ud800y","odoo_login":"a\\udfffb","odoo_secret":"s","verify":false}')
    const seen = `${answer.status} ${escape(answer.body)}`
    expect(answer.status < 500, seen).toBe(true)
    if (answer.status === 201) {
      const row = await env.DB.prepare('SELECT name, odoo_login FROM api_keys WHERE id = ?1').bind(answer.body.id!).first<{ name: string; odoo_login: string }>()
      expect(escape(row)).toBe(escape({ name: 'x\ud800y', odoo_login: 'a\udfffb' }))
    }
  })
})

// ——— (3) Cloudflare Access ———

describe('Cloudflare Access', () => {
  afterEach(() => vi.restoreAllMocks())

  async function team(name: string) {
    const { domain, privateKey, jwk } = await accessTeam(name)
    const config = { ACCESS_TEAM_DOMAIN: domain, ACCESS_AUD: 'aud-review', ADMIN_SECRET: env.ADMIN_SECRET }
    const token = (claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'RS256', kid: jwk.kid }) =>
      new SignJWT(claims).setProtectedHeader(header as { alg: string }).setIssuer(domain).setAudience('aud-review').setIssuedAt().setExpirationTime('5m').sign(privateKey)
    return { config, token }
  }

  // Property: a bad Access token is refused even when a valid signature rides along (no fallback to the other way).
  it('refuses a bad Access token even with a valid signature beside it', async () => {
    const { config } = await team('both')
    const headers = await adminHeaders('GET', '/admin/v1/whoami', '')
    const answer = await sendWith(config, '/whoami', { headers: { ...headers, 'cf-access-jwt-assertion': 'e30.e30.' } })
    expect([answer.status, answer.body.error]).toEqual([401, 'admin_access_denied'])
  })

  // Property: the allowlist applies to Access identities too.
  it('applies ADMIN_ALLOWED_IPS before an Access token', async () => {
    const { config, token } = await team('ipteam')
    const answer = await sendWith({ ...config, ADMIN_ALLOWED_IPS: '203.0.113.0/24' }, '/whoami', {
      headers: { 'cf-access-jwt-assertion': await token({ email: 'a@b.c' }), 'cf-connecting-ip': '198.51.100.7' },
    })
    expect([answer.status, answer.body.error]).toEqual([403, 'admin_ip_not_allowed'])
  })

  // Property (CSRF): a browser console behind Access authenticates with a cookie the browser sends by itself, and
  // Access turns it into Cf-Access-Jwt-Assertion. A cross-site form (content-type text/plain, Origin of another
  // site, Sec-Fetch-Site: cross-site) must not be able to make a change: here, a webhook that would send Odoo data
  // to the attacker.
  it('refuses a cross-site, non-JSON POST authenticated only by Access (CSRF)', async () => {
    const { config, token } = await team('csrf')
    const jwt = await token({ email: 'victim@example.com' })
    const url = `${env.RECEIVER_URL}/ok/csrf-${hex(4)}`
    // What fetch(…, { method: 'POST', mode: 'no-cors', credentials: 'include', body }) on evil.example sends: a
    // "simple" request (text/plain), so no CORS preflight, and the browser attaches the CF_Authorization cookie.
    const body = JSON.stringify({ url, models: ['res.partner'], fields: '*' })
    const answer = await sendWith(config, '/webhooks/subscriptions', {
      method: 'POST',
      headers: {
        'cf-access-jwt-assertion': jwt,
        'content-type': 'text/plain;charset=UTF-8',
        origin: 'https://evil.example',
        'sec-fetch-site': 'cross-site',
        'sec-fetch-mode': 'no-cors',
      },
      body,
    })
    const made = await env.DB.prepare('SELECT COUNT(*) AS n FROM webhook_subscriptions WHERE url = ?1').bind(url).first<{ n: number }>()
    expect(made!.n, `answered ${answer.status} ${JSON.stringify(answer.body)}`).toBe(0)
    expect(answer.status).toBeGreaterThanOrEqual(400)
  })

  // Property: no algorithm confusion: only RS256 over the team's keys verifies.
  it('refuses an HS256 Access token, and one relabelled RS256 that carries an HMAC signature', async () => {
    const { config } = await team('algs')
    const secretKey = new TextEncoder().encode('x'.repeat(64))
    const hs = await new SignJWT({ email: 'a@b.c' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://algs.cloudflareaccess.com').setAudience('aud-review').setExpirationTime('5m').sign(secretKey)
    const [, payload, signature] = hs.split('.')
    const relabelled = `${btoa(JSON.stringify({ alg: 'RS256', kid: 'algs-key' })).replace(/=+$/, '')}.${payload}.${signature}`
    for (const bad of [hs, relabelled]) {
      const answer = await sendWith(config, '/whoami', { headers: { 'cf-access-jwt-assertion': bad } })
      expect([answer.status, answer.body.error]).toEqual([401, 'admin_access_denied'])
    }
  })
})

// ——— (4) ADMIN_ALLOWED_IPS ———

describe('ADMIN_ALLOWED_IPS', () => {
  // Property: only a single, well-formed CF-Connecting-IP in the list admits; lists, ports, padding do not.
  it('refuses CF-Connecting-IP values that are lists, carry ports, or are spelled oddly', async () => {
    const allow = { ADMIN_ALLOWED_IPS: '203.0.113.0/24' }
    for (const address of ['198.51.100.1, 203.0.113.9', '203.0.113.9, 198.51.100.1', '203.0.113.9:443', '203.0.113.009', ' 203.0.113.9 x', '']) {
      const headers = await adminHeaders('GET', '/admin/v1/whoami', '')
      const answer = await sendWith(allow, '/whoami', { headers: { ...headers, 'cf-connecting-ip': address, 'x-forwarded-for': '203.0.113.9', 'x-real-ip': '203.0.113.9', forwarded: 'for=203.0.113.9', 'true-client-ip': '203.0.113.9' } })
      expect([answer.status, answer.body.error], JSON.stringify(address)).toEqual([403, 'admin_ip_not_allowed'])
    }
  })
})

// ——— (5) No 500, no stack trace, no secret ———

describe('bad input never gives a 5xx or a secret', () => {
  const CURSORS = ['%', '____', 'AAAA', '7-_-', btoa('[1e400,"x"]'), btoa('{"__proto__":1}'), btoa('\u00ff\u00fe'), '4pyT', encodeURIComponent('✓'), 'a'.repeat(600)]
  const keyId = `key_${hex()}`
  const cases: [string, string, string?][] = [
    ['GET', '/keys?limit=0x10'],
    ['GET', '/keys?limit=1e3'],
    ['GET', '/keys?limit=-0'],
    ['GET', '/keys?status=%E2%9C%93'],
    ['GET', '/keys?status=active&status=revoked'],
    ['GET', `/keys/${encodeURIComponent('✓')}`],
    ['GET', '/keys/%E0%A4%A'],
    ['GET', '/keys/%00'],
    ['GET', `/keys/${keyId}/history?cursor=${btoa('[-1]')}`],
    ['GET', `/keys/${keyId}/history?cursor=${btoa('[9007199254740993]')}`],
    ['PUT', `/keys/${keyId}/policy`, '{"policy":{"version":1,"models":{"res.partner":{"operations":["read"],"fields":{"__proto__":[]}}}}}'],
    ['PUT', `/keys/${keyId}/policy`, 'null'],
    ['PUT', `/keys/${keyId}/policy`, '[]'],
    ['POST', `/keys/${keyId}/rotate`, '{"grace_seconds":1e400}'],
    ['POST', '/keys', '{"name":"x","odoo_login":"a","odoo_secret":"b","verify":false,"expires_at":"+275760-09-13T00:00:00.000Z"}'],
    ['POST', '/keys', '{"name":"x","odoo_login":"a","odoo_secret":"b","verify":false,"expires_at":"-271821-04-20T00:00:00.000Z"}'],
    ['POST', '/keys', '{"name":"x","odoo_login":"a","odoo_secret":"b","verify":false,"expires_at":"2020-02-30"}'],
    ['GET', '/connections?profile=%E2%9C%93'],
    ['GET', `/connections/con_${hex()}:token`],
    ['GET', '/connectors/%F0%9F%98%80'],
    ['POST', '/connectors', '{"name":"ok-name","policy":{"version":1,"models":{}},"any_login":true,"redirect_uris":["https://[::1"]}'],
    ['POST', '/connectors', '{"name":"ok-name-2","policy":{"version":1,"models":{}},"logins":["\\ud800"]}'],
    ['GET', '/webhooks/deliveries?subscription_id=whk_0000000000000000&status=dead'],
    ['POST', '/webhooks/subscriptions', '{"url":"https://[fe80::1%25eth0]/x","models":["res.partner"]}'],
    ['POST', '/webhooks/subscriptions', '{"url":"http://0x7f.1/x","models":["res.partner"]}'],
    ['POST', '/webhooks/subscriptions', '{"url":"https://xn--/x","models":["res.partner"]}'],
    ['GET', '/alerts?since=%E2%9C%93'],
    ['GET', '/alerts?since=0'],
    ['GET', '/audit/records?since=-271821-04-20T00:00:00.000Z&until=%2B275760-09-13T00:00:00.000Z'],
    ['GET', '/audit/records?record=res.partner:999999999999999'],
    ['GET', `/audit/records?cursor=${btoa(JSON.stringify(['r', 'zz', 'key', {}]))}`],
    ['GET', `/audit/records?cursor=${btoa(JSON.stringify(['r', 1e308, 'k', -1e308]))}`],
    ['GET', `/audit/export?cursor=${btoa(JSON.stringify(['x', 'a', 'b', 'c']))}`],
    ['POST', '/audit/verify', JSON.stringify({ cursor: btoa(JSON.stringify(['log', 'key_0000000000000000', 'x', null, 'zz'])) })],
    ['POST', '/audit/verify', JSON.stringify({ cursor: btoa(JSON.stringify(['admin', -5, null, '!nothex'])) })],
    ['POST', '/audit/verify', JSON.stringify({ cursor: btoa(JSON.stringify(['idle', '\u0000'])) })],
    ['POST', '/audit/verify', JSON.stringify({ cursor: btoa(JSON.stringify(['admin', 9007199254740991, 1e308, 'x'])) })],
    ['POST', '/credentials/reseal', JSON.stringify({ cursor: encodeCursor([3, 'zzzz']), limit: 1 })],
    ['POST', '/credentials/reseal', JSON.stringify({ cursor: encodeCursor([4, '']) })],
    ['GET', '/credentials/status?x=1'],
  ]
  for (const path of ['/keys', '/connectors', '/connections', '/webhooks/sources', '/webhooks/subscriptions', '/webhooks/deliveries', '/alerts', '/audit/records', '/audit/export']) {
    for (const cursor of CURSORS) cases.push(['GET', `${path}?cursor=${cursor}`])
  }
  for (const cursor of CURSORS) cases.push(['POST', '/audit/verify', JSON.stringify({ cursor: decodeURIComponent(cursor.replace(/%(?![0-9A-F]{2})/g, '%25')) })])

  // Property: every bad input is a 4xx with a stable code; no 5xx, no stack, no ADMIN_SECRET or CREDENTIALS_KEY.
  it('answers every malformed request below 500, without a stack or a secret', async () => {
    const failures: string[] = []
    for (const [method, path, body] of cases) {
      const pathWithQuery = `/admin/v1${path}`
      const headers = await adminHeaders(method, new URL(GATEWAY + pathWithQuery).pathname + new URL(GATEWAY + pathWithQuery).search, body ?? '')
      const answer = await raw(GATEWAY + pathWithQuery, { method, headers: { ...headers, 'content-type': 'application/json' }, body: body || undefined })
      const leaks = [env.ADMIN_SECRET!, env.CREDENTIALS_KEY, 'at async', '.ts:', 'Error:'].filter((needle) => answer.text.includes(needle))
      if (answer.status >= 500 || answer.status === 401 || leaks.length) failures.push(`${method} ${path.slice(0, 90)} ${body?.slice(0, 60) ?? ''} → ${answer.status} ${answer.text.slice(0, 160)} ${leaks.join(',')}`)
    }
    expect(failures).toEqual([])
  }, 60_000)

  // Property: an API key pasted where an id belongs is not echoed back beyond its display prefix (docs: "refused
  // without being echoed"): answers end up in terminals, CI logs and tickets.
  it('does not echo an API key pasted into any id, name or unknown path', async () => {
    const key = `omk_${'A1b2C3d4E5'.repeat(5)}abc`
    const secretPart = key.slice(12)
    const paths = [`/keys/${key}`, `/connections/${key}`, `/connectors/${key}`, `/webhooks/subscriptions/${key}`, `/webhooks/deliveries/${key}/redeliver`, `/webhooks/sources/${key}/revoke`, `/${key}`, `/keys/${key}/x/y`]
    const echoed: string[] = []
    for (const path of paths) {
      const method = path.endsWith('redeliver') || path.endsWith('revoke') ? 'POST' : 'GET'
      const answer = await admin(method, path, method === 'POST' ? {} : undefined)
      const text = JSON.stringify(answer.body)
      // Any 8 consecutive characters of the secret part count as an echo.
      if ([...Array(secretPart.length - 8).keys()].some((i) => text.includes(secretPart.slice(i, i + 8)))) echoed.push(`${method} ${path.slice(0, 30)}… → ${answer.status} ${answer.body.message}`)
    }
    expect(echoed).toEqual([])
  })
})

// ——— (7) Cursors ———

describe('cursors', () => {
  // Property: cursors round-trip any text (no btoa on text above U+00FF), and non-UTF-8 bytes do not decode.
  it('encodes and decodes text in any script, and refuses invalid base64 and non-UTF-8', () => {
    const shape = z.tuple([z.number(), z.string()])
    const cursor = encodeCursor([1, '名前-имя-✓-😀'])
    expect(decodeCursor(cursor, shape)).toEqual({ ok: true, value: [1, '名前-имя-✓-😀'] })
    expect(decodeCursor('@@@', shape)).toEqual({ ok: false })
    expect(decodeCursor(btoa('["\u00ff"]'), z.tuple([z.string()]))).toEqual({ ok: false })
  })

  // Property: a forged cursor moves the page start, never the filter.
  it('keeps the status filter whatever cursor is forged', async () => {
    const active = await admin<{ id: string }>('POST', '/keys', { name: 'cursor active', odoo_login: 'a', odoo_secret: 'b', verify: false })
    const revoked = await admin<{ id: string }>('POST', '/keys', { name: 'cursor revoked', odoo_login: 'a', odoo_secret: 'b', verify: false })
    expect((await admin('POST', `/keys/${revoked.body.id}/revoke`, {})).status).toBe(200)
    for (const forged of [encodeCursor([0, '']), encodeCursor([-9e15, 'key_']), encodeCursor([Number.MIN_SAFE_INTEGER, "' OR 1=1 --"])]) {
      const page = await admin<{ items: { id: string; status: string }[] }>('GET', `/keys?status=revoked&limit=1000&cursor=${forged}`)
      expect(page.status).toBe(200)
      expect(page.body.items.every((item) => item.status === 'revoked')).toBe(true)
      expect(page.body.items.map((item) => item.id)).not.toContain(active.body.id)
    }
    // Another key's history through a forged cursor: still only this key's records.
    const history = await admin<{ items: { target: string }[] }>('GET', `/keys/${active.body.id}/history?cursor=${encodeCursor([0])}`)
    expect(history.body.items.every((item) => item.target === active.body.id)).toBe(true)
  })
})

// ——— (6) The admin log ———

async function checkAdminChain(): Promise<void> {
  const { results } = await env.DB.prepare('SELECT * FROM admin_audit ORDER BY seq').all<Record<string, unknown>>()
  const records = results.map(adminRowToRecord)
  const verified = await verifyAdminRecords({ seq: 0, hash: ADMIN_GENESIS_HASH }, records)
  expect(verified.problems).toEqual([])
  const head = await ledger().lastRecord()
  expect(head).toEqual(verified.last.seq === 0 ? head : verified.last)
}

describe('the admin log', () => {
  // Property: concurrent changes each get one record, in one unbroken chain, and the ledger's head is its end.
  it('keeps one unbroken chain under 24 concurrent changes of every kind', async () => {
    const before = (await env.DB.prepare('SELECT COUNT(*) AS n FROM admin_audit').first<{ n: number }>())!.n
    const key = await admin<{ id: string }>('POST', '/keys', { name: 'chain', odoo_login: 'a', odoo_secret: 'b', verify: false })
    const answers = await Promise.all([
      ...Array.from({ length: 8 }, (_, i) => admin('POST', '/webhooks/sources', { name: `race-${hex(3)}-${i}` })),
      ...Array.from({ length: 8 }, () => admin('POST', '/keys', { name: 'race', odoo_login: 'a', odoo_secret: 'b', verify: false })),
      ...Array.from({ length: 4 }, (_, i) => admin('PUT', `/keys/${key.body.id}/policy`, { policy: { version: 1, models: { [`m${i}.x`]: { operations: ['read'], fields: ['name'] } } } })),
      ...Array.from({ length: 4 }, () => admin('POST', `/keys/${key.body.id}/revoke`, {})),
    ])
    expect(answers.map((answer) => answer.status).filter((status) => status >= 300)).toEqual([])
    const after = (await env.DB.prepare('SELECT COUNT(*) AS n FROM admin_audit').first<{ n: number }>())!.n
    // 1 create + 8 sources + 8 keys + 4 policies + exactly one revoke (the others change nothing, record nothing).
    expect(after - before).toBe(1 + 8 + 8 + 4 + 1)
    await checkAdminChain()
  }, 30_000)

  // Property: the admin log never records a change that did not happen. The planner reads, then the batch writes
  // `... WHERE id = ? AND disabled_at IS NULL`; the webhook dispatcher (src/webhooks/subscriptions.ts) disables a
  // subscription outside the ledger. If it does so in between, the UPDATE touches no row, yet the record says
  // "rotated" and the answer hands out a secret that is stored nowhere.
  it('records no rotation (and hands out no secret) when the subscription was disabled between plan and write', async () => {
    const created = await admin<{ id: string }>('POST', '/webhooks/subscriptions', { url: `${env.RECEIVER_URL}/ok/toctou-${hex(4)}`, models: ['res.partner'] })
    expect(created.status).toBe(201)
    const id = created.body.id
    const sealedBefore = (await env.DB.prepare('SELECT secret FROM webhook_subscriptions WHERE id = ?1').bind(id).first<{ secret: string }>())!.secret
    const realDb = env.DB
    let own: Env | undefined
    await runInDurableObject(ledger(), (instance) => {
      own = (instance as unknown as { env: Env }).env
      const racing = new Proxy(realDb, {
        get(target, prop) {
          if (prop === 'batch') {
            return async (statements: D1PreparedStatement[]) => {
              // The dispatcher gives up on the subscription just now (what subscriptions.ts:90 runs).
              await target.prepare("UPDATE webhook_subscriptions SET disabled_at = ?1, disabled_reason = 'failing' WHERE id = ?2 AND disabled_at IS NULL").bind(Date.now(), id).run()
              return target.batch(statements)
            }
          }
          const value = Reflect.get(target, prop, target) as unknown
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
        },
      })
      Object.defineProperty(instance, 'env', { value: { ...own, DB: racing }, configurable: true, writable: true })
    })
    try {
      const rotated = await admin<{ secret?: string }>('POST', `/webhooks/subscriptions/${id}/rotate-secret`, {})
      const sealedAfter = (await env.DB.prepare('SELECT secret FROM webhook_subscriptions WHERE id = ?1').bind(id).first<{ secret: string }>())!.secret
      const recorded = await env.DB.prepare("SELECT COUNT(*) AS n FROM admin_audit WHERE target = ?1 AND action = 'webhooks.rotate_secret'").bind(id).first<{ n: number }>()
      const changed = sealedAfter !== sealedBefore
      expect({ status: rotated.status, recorded: recorded!.n, changed }).toEqual(changed ? { status: 200, recorded: 1, changed } : { status: 409, recorded: 0, changed })
    } finally {
      await runInDurableObject(ledger(), (instance) => {
        Object.defineProperty(instance, 'env', { value: own, configurable: true, writable: true })
      })
    }
  })

  // Property: D1 may commit a batch and still fail to answer (a lost connection). The ledger must not be left with a
  // head behind D1's last record: every later change would reuse a seq (UNIQUE) and fail with change_failed for good,
  // and the only way out by hand is deleting the record of a change that was made.
  /** Runs `body` with the ledger's D1 replaced by one whose batch behaves as `batch` says. */
  async function withLedgerBatch(
    batch: (real: D1Database, statements: D1PreparedStatement[]) => Promise<D1Result[]>,
    body: () => Promise<void>,
    readsFail: () => boolean = () => false,
  ) {
    const stub = ledger()
    const realDb = env.DB
    await runInDurableObject(stub, (instance) => {
      const lossy = new Proxy(realDb, {
        get(target, prop) {
          if (prop === 'batch') return (statements: D1PreparedStatement[]) => batch(target, statements)
          if (prop === 'prepare' && readsFail()) {
            return () => {
              throw new Error('D1_ERROR: Network connection lost.')
            }
          }
          const value = Reflect.get(target, prop, target) as unknown
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
        },
      })
      const own = (instance as unknown as { env: Env }).env
      Object.defineProperty(instance, 'env', { value: { ...own, DB: lossy }, configurable: true, writable: true })
    })
    try {
      await body()
    } finally {
      // Leave the ledger as a fresh one would be (its real D1), for the files that run after this one.
      await abortAllDurableObjects()
    }
  }

  // Property: whatever D1 answers, the ledger's head ends where D1's chain ends, and a change is reported made
  // exactly when it is in D1.
  it('reports a change whose D1 answer was lost as made, and goes on from it', async () => {
    await checkAdminChain()
    let lostOnce = false
    await withLedgerBatch(
      async (real, statements) => {
        const results = await real.batch(statements)
        if (!lostOnce) {
          lostOnce = true
          throw new Error('D1_ERROR: Network connection lost.')
        }
        return results
      },
      async () => {
        const name = `lost-${hex(4)}`
        const lost = await admin('POST', '/webhooks/sources', { name })
        expect(lost.status, 'the batch committed: the change was made').toBe(201)
        expect(await env.DB.prepare('SELECT COUNT(*) AS n FROM webhook_sources WHERE name = ?1').bind(name).first('n')).toBe(1)
        for (let attempt = 0; attempt < 3; attempt++) expect((await admin('POST', '/webhooks/sources', { name: `after-${hex(4)}` })).status).toBe(201)
        await checkAdminChain()
      },
    )
  }, 30_000)

  it('says nothing was changed when D1 refused the batch, and goes on', async () => {
    let failOnce = false
    await withLedgerBatch(
      async (real, statements) => {
        if (!failOnce) {
          failOnce = true
          throw new Error('D1_ERROR: Network connection lost.')
        }
        return real.batch(statements)
      },
      async () => {
        const name = `refused-${hex(4)}`
        const failed = await admin('POST', '/webhooks/sources', { name })
        expect(failed.status).toBe(503)
        expect(failed.body.error).toBe('change_failed')
        expect(await env.DB.prepare('SELECT COUNT(*) AS n FROM webhook_sources WHERE name = ?1').bind(name).first('n')).toBe(0)
        expect((await admin('POST', '/webhooks/sources', { name })).status).toBe(201)
        await checkAdminChain()
      },
    )
  }, 30_000)

  it('says the outcome is unknown when D1 cannot be asked, and settles it before the next change', async () => {
    let lostOnce = false
    let outage = false
    await withLedgerBatch(
      async (real, statements) => {
        const results = await real.batch(statements)
        if (!lostOnce) {
          lostOnce = true
          // The answer is lost, and so is the read that would tell: the ledger asks D1 with prepare().first().
          outage = true
          throw new Error('D1_ERROR: Network connection lost.')
        }
        return results
      },
      async () => {
        const unknown = await admin('POST', '/webhooks/sources', { name: `unknown-${hex(4)}` })
        outage = false
        expect(unknown.status).toBe(503)
        expect(unknown.body.error).toBe('change_outcome_unknown')
        // A restart before the next change: what was in doubt is still settled from D1 (it is in the ledger's storage).
        await abortAllDurableObjects()
        expect((await admin('POST', '/webhooks/sources', { name: `next-${hex(4)}` })).status).toBe(201)
        await checkAdminChain()
      },
      () => outage,
    )
  }, 30_000)

  // Not a property of the gateway: checks that the previous test's clean-up left the ledger usable (files that run
  // after this one in the same runtime make admin changes).
  it('(clean-up check) the ledger takes changes again', async () => {
    expect((await admin('POST', '/webhooks/sources', { name: `clean-${hex(4)}` })).status).toBe(201)
    await checkAdminChain()
  })
})
