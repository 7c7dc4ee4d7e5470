/**
 * What an MCP client meets when its key is wrong: it reacts to the 401 with OAuth discovery, and the gateway (which
 * has no OAuth yet) must make it show a sentence about API keys instead of "HTTP 404" or an OAuth riddle.
 *
 * The discovery URLs are checked one by one, then the MCP SDK's own client runs the whole thing against the Worker:
 * with an auth provider (as Inspector and mcp-remote connect) and without one (as Inspector's CLI 0.22 does).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { auth, parseErrorResponse, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { ServerError } from '@modelcontextprotocol/sdk/server/auth/errors.js'
import { OAuthErrorResponseSchema, type OAuthClientInformationMixed, type OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js'
import { describe, expect, it } from 'vitest'
import { OAUTH_NOT_SUPPORTED } from '../../../src/http/oauth-discovery'
import { generateApiKey } from '../../../src/keys/key-format'
import { createTestKey, GATEWAY, gatewayFetch, MCP_URL } from '../helpers'

/** Every URL the SDKs (TypeScript 1.32, Python) probe or fall back to for a server at /mcp, and how. */
const DISCOVERY: [method: string, path: string][] = [
  ['GET', '/.well-known/oauth-protected-resource/mcp'],
  ['GET', '/.well-known/oauth-protected-resource'],
  ['GET', '/.well-known/oauth-authorization-server/mcp'],
  ['GET', '/.well-known/oauth-authorization-server'],
  ['GET', '/.well-known/openid-configuration/mcp'],
  ['GET', '/.well-known/openid-configuration'],
  ['GET', '/mcp/.well-known/openid-configuration'],
  ['GET', '/mcp/.well-known/oauth-authorization-server'],
  ['POST', '/register'],
  ['GET', '/authorize?response_type=code&client_id=x&code_challenge=y&code_challenge_method=S256&redirect_uri=http%3A%2F%2Flocalhost%2Fcb'],
  ['POST', '/token'],
]

/** Words that make mcp-remote retry over SSE (404, 405, Not Found) or restart OAuth (Unauthorized) instead of stopping. */
const MISLEADING = /404|405|Not Found|Method Not Allowed|Unauthorized/

interface DiscoveryBody {
  error: string
  error_description: string
  message: string
  request_id: string
}

function discover(method: string, path: string, headers: Record<string, string> = {}): Promise<Response> {
  const form = path === '/token'
  const body = method !== 'POST' ? undefined : form ? 'grant_type=authorization_code&code=x' : JSON.stringify({ redirect_uris: ['http://localhost/cb'] })
  const contentType = form ? 'application/x-www-form-urlencoded' : 'application/json'
  return gatewayFetch(`${GATEWAY}${path}`, { method, headers: { ...(body ? { 'content-type': contentType } : {}), ...headers }, body })
}

async function expectNotSupported(response: Response, label: string): Promise<DiscoveryBody> {
  expect(response.status, label).toBe(404)
  expect(response.headers.get('content-type'), label).toMatch(/^application\/json/)
  expect(response.headers.get('cache-control'), label).toBe('no-store')
  const body = (await response.json()) as DiscoveryBody
  expect(Object.keys(body).sort(), label).toEqual(['error', 'error_description', 'message', 'request_id'])
  expect(body.error, label).toBe(OAUTH_NOT_SUPPORTED)
  expect(body.error_description, label).toBe(body.message)
  expect(body.request_id, label).toBe(response.headers.get('x-request-id'))
  expect(body.message, label).toMatch(/^This gateway does not offer OAuth sign-in \(its administrator has not set PUBLIC_URL\): it takes API keys\./)
  expect(body.message, label).not.toMatch(MISLEADING)
  return body
}

