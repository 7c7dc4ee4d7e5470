/**
 * The Odoo client against the answers real Odoo gave (recorded transcripts) and against transport failures.
 * The happy paths against a live simulated Odoo are covered by the MCP tests.
 */
import { beforeEach, describe, expect, it } from 'vitest'
import { clearOdooCaches, createOdooClient, type OdooClientOptions } from '../../../src/odoo/client'
import { OdooError, OdooUnavailableError } from '../../../src/odoo/errors'
import type { FetchLike } from '../../../src/odoo/http'
import { recordedAnswer, toResponse, transcriptNames } from './transcripts'

beforeEach(() => clearOdooCaches())

interface SentRequest {
  url: string
  init: RequestInit
  json: unknown
}

/** A fetch that answers from a script of recorded responses and remembers what it was sent. */
function scriptedFetch(answers: Array<string | (() => Response | Promise<Response>)>) {
  const sent: SentRequest[] = []
  const fetch: FetchLike = async (url, init) => {
    sent.push({ url, init, json: typeof init.body === 'string' ? JSON.parse(init.body) : undefined })
    const next = answers.shift()
    if (next === undefined) throw new Error(`unexpected request to ${url}`)
    return typeof next === 'string' ? toResponse(recordedAnswer(next)) : next()
  }
  return { fetch, sent }
}

function client(fetch: FetchLike, overrides: Partial<OdooClientOptions> = {}) {
  return createOdooClient({
    baseUrl: 'https://odoo.example',
    db: 'mcp_demo',
    protocol: 'jsonrpc',
    timeoutMs: 2000,
    credentials: { login: 'sales_agent', secret: 'secret-of-sales-agent' },
    uidCacheKey: 'key_test',
    fetch,
    ...overrides,
  })
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a rejection')
}

