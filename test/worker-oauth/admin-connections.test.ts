/**
 * POST /admin/connections/:id/refresh, what `connections revoke` and `connectors remove` call after writing to D1:
 * the connection's object reloads it, and a revoked connection's OAuth grant is dropped from KV. Connections are
 * made by the real flow (the MCP SDK's auth() and the sign-in page), so the grant is the library's own.
 */
import { env } from 'cloudflare:workers'
import { auth } from '@modelcontextprotocol/sdk/client/auth.js'
import { beforeAll, describe, expect, it } from 'vitest'
import { signAdminRequest } from '../../src/admin/signature'
import { revokeConnection } from '../../src/oauth/connection-store'
import { authorizationServer, oauthSettings } from '../../src/oauth/server'
import { addProfile, clearProfiles, fetchGateway, ISSUER, MCP, MemoryProvider, signInAsBrowser } from './helpers'

const fetchFn = (url: string | URL, init?: RequestInit) => fetchGateway(String(url), init)
const oauthApi = () => authorizationServer(oauthSettings(env)!).getOAuthApi(env)

/** Signs in through the whole flow; returns the new connection's id and its access token. */
async function newConnection(): Promise<{ id: string; accessToken: string }> {
  const provider = new MemoryProvider()
  expect(await auth(provider, { serverUrl: MCP, fetchFn })).toBe('REDIRECT')
  const redirect = await signInAsBrowser(provider.authorizationUrl!)
  expect(redirect.status, await redirect.clone().text()).toBe(302)
  const code = new URL(redirect.headers.get('location')!).searchParams.get('code')!
  expect(await auth(provider, { serverUrl: MCP, fetchFn, authorizationCode: code })).toBe('AUTHORIZED')
  const accessToken = provider.tokens()!.access_token
  return { id: accessToken.split(':')[0]!, accessToken }
}

async function post(path: string, options: { signed?: boolean; body?: string } = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const body = options.body ?? ''
  const headers = options.signed === false ? {} : await signAdminRequest(env.ADMIN_SECRET!, { method: 'POST', host: new URL(ISSUER).host, pathWithQuery: path, body })
  const response = await fetchGateway(`${ISSUER}${path}`, { method: 'POST', headers, body: body || undefined })
  return { status: response.status, json: (await response.json()) as Record<string, unknown> }
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

describe('POST /admin/connections/:id/refresh', () => {
  beforeAll(async () => {
    await clearProfiles()
    await addProfile({ name: 'admin-route' })
  })

  it('reloads a revoked connection and drops its OAuth grant; a live one keeps its grant', async () => {
    const revoked = await newConnection()
    const live = await newConnection()
    expect(await mcpStatus(revoked.accessToken)).toBe(200)
    expect((await oauthApi().listUserGrants(revoked.id)).items).toHaveLength(1)

    // What `connections revoke` writes to D1 before it calls the route.
    await revokeConnection(env.DB, revoked.id, 'admin')
    const answer = await post(`/admin/connections/${revoked.id}/refresh`)
    expect(answer.status).toBe(200)
    expect(answer.json).toMatchObject({ id: revoked.id, status: 'revoked', grant_revoked: true })
    expect((await oauthApi().listUserGrants(revoked.id)).items).toEqual([])
    expect(await mcpStatus(revoked.accessToken)).toBe(401)

    const kept = await post(`/admin/connections/${live.id}/refresh`)
    expect(kept.json).toMatchObject({ id: live.id, status: 'active', grant_revoked: false })
    expect((await oauthApi().listUserGrants(live.id)).items).toHaveLength(1)
    expect(await mcpStatus(live.accessToken)).toBe(200)
  })

  it('refuses a malformed id (400), answers 404 for an unknown one and 401 unsigned', async () => {
    expect(await post('/admin/connections/key_0123456789abcdef/refresh')).toMatchObject({ status: 400, json: { error: 'invalid_connection_id' } })
    expect(await post('/admin/connections/con_0123/refresh')).toMatchObject({ status: 400, json: { error: 'invalid_connection_id' } })
    expect(await post('/admin/connections/con_0123456789abcdef/refresh')).toMatchObject({ status: 404, json: { error: 'connection_not_found' } })
    const { id } = await newConnection()
    expect(await post(`/admin/connections/${id}/refresh`, { signed: false })).toMatchObject({ status: 401, json: { error: 'admin_unauthenticated' } })
  })

  it('/admin/audit/heads takes connection chains', async () => {
    const { id } = await newConnection()
    const heads = await post('/admin/audit/heads', { body: JSON.stringify({ chains: [id] }) })
    expect(heads.status).toBe(200)
    expect(heads.json.heads).toEqual([expect.objectContaining({ chainId: id })])
  })
})