describe('OAuth discovery URLs', () => {
  it('each answer 404 with a JSON body saying the gateway takes API keys', async () => {
    for (const [method, path] of DISCOVERY) {
      const body = await expectNotSupported(await discover(method, path), `${method} ${path}`)
      expect(body.message).toContain("'Authorization: Bearer <API key>'")
      expect(body.message).toContain('npx odoo-mcp keys create')
      // Without a key to look at, the message covers both "no key sent" and "key refused".
      expect(body.message).toContain('its 401 answer says which')
    }
  })

  it('answer HEAD and other methods the same way', async () => {
    expect((await discover('HEAD', '/.well-known/oauth-protected-resource')).status).toBe(404)
    await expectNotSupported(await discover('PUT', '/register'), 'PUT /register')
    await expectNotSupported(await discover('DELETE', '/token'), 'DELETE /token')
  })

  it('leave other paths to the usual not_found answer', async () => {
    for (const path of ['/.well-known/security.txt', '/register/', '/oauth/token', '/mcp/.well-known/oauth-protected-resource']) {
      const response = await discover('GET', path)
      expect(response.status, path).toBe(404)
      expect(((await response.json()) as { error: string }).error, path).toBe('not_found')
    }
  })

  it('say whether the key the client sent along is malformed or well-formed, never echoing it', async () => {
    const { key } = await createTestKey()
    const truncated = key.slice(0, -3)
    const malformed = await expectNotSupported(await discover('POST', '/register', { authorization: `Bearer ${truncated}` }), 'malformed')
    expect(malformed.message).toContain('The key this client sends is malformed (not an omk_... key, or wrong checksum)')
    const wellFormed = await expectNotSupported(await discover('POST', '/register', { authorization: `Bearer ${key}` }), 'well-formed')
    expect(wellFormed.message).toContain(
      'The key this client sends is well-formed; if POST /mcp refused it, it is unknown, expired, revoked or rotated out',
    )
    const basic = { authorization: `Basic ${btoa('a:b')}` }
    const otherScheme = await expectNotSupported(await discover('GET', '/.well-known/oauth-protected-resource', basic), 'Basic')
    expect(otherScheme.message).toContain("The client's Authorization header is not 'Bearer <API key>'")
    for (const body of [malformed, wellFormed, otherScheme]) {
      expect(JSON.stringify(body)).not.toContain(key.slice(4, 20))
      expect(JSON.stringify(body)).not.toContain(btoa('a:b'))
    }
  })

  it('are what the SDK reads as an OAuth error carrying the description', async () => {
    const response = await discover('POST', '/register')
    const error = await parseErrorResponse(response.clone())
    const body = OAuthErrorResponseSchema.parse(await response.json())
    expect(error.message).toBe(body.error_description)
    // An unregistered error code: the SDK does not treat it as invalid_client (which makes it retry the flow).
    expect(error).toBeInstanceOf(ServerError)
  })

  it('give CORS headers to allowed origins only, preflights included', async () => {
    const preflight = await discover('OPTIONS', '/register', {
      origin: 'https://allowed.example',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type, mcp-protocol-version',
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://allowed.example')
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST')
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('mcp-protocol-version')

    const allowed = await discover('GET', '/.well-known/oauth-protected-resource/mcp', { origin: 'https://allowed.example' })
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://allowed.example')
    await expectNotSupported(allowed, 'allowed origin')

    const other = await discover('GET', '/.well-known/oauth-protected-resource/mcp', { origin: 'https://evil.example' })
    expect(other.headers.get('access-control-allow-origin')).toBeNull()
    const otherPreflight = await discover('OPTIONS', '/register', { origin: 'https://evil.example', 'access-control-request-method': 'POST' })
    expect(otherPreflight.headers.get('access-control-allow-origin')).toBeNull()
  })
})

/** An OAuth client provider as Inspector and mcp-remote have one: dynamic registration, a browser redirect. */
class RecordingProvider implements OAuthClientProvider {
  redirected: URL[] = []
  private info: OAuthClientInformationMixed | undefined
  get redirectUrl() {
    return 'http://localhost:6274/oauth/callback'
  }
  get clientMetadata() {
    return {
      client_name: 'vitest',
      redirect_uris: ['http://localhost:6274/oauth/callback'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }
  }
  clientInformation() {
    return this.info
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info
  }
  tokens(): OAuthTokens | undefined {
    return undefined
  }
  saveTokens() {}
  redirectToAuthorization(url: URL) {
    this.redirected.push(url)
  }
  saveCodeVerifier() {}
  codeVerifier() {
    return 'verifier'
  }
}

/** A fetch into the Worker that records what the client asked for and what it got. */
function recordingFetch() {
  const seen: string[] = []
  const fetch = async (input: string | URL | Request, init?: RequestInit) => {
    const url = input instanceof Request ? input.url : String(input)
    const response = await gatewayFetch(url, init)
    seen.push(`${init?.method ?? 'GET'} ${new URL(url).pathname} ${response.status}`)
    return response
  }
  return { fetch, seen }
}

async function connectError(key: string | undefined, authProvider?: OAuthClientProvider) {
  const { fetch, seen } = recordingFetch()
  const transport = new StreamableHTTPClientTransport(new URL(MCP_URL), {
    ...(key ? { requestInit: { headers: { authorization: `Bearer ${key}` } } } : {}),
    ...(authProvider ? { authProvider } : {}),
    fetch,
  })
  const client = new Client({ name: 'vitest', version: '1.0.0' })
  const error = await client.connect(transport).then(
    () => undefined,
    (thrown: unknown) => thrown as Error,
  )
  expect(error, 'connect must fail').toBeInstanceOf(Error)
  return { error: error!, seen }
}

describe('the MCP SDK client with a wrong key', () => {
  it('without an auth provider (Inspector CLI 0.22): the error shows the 401 message, reason included', async () => {
    const expiresAt = Date.now() - 60_000
    const expired = await createTestKey({ expiresAt })
    const { error, seen } = await connectError(expired.key)
    expect(error.message).toContain('Error POSTing to endpoint')
    expect(error.message).toContain(`This API key expired at ${new Date(expiresAt).toISOString()}`)
    expect(seen).toEqual(['POST /mcp 401'])

    const missing = await connectError(undefined)
    expect(missing.error.message).toContain('Send the API key as \\"Authorization: Bearer omk_...\\"')
  })

  it('with an auth provider (Inspector web UI, mcp-remote): OAuth discovery ends on the gateway sentence, not HTTP 404', async () => {
    const expired = await createTestKey({ expiresAt: Date.now() - 60_000 })
    const provider = new RecordingProvider()
    const { error, seen } = await connectError(expired.key, provider)
    expect(error.message).toMatch(
      /^This gateway does not offer OAuth sign-in \(its administrator has not set PUBLIC_URL\): it takes API keys\. The key this client sends is well-formed/,
    )
    expect(error.message).not.toMatch(MISLEADING)
    expect(error).toBeInstanceOf(ServerError)
    expect(provider.redirected).toEqual([])
    // The client probed the metadata URLs, got 404s (no 5xx that would end discovery with another message), then
    // tried to register and stopped there.
    expect(seen[0]).toBe('POST /mcp 401')
    expect(seen).toContain('GET /.well-known/oauth-protected-resource/mcp 404')
    expect(seen).toContain('GET /.well-known/oauth-authorization-server 404')
    expect(seen.at(-1)).toBe('POST /register 404')
    expect(seen.filter((line) => / 5\d\d$/.test(line))).toEqual([])
  })

  it('with an auth provider and a malformed key: the error says the key is malformed', async () => {
    const { error } = await connectError(generateApiKey().key.slice(0, -1), new RecordingProvider())
    expect(error.message).toContain('The key this client sends is malformed')
  })

  it('running auth() the way Inspector web UI does (no headers sent along): the general sentence', async () => {
    const { fetch, seen } = recordingFetch()
    const error = await auth(new RecordingProvider(), { serverUrl: MCP_URL, fetchFn: fetch }).then(
      () => undefined,
      (thrown: unknown) => thrown as Error,
    )
    expect(error?.message).toMatch(
      /^This gateway does not offer OAuth sign-in \(its administrator has not set PUBLIC_URL\): it takes API keys\. Configure the client to send the header 'Authorization: Bearer <API key>'/,
    )
    expect(seen.at(-1)).toBe('POST /register 404')
  })
})