describe('JSON-RPC (Odoo 18 transcripts)', () => {
  it('authenticates once, then calls execute_kw with the uid, the secret and named arguments', async () => {
    const { fetch, sent } = scriptedFetch([
      'odoo-18.0/01-common-version',
      'odoo-18.0/02-common-authenticate-apikey',
      'odoo-18.0/03-sale-order-search_read',
      'odoo-18.0/03-sale-order-search_read',
    ])
    const odoo = client(fetch)
    const first = await odoo.call<unknown[]>('sale.order', 'search_read', { kwargs: { domain: [], fields: ['name'] } })
    await odoo.call('sale.order', 'search_read', { kwargs: { domain: [], fields: ['name'] }, context: { lang: 'fr_FR' } })
    expect(Array.isArray(first)).toBe(true)
    expect(sent.map((s) => (s.json as { params: { method: string } }).params.method)).toEqual([
      'version',
      'authenticate',
      'execute_kw',
      'execute_kw',
    ])
    expect((sent[1]!.json as { params: { args: unknown[] } }).params.args).toEqual(['mcp_demo', 'sales_agent', 'secret-of-sales-agent', {}])
    expect((sent[3]!.json as { params: { args: unknown[] } }).params.args).toEqual([
      'mcp_demo', 8, 'secret-of-sales-agent', 'sale.order', 'search_read', [], { domain: [], fields: ['name'], context: { lang: 'fr_FR' } },
    ])
    expect(sent.every((s) => s.init.redirect === 'manual')).toBe(true)
  })

  it('reports the uid it resolved so it can be stored, and reuses a stored uid', async () => {
    const resolved: number[] = []
    const first = scriptedFetch(['odoo-18.0/01-common-version', 'odoo-18.0/02-common-authenticate-apikey', 'odoo-18.0/13-sales_manager-sale-order-search_count'])
    await client(first.fetch, { onUidResolved: (uid) => resolved.push(uid) }).call('sale.order', 'search_count', { kwargs: { domain: [] } })
    expect(resolved).toEqual([8])

    clearOdooCaches()
    const second = scriptedFetch(['odoo-18.0/01-common-version', 'odoo-18.0/13-sales_manager-sale-order-search_count'])
    await client(second.fetch, { knownUid: 8 }).call('sale.order', 'search_count', { kwargs: { domain: [] } })
    expect(second.sent.map((s) => (s.json as { params: { method: string } }).params.method)).toEqual(['version', 'execute_kw'])
  })

  it.each([
    ['odoo-18.0/04-hr-employee-read-private-field-AccessError', 'AccessError', /enough rights to access the fields "private_email,ssnid"/],
    ['odoo-18.0/04c-ir-config-parameter-AccessError', 'AccessError', /not allowed to access 'System Parameter'/],
    ['odoo-18.0/06-res-partner-write-MissingError', 'MissingError', /Record does not exist or has been deleted/],
    ['odoo-18.0/08-res-partner-recursive-ValidationError', 'ValidationError', /recursive Partner hierarchies/],
    ['odoo-18.0/09-unknown-model-KeyError', 'UserError', /Object no.such.model doesn't exist/],
    ['odoo-18.0/10-unknown-method-AttributeError', 'AttributeError', /res.partner.no_such_method/],
    ['odoo-18.0/16-sales_agent-read-others-order-AccessError', 'AccessError', /top-secret records/],
    ['odoo-18.0/20-admin-res-partner-bad-operator', 'ValueError', /Invalid leaf/],
  ])('maps %s to OdooError %s with Odoo\'s message and without the traceback', async (name, exception, message) => {
    const { fetch } = scriptedFetch(['odoo-18.0/01-common-version', name])
    const error = await rejection(client(fetch, { knownUid: 8 }).call('x', 'y'))
    expect(error).toBeInstanceOf(OdooError)
    expect((error as OdooError).exceptionName).toBe(exception)
    expect(error.message).toMatch(message)
    expect(error.message).not.toMatch(/Traceback|File "/)
    expect((error as OdooError).isAuthenticationFailure).toBe(false)
  })

  it('treats AccessDenied (bad credentials) as an authentication failure and forgets the uid', async () => {
    const { fetch, sent } = scriptedFetch([
      'odoo-18.0/01-common-version',
      'odoo-18.0/11-bad-apikey-AccessDenied',
      'odoo-18.0/02-common-authenticate-apikey',
      'odoo-18.0/15-sales_agent-sale-order-search_count',
    ])
    const odoo = client(fetch, { knownUid: 8 })
    const error = await rejection(odoo.call('sale.order', 'search_count', { kwargs: { domain: [] } }))
    expect((error as OdooError).isAuthenticationFailure).toBe(true)
    await odoo.call('sale.order', 'search_count', { kwargs: { domain: [] } })
    expect((sent[2]!.json as { params: { method: string } }).params.method).toBe('authenticate')
  })

  it('fails closed when authenticate returns false', async () => {
    const { fetch } = scriptedFetch([
      'odoo-18.0/01-common-version',
      () => Response.json({ jsonrpc: '2.0', id: 2, result: false }),
    ])
    const error = await rejection(client(fetch).call('res.partner', 'search_count'))
    expect((error as OdooError).isAuthenticationFailure).toBe(true)
  })
})

describe('JSON-2 (Odoo 19 transcripts)', () => {
  it('posts named arguments with the bearer API key and X-Odoo-Database', async () => {
    const { fetch, sent } = scriptedFetch(['odoo-19.0/01-web-version', 'odoo-19.0/05-res-partner-read'])
    const odoo = client(fetch, { protocol: 'json2' })
    await odoo.call('res.partner', 'read', { ids: [1], kwargs: { fields: ['name'] }, context: { lang: 'en_US' } })
    const call = sent[1]!
    expect(call.url).toBe('https://odoo.example/json/2/res.partner/read')
    expect(new Headers(call.init.headers).get('authorization')).toBe('bearer secret-of-sales-agent')
    expect(new Headers(call.init.headers).get('x-odoo-database')).toBe('mcp_demo')
    expect(call.json).toEqual({ ids: [1], fields: ['name'], context: { lang: 'en_US' } })
  })

  it.each([
    ['odoo-19.0/14-internal_user-sale-order-AccessError', 403, 'AccessError'],
    ['odoo-19.0/15-sales_agent-read-others-order-AccessError', 403, 'AccessError'],
    ['odoo-19.0/17-res-partner-write-MissingError', 404, 'MissingError'],
    ['odoo-19.0/18-res-partner-recursive-ValidationError', 422, 'ValidationError'],
    ['odoo-19.0/19-bad-domain-operator', 500, 'ValueError'],
    ['odoo-19.0/12-unknown-model-404', 404, 'NotFound'],
    ['odoo-19.0/13a-private-method-403', 403, 'AccessError'],
    ['odoo-19.0/21-unexpected-argument-422', 422, 'UnprocessableEntity'],
  ])('maps %s (HTTP %i) to OdooError %s without the traceback', async (name, status, exception) => {
    const { fetch } = scriptedFetch(['odoo-19.0/01-web-version', name])
    const error = (await rejection(client(fetch, { protocol: 'json2' }).call('m', 'x'))) as OdooError
    expect(error).toBeInstanceOf(OdooError)
    expect(error.httpStatus).toBe(status)
    expect(error.exceptionName).toBe(exception)
    expect(error.message).not.toMatch(/Traceback/)
  })

  it('treats 401 Invalid apikey as an authentication failure', async () => {
    const { fetch } = scriptedFetch(['odoo-19.0/01-web-version', 'odoo-19.0/11-bad-apikey-401'])
    const error = (await rejection(client(fetch, { protocol: 'json2' }).call('res.partner', 'search_count'))) as OdooError
    expect(error.isAuthenticationFailure).toBe(true)
    expect(error.message).toBe('Invalid apikey')
  })

  it('explains the 404 HTML page Odoo serves when no database is selected, without quoting it', async () => {
    const { fetch } = scriptedFetch(['odoo-19.0/01-web-version', 'odoo-19.0/24-unknown-X-Odoo-Database'])
    const error = await rejection(client(fetch, { protocol: 'json2' }).call('res.partner', 'search_count'))
    expect(error).toBeInstanceOf(OdooUnavailableError)
    expect(error.message).toMatch(/HTTP 404 with an HTML page.*set ODOO_DB/)
    expect(error.message).not.toMatch(/<html|DOCTYPE|web\/login/i)
  })
})

describe('protocol detection (ODOO_PROTOCOL=auto)', () => {
  it('uses JSON-RPC for Odoo 18', async () => {
    const { fetch } = scriptedFetch(['odoo-18.0/01-common-version'])
    expect(await client(fetch, { protocol: 'auto' }).serverInfo()).toEqual({ protocol: 'jsonrpc', majorVersion: 18 })
  })

  it('uses JSON-2 for Odoo 19', async () => {
    const { fetch } = scriptedFetch(['odoo-19.0/30-jsonrpc-common-version'])
    expect(await client(fetch, { protocol: 'auto' }).serverInfo()).toEqual({ protocol: 'json2', majorVersion: 19 })
  })

  it('falls back to /web/version when /jsonrpc is gone', async () => {
    const { fetch } = scriptedFetch([() => new Response('<html>404</html>', { status: 404, headers: { 'content-type': 'text/html' } }), 'odoo-19.0/01-web-version'])
    expect(await client(fetch, { protocol: 'auto' }).serverInfo()).toEqual({ protocol: 'json2', majorVersion: 19 })
  })

  it('detects once per isolate and retries after a failure', async () => {
    const { fetch, sent } = scriptedFetch([
      () => Promise.reject(new TypeError('connection refused')),
      'odoo-18.0/01-common-version',
    ])
    const odoo = client(fetch, { protocol: 'auto' })
    await expect(odoo.serverInfo()).rejects.toBeInstanceOf(OdooUnavailableError)
    await odoo.serverInfo()
    await odoo.serverInfo()
    expect(sent).toHaveLength(2)
  })
})

describe('transport failures', () => {
  const withVersion = (answer: () => Response | Promise<Response>) => scriptedFetch(['odoo-18.0/01-common-version', answer]).fetch

  it('times out with a clear error', async () => {
    const hang: FetchLike = (_url, init) =>
      new Promise((_resolve, reject) => init.signal?.addEventListener('abort', () => reject(init.signal?.reason)))
    const error = await rejection(client(hang, { timeoutMs: 150 }).serverInfo())
    expect(error).toMatchObject({ name: 'OdooUnavailableError', reason: 'timeout', message: 'Odoo did not answer within 150 ms' })
  })

  it('reports an unreachable server (real connection to a closed port)', async () => {
    const odoo = createOdooClient({
      baseUrl: 'http://127.0.0.1:9',
      db: 'x',
      protocol: 'jsonrpc',
      timeoutMs: 3000,
      credentials: { login: 'a', secret: 'b' },
      uidCacheKey: 'k',
    })
    const error = await rejection(odoo.call('res.partner', 'search_count'))
    expect(error).toBeInstanceOf(OdooUnavailableError)
    expect((error as OdooUnavailableError).reason).toMatch(/unreachable|bad_response/)
  })

  it('refuses to follow redirects', async () => {
    const error = await rejection(
      client(withVersion(() => new Response(null, { status: 303, headers: { location: 'https://evil.example/' } })), { knownUid: 2 }).call('a', 'b'),
    )
    expect(error.message).toMatch(/redirect \(HTTP 303\).*ODOO_URL/)
    expect(error.message).not.toContain('evil.example')
  })

  it('describes an HTML error page (proxy 502) without quoting it', async () => {
    const page = '<html><body>nginx/1.2 Bad Gateway at 10.0.0.7</body></html>'
    const error = await rejection(
      client(withVersion(() => new Response(page, { status: 502, headers: { 'content-type': 'text/html' } })), { knownUid: 2 }).call('a', 'b'),
    )
    expect(error.message).toBe('Odoo answered HTTP 502 with an HTML page instead of JSON')
  })

  it('reports truncated JSON', async () => {
    const error = await rejection(
      client(withVersion(() => new Response('{"jsonrpc": "2.0", "res', { headers: { 'content-type': 'application/json' } })), { knownUid: 2 }).call('a', 'b'),
    )
    expect(error).toMatchObject({ reason: 'bad_response', message: 'Odoo answered HTTP 200 with invalid JSON' })
  })

  it('reports JSON that is not a JSON-RPC envelope', async () => {
    const error = await rejection(client(withVersion(() => Response.json({ hello: 'world' })), { knownUid: 2 }).call('a', 'b'))
    expect(error.message).toMatch(/not a JSON-RPC response/)
  })

  it('reports a JSON-RPC error that is not an object as a bad answer, without quoting it', async () => {
    const traceback = 'Traceback (most recent call last): File "/opt/odoo/odoo/http.py"'
    for (const malformed of [traceback, [traceback], true]) {
      clearOdooCaches()
      const error = await rejection(client(withVersion(() => Response.json({ jsonrpc: '2.0', id: 1, error: malformed })), { knownUid: 2 }).call('a', 'b'))
      expect(error).toMatchObject({ name: 'OdooUnavailableError', reason: 'bad_response', message: 'Odoo answered HTTP 200 with a malformed JSON-RPC error' })
    }
  })

  it('does not choke on a JSON-RPC error message that is not text', async () => {
    const error = await rejection(
      client(withVersion(() => Response.json({ jsonrpc: '2.0', id: 1, error: { code: 0, message: { toString: 1 } } })), { knownUid: 2 }).call('a', 'b'),
    )
    expect(error).toMatchObject({ name: 'OdooError', exceptionType: 'JsonRpcError', message: 'JSON-RPC error' })
  })

  it('does not choke on version answers of the wrong shape', async () => {
    const nullVersion: FetchLike = async () => Response.json(null)
    expect(await client(nullVersion, { protocol: 'json2' }).serverInfo()).toEqual({ protocol: 'json2', majorVersion: 19 })
    clearOdooCaches()
    const odd = scriptedFetch([() => Response.json({ jsonrpc: '2.0', id: 1, result: { server_version_info: [{ toString: 1 }] } }), () => Response.json({ version_info: [18, 0] })])
    expect(await client(odd.fetch, { protocol: 'auto' }).serverInfo()).toEqual({ protocol: 'jsonrpc', majorVersion: 18 })
  })
})

describe('transcripts', () => {
  it('are all available to the tests', () => {
    expect(transcriptNames('18.0').length).toBeGreaterThanOrEqual(30)
    expect(transcriptNames('19.0').length).toBeGreaterThanOrEqual(50)
  })
})
