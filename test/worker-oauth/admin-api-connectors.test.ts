/**
 * /admin/v1/connectors and /admin/v1/connections end to end in the Worker, with OAuth on: every change lands in D1
 * with its admin log record, a removal or revocation stops the connection's tokens at once and drops its OAuth grant,
 * answers carry stable codes, lists page exactly once whatever the page size, and bad input is a 400 naming the
 * problem. Connections whose tokens matter are made by the real flow (the MCP SDK's auth() and the sign-in page).
 */
import { runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { auth } from '@modelcontextprotocol/sdk/client/auth.js'
import { beforeAll, describe, expect, it } from 'vitest'
import { keyObject } from '../../src/keys/placement'
import { authorizationServer, oauthSettings } from '../../src/oauth/server'
import { admin } from '../worker/admin-api/client'
import { clearProfiles, fetchGateway, MCP, MemoryProvider, READ_PARTNERS, refreshWith, signInAsBrowser } from './helpers'

const fetchFn = (url: string | URL, init?: RequestInit) => fetchGateway(String(url), init)
const oauthApi = () => authorizationServer(oauthSettings(env)!).getOAuthApi(env)
const uniqueName = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`
const randomHex = (length: number) => [...crypto.getRandomValues(new Uint8Array(length))].map((byte) => (byte % 16).toString(16)).join('')
const randomConnectionId = () => `con_${randomHex(16)}`

interface Profile {
  name: string
  status: string
  logins: string[] | null
  client_name: string | null
  redirect_uris: string[]
  token_ttl_seconds: number
  connection_ttl_seconds: number
  live_connections: number
  removed_at: string | null
  policy?: unknown
}

interface Connection {
  id: string
  profile: string
  status: string
  revoked_reason: string | null
  odoo_login: string
}

interface Listed<T> {
  items: T[]
  next_cursor: string | null
}

async function addProfile(name: string, overrides: Record<string, unknown> = {}): Promise<Profile> {
  const answer = await admin<Profile>('POST', '/connectors', { name, policy: READ_PARTNERS, any_login: true, ...overrides })
  expect(answer.status, JSON.stringify(answer.body)).toBe(201)
  return answer.body
}

/** Signs in through the whole flow under `profile`; the new connection's id and tokens. */
async function newConnection(profile: string): Promise<{ id: string; accessToken: string; refreshToken: string; clientId: string }> {
  const provider = new MemoryProvider()
  expect(await auth(provider, { serverUrl: MCP, fetchFn })).toBe('REDIRECT')
  const redirect = await signInAsBrowser(provider.authorizationUrl!, { profile })
  expect(redirect.status, await redirect.clone().text()).toBe(302)
  const code = new URL(redirect.headers.get('location')!).searchParams.get('code')!
  expect(await auth(provider, { serverUrl: MCP, fetchFn, authorizationCode: code })).toBe('AUTHORIZED')
  const tokens = provider.tokens()!
  return { id: tokens.access_token.split(':')[0]!, accessToken: tokens.access_token, refreshToken: tokens.refresh_token!, clientId: provider.clientInformation()!.client_id }
}

async function mcpStatus(accessToken: string): Promise<number> {
  const response = await fetchGateway(MCP, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${accessToken}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  })
  await response.body?.cancel()
  return response.status
}

/**
 * Whether the connection's object holds it as revoked now. Its tokens are refused at once either way (the grant is
 * dropped from KV too); this tells that the object itself was told, not left to its cache time.
 */
async function objectHoldsRevoked(id: string): Promise<boolean> {
  return runInDurableObject(keyObject(env, id), (instance) => {
    const cached = (instance as unknown as { cached?: { key: { id: string; revokedAt: number | null } } }).cached
    return cached?.key.id === id && cached.key.revokedAt !== null
  })
}

async function adminLog(target: string): Promise<{ action: string; actor: string; before: unknown; after: unknown }[]> {
  const { results } = await env.DB.prepare('SELECT action, actor, before, after FROM admin_audit WHERE target = ?1 ORDER BY seq').bind(target).all<Record<string, string | null>>()
  return results.map((row) => ({
    action: row.action!,
    actor: row.actor!,
    before: row.before === null ? null : (JSON.parse(row.before!) as unknown),
    after: row.after === null ? null : (JSON.parse(row.after!) as unknown),
  }))
}

/** A connection row as the sign-in stores it (oauth/connection-store.ts), for lists that need many. */
async function insertConnection(id: string, profile: string, createdAt: number, options: { expiresAt?: number; revoked?: string } = {}) {
  await env.DB.prepare(
    `INSERT INTO connections (id, profile, client_id, client_name, redirect_uri, grant_id, odoo_login, odoo_secret, odoo_uid,
                              created_at, expires_at, revoked_at, revoked_reason)
     VALUES (?1, ?2, 'client-x', 'Claude', 'https://claude.ai/api/mcp/auth_callback', ?3, 'demo', 'v1.sealed', 6, ?4, ?5, ?6, ?7)`,
  )
    .bind(id, profile, `grant${id.slice(4)}`, createdAt, options.expiresAt ?? Date.now() + 86_400_000, options.revoked ? createdAt + 1 : null, options.revoked ?? null)
    .run()
}

/** Every item of a list, page by page with `size`; checks no page is larger. */
async function pageThrough<T extends { id?: string; name?: string }>(path: string, size: number): Promise<string[]> {
  const seen: string[] = []
  let cursor: string | null = null
  const separator = path.includes('?') ? '&' : '?'
  do {
    const answer: Awaited<ReturnType<typeof admin<Listed<T>>>> = await admin<Listed<T>>('GET', `${path}${separator}limit=${size}${cursor ? `&cursor=${cursor}` : ''}`)
    expect(answer.status, JSON.stringify(answer.body)).toBe(200)
    expect(answer.body.items.length).toBeLessThanOrEqual(size)
    seen.push(...answer.body.items.map((item) => (item.id ?? item.name)!))
    cursor = answer.body.next_cursor
  } while (cursor)
  return seen
}

beforeAll(async () => {
  await clearProfiles()
})

describe('connector profiles through the admin API', () => {
  it('adds a profile as the gateway reads it, shows and lists it, and records its policy and settings', async () => {
    const name = uniqueName('sales')
    const added = await addProfile(name, {
      any_login: undefined,
      logins: ['admin', 'sales_agent', 'admin'],
      client_name: 'Claude',
      redirect_uris: ['https://claude.ai/api/mcp/auth_callback', 'http://localhost/callback'],
      token_ttl_seconds: 1800,
      connection_ttl_seconds: 604_800,
    })
    expect(added).toMatchObject({
      name,
      status: 'active',
      logins: ['admin', 'sales_agent'],
      client_name: 'Claude',
      redirect_uris: ['https://claude.ai/api/mcp/auth_callback', 'http://localhost/callback'],
      token_ttl_seconds: 1800,
      connection_ttl_seconds: 604_800,
      live_connections: 0,
      removed_at: null,
      policy: READ_PARTNERS,
    })
    const row = await env.DB.prepare('SELECT * FROM connector_profiles WHERE name = ?1').bind(name).first()
    expect(row).toMatchObject({
      policy: JSON.stringify(READ_PARTNERS),
      logins: '["admin","sales_agent"]',
      client_name: 'Claude',
      redirect_uris: '["https://claude.ai/api/mcp/auth_callback","http://localhost/callback"]',
      token_ttl_seconds: 1800,
      connection_ttl_seconds: 604_800,
      removed_at: null,
    })

    const open = await addProfile(uniqueName('open'))
    expect(open).toMatchObject({ logins: null, client_name: null, redirect_uris: [], token_ttl_seconds: 3600, connection_ttl_seconds: 30 * 86_400 })

    expect((await admin<Profile>('GET', `/connectors/${name}`)).body).toEqual(added)
    const listed = await admin<Listed<Profile>>('GET', '/connectors?status=active')
    expect(listed.body.items.map((item) => item.name)).toEqual(expect.arrayContaining([name, open.name]))
    expect(listed.body.items.find((item) => item.name === name)).not.toHaveProperty('policy')

    const log = await adminLog(name)
    expect(log).toEqual([
      {
        action: 'connectors.add',
        actor: 'secret',
        before: null,
        after: {
          logins: ['admin', 'sales_agent'],
          client_name: 'Claude',
          redirect_uris: ['https://claude.ai/api/mcp/auth_callback', 'http://localhost/callback'],
          token_ttl_seconds: 1800,
          connection_ttl_seconds: 604_800,
          policy: READ_PARTNERS,
        },
      },
    ])

    const again = await admin('POST', '/connectors', { name, policy: READ_PARTNERS, any_login: true })
    expect([again.status, again.body.error]).toEqual([409, 'connector_exists'])
    expect(await adminLog(name)).toHaveLength(1)
  })

  it('removes a profile: its connections stop at once, their grants are dropped, and the name is not used again', async () => {
    const name = uniqueName('removed')
    const other = uniqueName('kept')
    await addProfile(name)
    await addProfile(other)
    const doomed = await newConnection(name)
    const kept = await newConnection(other)
    expect(await mcpStatus(doomed.accessToken)).toBe(200)
    expect(await objectHoldsRevoked(doomed.id)).toBe(false)
    expect((await oauthApi().listUserGrants(doomed.id)).items).toHaveLength(1)
    expect((await admin<Profile>('GET', `/connectors/${name}`)).body.live_connections).toBe(1)

    const removed = await admin<{ already_removed: boolean; revoked_connections: string[]; applied: boolean; grants_revoked: number; removed_at: string }>(
      'POST',
      `/connectors/${name}/remove`,
      {},
      { actor: 'alice' },
    )
    expect(removed.status, JSON.stringify(removed.body)).toBe(200)
    expect(removed.body).toMatchObject({ already_removed: false, revoked_connections: [doomed.id], applied: true, grants_revoked: 1 })
    // At once: no waiting for the key cache time.
    expect(await objectHoldsRevoked(doomed.id)).toBe(true)
    expect(await mcpStatus(doomed.accessToken)).toBe(401)
    expect((await oauthApi().listUserGrants(doomed.id)).items).toEqual([])
    expect((await refreshWith(doomed.clientId, doomed.refreshToken)).status).toBe(400)
    const row = await env.DB.prepare('SELECT revoked_at, revoked_reason FROM connections WHERE id = ?1').bind(doomed.id).first()
    expect(row).toEqual({ revoked_at: Date.parse(removed.body.removed_at), revoked_reason: 'profile_removed' })
    // Another profile's connection is untouched.
    expect(await mcpStatus(kept.accessToken)).toBe(200)
    expect((await oauthApi().listUserGrants(kept.id)).items).toHaveLength(1)

    const log = await adminLog(name)
    expect(log.map((record) => record.action)).toEqual(['connectors.add', 'connectors.remove'])
    expect(log[1]).toMatchObject({
      actor: 'secret:alice',
      before: { logins: null, policy: READ_PARTNERS, token_ttl_seconds: 3600, removed_at: null },
      after: { removed_at: removed.body.removed_at, revoked_connections: [doomed.id] },
    })

    // Removing again changes and records nothing; adding the name again is refused.
    const again = await admin<{ already_removed: boolean; revoked_connections: string[] }>('POST', `/connectors/${name}/remove`, {})
    expect(again.body).toMatchObject({ already_removed: true, revoked_connections: [doomed.id] })
    const readd = await admin('POST', '/connectors', { name, policy: READ_PARTNERS, any_login: true })
    expect([readd.status, readd.body.error]).toEqual([409, 'connector_removed'])
    expect(await adminLog(name)).toHaveLength(2)
    expect((await admin<Profile>('GET', `/connectors/${name}`)).body).toMatchObject({ status: 'removed', live_connections: 0, removed_at: removed.body.removed_at })
    const listedRemoved = await admin<Listed<Profile>>('GET', '/connectors?status=removed')
    expect(listedRemoved.body.items.map((item) => item.name)).toContain(name)
    expect((await admin<Listed<Profile>>('GET', '/connectors?status=active')).body.items.map((item) => item.name)).not.toContain(name)
  })

  it('revokes connections added by hand under a name before it gets a profile again', async () => {
    const name = uniqueName('orphans')
    const orphan = randomConnectionId()
    await insertConnection(orphan, name, Date.now() - 1000)
    await addProfile(name)
    const row = await env.DB.prepare('SELECT revoked_reason FROM connections WHERE id = ?1').bind(orphan).first()
    expect(row).toEqual({ revoked_reason: 'profile_removed' })
    expect((await adminLog(name))[0]!.after).toMatchObject({ revoked_connections: [orphan] })
  })
})

describe('connections through the admin API', () => {
  let profile: string
  beforeAll(async () => {
    profile = uniqueName('conn')
    await addProfile(profile)
  })

  it('revokes one connection at once and drops its grant; the others keep working; again changes nothing', async () => {
    const revoked = await newConnection(profile)
    const live = await newConnection(profile)
    expect(await mcpStatus(revoked.accessToken)).toBe(200)
    expect(await objectHoldsRevoked(revoked.id)).toBe(false)
    const shown = await admin<Connection>('GET', `/connections/${revoked.id}`)
    expect(shown.body).toMatchObject({ id: revoked.id, profile, status: 'live', odoo_login: 'admin', revoked_reason: null })

    const answer = await admin<Connection & { already_revoked: boolean; applied: boolean; grant_revoked: boolean }>('POST', `/connections/${revoked.id}/revoke`, {})
    expect(answer.status, JSON.stringify(answer.body)).toBe(200)
    expect(answer.body).toMatchObject({ id: revoked.id, status: 'revoked', revoked_reason: 'admin', already_revoked: false, applied: true, grant_revoked: true })
    expect(await objectHoldsRevoked(revoked.id)).toBe(true)
    expect(await mcpStatus(revoked.accessToken)).toBe(401)
    expect((await oauthApi().listUserGrants(revoked.id)).items).toEqual([])
    expect(await mcpStatus(live.accessToken)).toBe(200)
    expect((await oauthApi().listUserGrants(live.id)).items).toHaveLength(1)

    const again = await admin<{ already_revoked: boolean; revoked_reason: string }>('POST', `/connections/${revoked.id}/revoke`, {})
    expect(again.body).toMatchObject({ already_revoked: true, revoked_reason: 'admin' })
    const log = await adminLog(revoked.id)
    expect(log).toEqual([
      { action: 'connections.revoke', actor: 'secret', before: { profile, client_name: 'Test MCP client', odoo_login: 'admin', revoked_at: null }, after: { revoked_at: expect.any(String), revoked_reason: 'admin' } },
    ])

    // Never a secret in the admin log: not the tokens, the grant, nor the sealed Odoo secret.
    const stored = await env.DB.prepare('SELECT odoo_secret, grant_id FROM connections WHERE id = ?1').bind(revoked.id).first<{ odoo_secret: string; grant_id: string }>()
    const { results } = await env.DB.prepare('SELECT before, after FROM admin_audit').all()
    const text = JSON.stringify(results)
    for (const secret of [revoked.accessToken, revoked.refreshToken, stored!.odoo_secret, stored!.grant_id]) expect(text).not.toContain(secret)
  })

  it('lists live connections by default filters, and by status and profile, paging each exactly once', async () => {
    const mine = uniqueName('paged')
    await addProfile(mine)
    const base = Date.now() - 600_000
    const ids: string[] = []
    const prefix = randomHex(8)
    for (let index = 0; index < 9; index++) {
      const id = `con_${prefix}${index.toString(16).padStart(8, '0')}`
      ids.push(id)
      // Three share a creation time: the id orders them.
      const createdAt = base + (index < 3 ? 0 : index * 1000)
      await insertConnection(id, mine, createdAt, index === 7 ? { revoked: 'client' } : index === 8 ? { expiresAt: Date.now() - 1000 } : {})
    }
    const all = await admin<Listed<Connection>>('GET', `/connections?profile=${mine}&limit=1000`)
    expect(all.body.items.map((item) => item.id)).toEqual(ids)
    expect(all.body.items.map((item) => [item.status, item.revoked_reason])).toEqual([
      ...Array.from({ length: 7 }, () => ['live', null]),
      ['revoked', 'client'],
      ['expired', null],
    ])
    for (const size of [1, 2, 3, 5]) expect(await pageThrough(`/connections?profile=${mine}`, size)).toEqual(ids)
    for (const size of [1, 4]) expect(await pageThrough(`/connections?profile=${mine}&status=live`, size)).toEqual(ids.slice(0, 7))
    expect(await pageThrough(`/connections?profile=${mine}&status=revoked`, 2)).toEqual([ids[7]])
    expect(await pageThrough(`/connections?profile=${mine}&status=expired`, 2)).toEqual([ids[8]])
    // Every connection, any profile: this profile's ones appear once each, in order.
    const everything = await pageThrough<Connection>('/connections', 3)
    expect(everything.filter((id) => ids.includes(id))).toEqual(ids)
    expect(new Set(everything).size).toBe(everything.length)

    // A removed profile's connections count as revoked (profile_removed), as the gateway decides.
    await admin('POST', `/connectors/${mine}/remove`, {})
    const after = await admin<Listed<Connection>>('GET', `/connections?profile=${mine}&status=live`)
    expect(after.body.items).toEqual([])
  })

  it('pages connector profiles exactly once, by name, whatever the page size', async () => {
    for (let index = 0; index < 7; index++) await addProfile(uniqueName(`page${index}`))
    const everything = await admin<Listed<Profile>>('GET', '/connectors?limit=1000')
    expect(everything.body.next_cursor).toBeNull()
    const names = everything.body.items.map((item) => item.name)
    expect(names).toEqual([...names].sort())
    for (const size of [1, 2, 3, 5]) expect(await pageThrough('/connectors', size)).toEqual(names)
  })
})

describe('bad input and stable codes', () => {
  it('refuses a bad profile with 400 invalid_body naming every problem, and stores nothing', async () => {
    const before = await env.DB.prepare('SELECT COUNT(*) AS n FROM connector_profiles').first<{ n: number }>()
    const good = { name: uniqueName('bad'), policy: READ_PARTNERS, any_login: true }
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...good, name: 'Sales_Team' }, /name: must be 1-63 lowercase letters/],
      [{ ...good, name: '' }, /name: /],
      [{ ...good, any_login: undefined }, /logins: say who may sign in/],
      [{ ...good, any_login: false }, /logins: say who may sign in/],
      [{ ...good, logins: ['admin'] }, /logins: give either logins or any_login: true, not both/],
      [{ ...good, any_login: undefined, logins: [] }, /logins: /],
      [{ ...good, any_login: undefined, logins: [' admin'] }, /logins\.0: ' admin' starts or ends with spaces/],
      [{ ...good, any_login: undefined, logins: ['a\u0007b'] }, /logins\.0: .* contains control characters/],
      [{ ...good, any_login: undefined, logins: ['x'.repeat(256)] }, /logins\.0: .* longer than 255/],
      [{ ...good, client_name: ' ' }, /client_name: .* must be 1 to 100 characters/],
      [{ ...good, redirect_uris: ['https://claude.ai/cb', 'http://example.com/cb'] }, /redirect_uris\.1: 'http:\/\/example\.com\/cb' must be https \(plain http only on localhost/],
      [{ ...good, redirect_uris: ['https://claude.ai/cb#frag'] }, /redirect_uris\.0: .* must not have a fragment/],
      [{ ...good, redirect_uris: ['not a url'] }, /redirect_uris\.0: .* spaces or control characters/],
      [{ ...good, redirect_uris: ['nope'] }, /redirect_uris\.0: 'nope' is not a URL/],
      [{ ...good, token_ttl_seconds: 299 }, /token_ttl_seconds: /],
      [{ ...good, token_ttl_seconds: 86_401 }, /token_ttl_seconds: /],
      [{ ...good, token_ttl_seconds: 3600.5 }, /token_ttl_seconds: /],
      [{ ...good, connection_ttl_seconds: 3599 }, /connection_ttl_seconds: /],
      [{ ...good, connection_ttl_seconds: 365 * 86_400 + 1 }, /connection_ttl_seconds: /],
      [{ ...good, policy: undefined }, /policy: a policy document is required/],
      [{ ...good, policy: null }, /policy: a policy document is required/],
      [{ ...good, policy: { version: 1, models: { 'res.partner': { operations: ['read', 'frobnicate'], fields: ['name'] } } } }, /policy \$\.models\["res\.partner"\]\.operations\[1\]: /],
      [{ ...good, admin: true }, /admin/],
    ]
    for (const [body, problem] of cases) {
      const answer = await admin('POST', '/connectors', body)
      expect([answer.status, answer.body.error], JSON.stringify(body)).toEqual([400, 'invalid_body'])
      expect(answer.body.details!.join('\n'), JSON.stringify(body)).toMatch(problem)
    }
    // Every problem at once, not only the first.
    const many = await admin('POST', '/connectors', { name: 'BAD', policy: null, token_ttl_seconds: 1 })
    expect(many.body.details!.length).toBeGreaterThanOrEqual(4)
    expect((await admin('POST', '/connectors', '{not json')).body.error).toBe('invalid_json')
    const after = await env.DB.prepare('SELECT COUNT(*) AS n FROM connector_profiles').first<{ n: number }>()
    expect(after!.n).toBe(before!.n)
  })

  it('answers 404 and 400 with stable codes, and never echoes a pasted token', async () => {
    expect(await admin('GET', '/connectors/nobody-here')).toMatchObject({ status: 404, body: { error: 'connector_not_found' } })
    expect(await admin('POST', '/connectors/nobody-here/remove', {})).toMatchObject({ status: 404, body: { error: 'connector_not_found' } })
    expect(await admin('GET', '/connectors/Not_A_Name')).toMatchObject({ status: 400, body: { error: 'invalid_connector_name' } })
    expect(await admin('POST', '/connectors/x/remove', { force: true })).toMatchObject({ status: 400, body: { error: 'invalid_body' } })
    expect(await admin('GET', '/connections/con_0123456789abcdef')).toMatchObject({ status: 404, body: { error: 'connection_not_found' } })
    expect(await admin('POST', '/connections/con_0123456789abcdef/revoke', {})).toMatchObject({ status: 404, body: { error: 'connection_not_found' } })
    expect(await admin('POST', '/connections/key_0123456789abcdef/revoke', {})).toMatchObject({ status: 400, body: { error: 'invalid_connection_id' } })
    expect(await admin('POST', '/connections/con_0123/revoke', {})).toMatchObject({ status: 400, body: { error: 'invalid_connection_id' } })
    const token = `con_0123456789abcdef:${'g'.repeat(16)}:${'s'.repeat(32)}`
    const pasted = await admin('POST', `/connections/${encodeURIComponent(token)}/revoke`, {})
    expect(pasted).toMatchObject({ status: 400, body: { error: 'invalid_connection_id' } })
    expect(JSON.stringify(pasted.body)).not.toContain('s'.repeat(32))
    for (const query of ['limit=0', 'limit=1001', 'status=frob', 'profile=Bad_Name', 'unknown=1', 'cursor=bm90LWEtY3Vyc29y']) {
      const answer = await admin('GET', `/connections?${query}`)
      expect(answer.status, query).toBe(400)
      expect(answer.body.error, query).toMatch(/^invalid_(query|cursor)$/)
    }
    expect((await admin('GET', '/connectors?status=live')).body.error).toBe('invalid_query')
    expect((await admin('GET', '/connectors?cursor=WyJCQUQiXQ')).body.error).toBe('invalid_cursor')
  })
})
