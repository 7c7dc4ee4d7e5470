/**
 * POST /admin/v1/connections/:id/revoke, what `connections revoke` calls (it replaced POST
 * /admin/connections/:id/refresh, which the CLI called after writing D1 itself): the connection is revoked in D1, its
 * object reloads it, and its OAuth grant is dropped from KV. Connections are made by the real flow (the MCP SDK's
 * auth() and the sign-in page), so the grant is the library's own.
 */
import { env } from 'cloudflare:workers'
import { auth } from '@modelcontextprotocol/sdk/client/auth.js'
import { beforeAll, describe, expect, it } from 'vitest'
import { signAdminRequest } from '../../src/admin/signature'
import { revokeConnection } from '../../src/oauth/connection-store'
import { authorizationServer, oauthSettings } from '../../src/oauth/server'
import { admin } from '../worker/admin-api/client'
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

/** A signed POST outside /admin/v1 (the first admin channel), or unsigned. */
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

describe('POST /admin/v1/connections/:id/revoke', () => {
  beforeAll(async () => {
    await clearProfiles()
    await addProfile({ name: 'admin-route' })
  })

  it('revokes a connection, reloads it and drops its OAuth grant; a live one keeps its grant', async () => {
    const revoked = await newConnection()
    const live = await newConnection()
    expect(await mcpStatus(revoked.accessToken)).toBe(200)
    expect((await oauthApi().listUserGrants(revoked.id)).items).toHaveLength(1)

    const answer = await admin('POST', `/connections/${revoked.id}/revoke`, {})
    expect(answer.status).toBe(200)
    expect(answer.body).toMatchObject({ id: revoked.id, status: 'revoked', revoked_reason: 'admin', already_revoked: false, applied: true, grant_revoked: true })
    expect((await oauthApi().listUserGrants(revoked.id)).items).toEqual([])
    expect(await mcpStatus(revoked.accessToken)).toBe(401)

    expect((await oauthApi().listUserGrants(live.id)).items).toHaveLength(1)
    expect(await mcpStatus(live.accessToken)).toBe(200)
  })

  it('applies a revocation written elsewhere again: the object reloads and the grant is dropped, nothing is recorded', async () => {
    const { id, accessToken } = await newConnection()
    expect(await mcpStatus(accessToken)).toBe(200)
    // Revoked in D1 by other code (a refresh-token reuse does this): the object still holds the connection as live.
    await revokeConnection(env.DB, id, 'refresh_reuse')
    const answer = await admin('POST', `/connections/${id}/revoke`, {})
    expect(answer.body).toMatchObject({ id, status: 'revoked', revoked_reason: 'refresh_reuse', already_revoked: true, applied: true, grant_revoked: true })
    expect((await oauthApi().listUserGrants(id)).items).toEqual([])
    expect(await mcpStatus(accessToken)).toBe(401)
    const records = await env.DB.prepare('SELECT COUNT(*) AS n FROM admin_audit WHERE target = ?1').bind(id).first<{ n: number }>()
    expect(records!.n).toBe(0)
  })

  it('refuses a malformed id (400), answers 404 for an unknown one and 401 unsigned; the old route is gone', async () => {
    expect(await admin('POST', '/connections/key_0123456789abcdef/revoke', {})).toMatchObject({ status: 400, body: { error: 'invalid_connection_id' } })
    expect(await admin('POST', '/connections/con_0123/revoke', {})).toMatchObject({ status: 400, body: { error: 'invalid_connection_id' } })
    expect(await admin('POST', '/connections/con_0123456789abcdef/revoke', {})).toMatchObject({ status: 404, body: { error: 'connection_not_found' } })
    const { id, accessToken } = await newConnection()
    const unsigned = await fetchGateway(`${ISSUER}/admin/v1/connections/${id}/revoke`, { method: 'POST', body: '{}' })
    expect(unsigned.status).toBe(401)
    expect(((await unsigned.json()) as { error: string }).error).toBe('admin_unauthenticated')
    expect(await post(`/admin/connections/${id}/refresh`)).toMatchObject({ status: 404, json: { error: 'not_found' } })
    expect(await mcpStatus(accessToken)).toBe(200)
  })

  it('audit verify takes connection chains (their heads are in the connection objects)', async () => {
    const { id, accessToken } = await newConnection()
    expect(await mcpStatus(accessToken)).toBe(200)
    const verified = await admin<{ problems: unknown[]; heads_checked: number; heads_unavailable: string[] }>('POST', '/audit/verify', { key: id })
    expect(verified.status, JSON.stringify(verified.body)).toBe(200)
    expect(verified.body).toMatchObject({ problems: [], heads_unavailable: [], heads_checked: 1 })
  })

})
