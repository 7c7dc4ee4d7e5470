/**
 * The whole OAuth flow driven by the official MCP TypeScript SDK client (`auth()` with an OAuthClientProvider, then
 * StreamableHTTPClientTransport with that provider), headless, the browser part played by signInAsBrowser:
 * 401 → discovery → registration → authorize (sign in with Odoo, consent) → token → tools/call → refresh →
 * revocation; and a deleted client, which the SDK answers by registering again.
 */
import { env } from 'cloudflare:workers'
import { auth } from '@modelcontextprotocol/sdk/client/auth.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2, UnauthorizedError } from '@modelcontextprotocol/client'
import { beforeAll, describe, expect, it } from 'vitest'
import { authorizationServer, oauthSettings } from '../../src/oauth/server'
import { addProfile, clearProfiles, fetchGateway, ISSUER, MCP, MemoryProvider, signInAsBrowser } from './helpers'

const fetchFn = (url: string | URL, init?: RequestInit) => fetchGateway(String(url), init)

/** Runs the SDK's auth() to the redirect, signs in as the browser would, and finishes with the code. */
async function connect(provider: MemoryProvider, values: Parameters<typeof signInAsBrowser>[1] = {}) {
  expect(await auth(provider, { serverUrl: MCP, fetchFn })).toBe('REDIRECT')
  const redirect = await signInAsBrowser(provider.authorizationUrl!, values)
  expect(redirect.status, await redirect.clone().text()).toBe(302)
  const callback = new URL(redirect.headers.get('location')!)
  expect(callback.origin + callback.pathname).toBe(provider.redirectUrl)
  expect(callback.searchParams.get('state')).toBe(provider.authorizationUrl!.searchParams.get('state'))
  expect(callback.searchParams.get('iss')).toBe(ISSUER)
  expect(await auth(provider, { serverUrl: MCP, fetchFn, authorizationCode: callback.searchParams.get('code')! })).toBe('AUTHORIZED')
  return callback
}

async function mcpClient(provider: MemoryProvider) {
  const client = new Client({ name: 'oauth-flow-test', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL(MCP), { authProvider: provider, fetch: fetchFn }))
  return client
}

describe('OAuth sign-in with the MCP SDK client', () => {
  beforeAll(async () => {
    await clearProfiles()
    await addProfile({ name: 'sales' })
  })

  it('starts from a 401 that says where to sign in', async () => {
    const response = await fetchGateway(MCP, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    })
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toBe(
      `Bearer realm="odoo-mcp-edge", resource_metadata="${ISSUER}/.well-known/oauth-protected-resource/mcp", scope="odoo"`,
    )
    const metadata = (await (await fetchGateway(`${ISSUER}/.well-known/oauth-protected-resource/mcp`)).json()) as Record<string, unknown>
    expect(metadata.resource).toBe(MCP)
    expect(metadata.authorization_servers).toEqual([ISSUER])
    const server = (await (await fetchGateway(`${ISSUER}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>
    expect(server.issuer).toBe(ISSUER)
    expect(server.code_challenge_methods_supported).toEqual(['S256'])
    expect(server.client_id_metadata_document_supported).toBe(true)
    expect(server.registration_endpoint).toBe(`${ISSUER}/register`)
  })

  it('signs in, calls a tool as the Odoo user within the profile, refreshes, and is revoked', async () => {
    const provider = new MemoryProvider()
    await connect(provider, { login: 'admin', secret: 'admin' })
    const tokens = provider.tokens()!
    expect(tokens.access_token).toMatch(/^con_[0-9a-f]{16}:/)
    expect(tokens.refresh_token).toBeTruthy()
    const connectionId = tokens.access_token.split(':')[0]!

    const client = await mcpClient(provider)
    const tools = await client.listTools()
    expect(tools.tools.map((tool) => tool.name)).toContain('search_records')
    const found = await client.callTool({ name: 'search_records', arguments: { model: 'res.partner', fields: ['name', 'email'], limit: 2 } })
    expect(found.isError).toBeFalsy()
    // The profile allows name and email of res.partner only.
    const refused = await client.callTool({ name: 'search_records', arguments: { model: 'res.partner', fields: ['phone'], limit: 1 } })
    expect(refused.isError).toBe(true)
    await client.close()

    // The connection is in D1 with its secret sealed, never in clear.
    const row = await env.DB.prepare('SELECT profile, odoo_login, odoo_secret, revoked_at FROM connections WHERE id = ?1').bind(connectionId).first<Record<string, unknown>>()
    expect(row).toMatchObject({ profile: 'sales', odoo_login: 'admin', revoked_at: null })
    expect(String(row!.odoo_secret)).toMatch(/^v2\.[0-9a-f]{8}\./)

    // Refresh: auth() with stored tokens exchanges the refresh token (rotated).
    const before = provider.tokens()!
    provider.saveTokens({ ...before, access_token: 'expired' })
    expect(await auth(provider, { serverUrl: MCP, fetchFn })).toBe('AUTHORIZED')
    expect(provider.tokens()!.refresh_token).not.toBe(before.refresh_token)
    expect(provider.tokens()!.access_token).not.toBe(before.access_token)
    const again = await mcpClient(provider)
    expect((await again.listTools()).tools.length).toBeGreaterThan(0)
    await again.close()

    // RFC 7009 revocation of the refresh token ends the connection.
    const revoked = await fetchGateway(`${ISSUER}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: provider.tokens()!.refresh_token!, client_id: provider.info!.client_id }),
    })
    expect(revoked.status).toBe(200)
    const after = await env.DB.prepare('SELECT revoked_at, revoked_reason FROM connections WHERE id = ?1').bind(connectionId).first<Record<string, unknown>>()
    expect(after!.revoked_reason).toBe('client')
    const refusedCall = await fetchGateway(MCP, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${provider.tokens()!.access_token}`,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    })
    expect(refusedCall.status).toBe(401)
    expect(refusedCall.headers.get('www-authenticate')).toContain('resource_metadata=')
  })

  it('a deleted client gets invalid_client (401) from /token, and the SDK registers again', async () => {
    const provider = new MemoryProvider()
    await connect(provider)
    await authorizationServer(oauthSettings(env)!).getOAuthApi(env).deleteClient(provider.info!.client_id)
    const refresh = await fetchGateway(`${ISSUER}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: provider.tokens()!.refresh_token!, client_id: provider.info!.client_id }),
    })
    expect(refresh.status).toBe(401)
    expect(((await refresh.json()) as { error: string }).error).toBe('invalid_client')
    const oldClient = provider.info!.client_id
    provider.saveTokens({ ...provider.tokens()!, access_token: 'expired' })
    // The SDK drops its credentials on invalid_client and starts over: registration, then a new sign-in.
    const result = await auth(provider, { serverUrl: MCP, fetchFn }).catch(() => auth(provider, { serverUrl: MCP, fetchFn }))
    expect(result).toBe('REDIRECT')
    expect(provider.info!.client_id).not.toBe(oldClient)
  })

  it('the v2 SDK client (2026-07-28) signs in through its transport, checks iss, and calls a tool', async () => {
    const provider = new MemoryProvider({ clientName: 'v2 client' })
    const versions: (string | null)[] = []
    const fetchV2 = (input: string | URL | Request, init?: RequestInit) => {
      versions.push(new Headers(init?.headers).get('mcp-protocol-version'))
      return fetchGateway(String(input instanceof Request ? input.url : input), init)
    }
    const transport = () => new TransportV2(new URL(MCP), { authProvider: provider as never, fetch: fetchV2 })
    const first = new ClientV2({ name: 'v2-oauth', version: '2.4.0' }, { versionNegotiation: { mode: 'auto' } } as never)
    const pending = transport()
    await expect(first.connect(pending)).rejects.toBeInstanceOf(UnauthorizedError)
    const redirect = await signInAsBrowser(provider.authorizationUrl!, { login: 'demo', secret: 'odoo-apikey-demo' })
    expect(redirect.status).toBe(302)
    // finishAuth checks the callback's iss (RFC 9207) against the server's metadata before redeeming the code.
    await pending.finishAuth(new URL(redirect.headers.get('location')!).searchParams)
    const client = new ClientV2({ name: 'v2-oauth', version: '2.4.0' }, { versionNegotiation: { mode: 'auto' } } as never)
    await client.connect(transport())
    expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28')
    const result = await client.callTool({ name: 'search_records', arguments: { model: 'res.partner', fields: ['name'], limit: 1 } })
    expect(result.isError).toBeFalsy()
    await client.close()
    const row = await env.DB.prepare('SELECT odoo_login, client_name FROM connections WHERE id = ?1').bind(provider.tokens()!.access_token.split(':')[0]).first()
    expect(row).toEqual({ odoo_login: 'demo', client_name: 'v2 client' })
  })
})
