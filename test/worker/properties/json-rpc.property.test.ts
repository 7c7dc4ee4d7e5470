/**
 * Property tests of the JSON-RPC envelope, both ways. Requests: readJsonRpcBody (src/http/transport-guard.ts) takes
 * one JSON-RPC message and refuses the rest with the documented errors. Answers: the Odoo client (src/odoo/client.ts,
 * http.ts, errors.ts) turns whatever comes back into a result, an OdooError (Odoo's class and message, never its
 * traceback) or an OdooUnavailableError with a message of ours (never the body). Each side is checked against a
 * reference written from the JSON-RPC 2.0 and Odoo wire formats. Runs in workerd: these modules use Worker types.
 */
import fc from 'fast-check'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { MAX_BODY_BYTES, readJsonRpcBody } from '../../../src/http/transport-guard'
import type { GatewayEnv } from '../../../src/http/types'
import { clearOdooCaches, createOdooClient } from '../../../src/odoo/client'
import { OdooError, OdooUnavailableError } from '../../../src/odoo/errors'
import type { FetchLike } from '../../../src/odoo/http'

// ---------------------------------------------------------------------------------------------------------------
// Requests: readJsonRpcBody
// ---------------------------------------------------------------------------------------------------------------

/** Nesting of objects and arrays, counted without recursion (inputs nest up to hundreds of thousands of levels). */
function depthOf(value: unknown): number {
  let deepest = 0
  const stack: [unknown, number][] = [[value, 0]]
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!
    if (current === null || typeof current !== 'object') continue
    deepest = Math.max(deepest, depth + 1)
    for (const child of Object.values(current)) stack.push([child, depth + 1])
  }
  return deepest
}

/** Messages at most this deep must get through: a tool call with a domain and nested commands is about 15 deep. */
const SURELY_ACCEPTED_DEPTH = 32

type BodyClass = 'too_large' | 'parse_error' | 'batch' | 'not_an_object' | 'message'

/** The reference: UTF-8 bytes over 1 MiB, then JSON (the body decoded as UTF-8, a BOM dropped), then its shape. */
function classify(body: string): { kind: BodyClass; message?: unknown } {
  const bytes = new TextEncoder().encode(body)
  if (bytes.length > MAX_BODY_BYTES) return { kind: 'too_large' }
  let message: unknown
  try {
    message = JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    return { kind: 'parse_error' }
  }
  if (Array.isArray(message)) return { kind: 'batch' }
  if (message === null || typeof message !== 'object') return { kind: 'not_an_object' }
  return { kind: 'message', message }
}

async function post(body: string) {
  let accepted: { message: unknown } | undefined
  const app = new Hono<GatewayEnv>()
  app.use('/mcp', ...readJsonRpcBody())
  app.post('/mcp', (c) => {
    accepted = { message: c.get('rpcMessage') }
    return c.text('accepted')
  })
  // Sent as UTF-8 bytes, as on the wire (a lone surrogate in the text becomes U+FFFD).
  const bytes = new TextEncoder().encode(body)
  const response = await app.request('/mcp', { method: 'POST', body: bytes, headers: { 'content-type': 'application/json' } })
  const text = await response.text()
  return { status: response.status, text, accepted }
}

/** `depth` levels of arrays or objects around 1, written as text. */
function nestedText(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? '['.repeat(depth) + '1' + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
}

const rpcMessage = fc.record(
  { jsonrpc: fc.constantFrom('2.0', '1.0'), id: fc.oneof(fc.nat(), fc.string({ maxLength: 5 }), fc.constant(null)), method: fc.constantFrom('tools/call', 'initialize', 'ping'), params: fc.jsonValue({ maxDepth: 4 }) },
  { requiredKeys: [] },
)

const body = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 120 }),
  fc.json({ maxDepth: 4 }),
  rpcMessage.map((m) => JSON.stringify(m)),
  fc.array(rpcMessage, { maxLength: 3 }).map((batch) => JSON.stringify(batch)),
  rpcMessage.map((m) => JSON.stringify(m)).chain((text) => fc.nat(text.length).map((cut) => text.slice(0, cut))), // truncated
  fc.tuple(fc.constantFrom('\ufeff', ' \n\t', '\u00a0', '\ud800', ''), rpcMessage).map(([prefix, m]) => prefix + JSON.stringify(m)),
  fc.constantFrom('', 'null', 'true', '"x"', '1e400', '{"a":1,}', "{'a':1}", '{"a":1}{"b":2}', '{"__proto__":{"x":1}}', '{"jsonrpc":"2.0","method":"\ud800"}'),
)

/** Deep bodies, as (depth, kind, wrapped in a message?) so that fast-check can print a failing case. */
const deepBody = fc.tuple(fc.integer({ min: 1, max: 300_000 }), fc.constantFrom('array' as const, 'object' as const), fc.boolean())

function deepBodyText([depth, kind, inMessage]: [number, 'array' | 'object', boolean]): string {
  const nested = nestedText(depth, kind)
  return inMessage ? `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{"domain":${nested}}}}` : nested
}

function expectAnswer(answer: Awaited<ReturnType<typeof post>>, expected: ReturnType<typeof classify>, compareMessage: boolean) {
  expect(answer.status, answer.text.slice(0, 200)).not.toBe(500)
  switch (expected.kind) {
    case 'too_large':
      expect(answer.status).toBe(413)
      expect(JSON.parse(answer.text)).toMatchObject({ error: 'payload_too_large' })
      return
    case 'parse_error':
      expect(answer.status).toBe(400)
      expect(JSON.parse(answer.text)).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } })
      return
    case 'batch':
    case 'not_an_object':
      expect(answer.status).toBe(400)
      expect(JSON.parse(answer.text)).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32600 } })
      return
    case 'message': {
      if (answer.accepted) {
        if (compareMessage) expect(answer.accepted.message).toEqual(expected.message)
        return
      }
      // Only a message nested deeper than any real one may be refused, and then as an invalid request.
      expect(depthOf(expected.message)).toBeGreaterThan(SURELY_ACCEPTED_DEPTH)
      expect(answer.status).toBe(400)
      expect(JSON.parse(answer.text)).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32600 } })
    }
  }
}

describe('readJsonRpcBody (properties)', () => {
  it('passes on exactly one JSON object and refuses everything else with the documented JSON-RPC error', async () => {
    await fc.assert(
      fc.asyncProperty(body, async (text) => {
        expectAnswer(await post(text), classify(text), true)
      }),
      { numRuns: 500 },
    )
  })

  it('answers deeply nested bodies without crashing', async () => {
    await fc.assert(
      fc.asyncProperty(deepBody, async (spec) => {
        const text = deepBodyText(spec)
        expectAnswer(await post(text), classify(text), false)
      }),
      { numRuns: 40 },
    )
  })

  it('refuses a body over 1 MiB (counted in UTF-8 bytes) with 413, and takes one just under', async () => {
    const sized = fc.tuple(fc.integer({ min: -8, max: 8 }), fc.constantFrom('a', 'é', '€', '😀')).map(([offset, char]) => {
      const head = '{"jsonrpc":"2.0","method":"ping","params":{"pad":"'
      const tail = '"}}'
      const room = MAX_BODY_BYTES + offset - head.length - tail.length
      const charBytes = new TextEncoder().encode(char).length
      return head + char.repeat(Math.floor(room / charBytes)) + 'a'.repeat(room % charBytes) + tail
    })
    await fc.assert(
      fc.asyncProperty(sized, async (text) => {
        expectAnswer(await post(text), classify(text), false)
      }),
      { numRuns: 20 },
    )
  })
})

// ---------------------------------------------------------------------------------------------------------------
// Answers: the Odoo client
// ---------------------------------------------------------------------------------------------------------------

/** Text that stands for Odoo's server traceback (paths, code): it must never be in an error a client sees. */
const TRACEBACK = 'Traceback (most recent call last):\n  File "/opt/odoo/odoo/http.py", line 1788, in _serve_db'

type Answer =
  | { kind: 'http'; status: number; contentType: string; body: string }
  | { kind: 'throws'; error: 'timeout' | 'abort' | 'network' }

const NULL_BODY_STATUSES = [204, 205, 304]
const JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/problem+json']
const OTHER_TYPES = ['text/html; charset=utf-8', 'text/plain', 'application/xml', '']

function toResponse(answer: Extract<Answer, { kind: 'http' }>): Response {
  const headers = answer.contentType ? { 'content-type': answer.contentType } : undefined
  // Bytes, not a string: a string body would get a text/plain content type of its own.
  const bytes = NULL_BODY_STATUSES.includes(answer.status) ? null : new TextEncoder().encode(answer.body)
  return new Response(bytes, { status: answer.status, headers })
}

function throwFor(error: 'timeout' | 'abort' | 'network'): never {
  if (error === 'timeout') throw new DOMException('The operation timed out.', 'TimeoutError')
  if (error === 'abort') throw new DOMException('The operation was aborted.', 'AbortError')
  throw new TypeError('Network connection lost.')
}

const safeText = fc.string({ maxLength: 30 })
/** Values of Odoo's message fields: text, long text, nothing, and values that are not text at all. */
const messageValue = fc.oneof(
  { weight: 4, arbitrary: safeText },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(undefined, null, 42, true, { toString: 1 }, ['list'], '', 'x'.repeat(2500)) },
)
const errorData = fc.record(
  {
    name: fc.oneof(fc.constantFrom<unknown>('odoo.exceptions.AccessError', 'odoo.exceptions.ValidationError', 'odoo.exceptions.AccessDenied', 'builtins.ValueError', '', 7, { toString: 1 })),
    message: messageValue,
    arguments: fc.oneof(fc.array(messageValue, { maxLength: 2 }), fc.constant('not a list')),
    debug: fc.string({ maxLength: 20 }).map((rest) => `${TRACEBACK}\n${rest}`),
    context: fc.constant({ note: TRACEBACK }),
  },
  { requiredKeys: ['debug'] },
)

/** JSON-RPC answers: results, Odoo errors, bare errors, malformed errors, and JSON that is no answer at all. */
const jsonRpcBody = fc.oneof(
  fc.record({ jsonrpc: fc.constant('2.0'), id: fc.nat(), result: fc.jsonValue({ maxDepth: 3 }) }),
  fc.record({ jsonrpc: fc.constant('2.0'), id: fc.nat(), error: fc.record({ code: fc.constant(200), message: fc.constant('Odoo Server Error'), data: errorData }) }),
  fc.record({ jsonrpc: fc.constant('2.0'), error: fc.record({ code: fc.integer(), message: messageValue, data: fc.constantFrom<unknown>(0, '', null, false) }, { requiredKeys: ['code'] }) }),
  fc.record({ error: fc.record({ message: safeText, data: fc.constantFrom<unknown>(TRACEBACK, [TRACEBACK], 1, true) }) }),
  fc.record({ error: fc.constantFrom<unknown>(TRACEBACK, 1, true, [TRACEBACK], ['x']), result: fc.constantFrom<unknown>(undefined, 1) }),
  fc.jsonValue({ maxDepth: 3 }),
)

/** Answers to the version checks (`common.version`, `/web/version`), well formed or not. */
const versionInfo = fc.oneof(
  fc.tuple(fc.integer({ min: -1, max: 30 }), fc.nat(1)),
  fc.constantFrom<unknown>(['saas~17', 2], ['saas~', 1], [{ toString: 1 }], [null], [], 'x', null, { '0': 18 }),
)
const versionBody = fc.oneof(
  versionInfo.map((info) => ({ jsonrpc: '2.0', id: 1, result: { server_version_info: info } })),
  versionInfo.map((info) => ({ version: '19.0', version_info: info })),
  fc.constantFrom<unknown>(null, 1, 'x', [], { result: null }),
)

const httpAnswer = (bodies: fc.Arbitrary<unknown>): fc.Arbitrary<Answer> =>
  fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({
        kind: fc.constant('http' as const),
        status: fc.oneof({ weight: 5, arbitrary: fc.constant(200) }, { weight: 1, arbitrary: fc.constantFrom(201, 204, 301, 302, 400, 401, 403, 404, 422, 500, 502, 503) }),
        contentType: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...JSON_TYPES) }, { weight: 1, arbitrary: fc.constantFrom(...OTHER_TYPES) }),
        body: fc.oneof(
          { weight: 6, arbitrary: bodies.map((value) => JSON.stringify(value) ?? 'null') },
          { weight: 1, arbitrary: fc.constantFrom(`<html><body><pre>${TRACEBACK}</pre></body></html>`, `{"jsonrpc": "2.0", "error": {"data": {"debug": "${TRACEBACK.replace(/\n/g, ' ')}`, '') },
        ),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('throws' as const), error: fc.constantFrom('timeout' as const, 'abort' as const, 'network' as const) }) },
  )

type Outcome = { kind: 'result'; value: unknown } | { kind: 'odoo'; type: string; message: string; status?: number } | { kind: 'unavailable'; reason: string }

function parsedJson(answer: Extract<Answer, { kind: 'http' }>): { ok: true; value: unknown } | { ok: false } | undefined {
  const media = answer.contentType.split(';')[0]!.trim().toLowerCase()
  if (media !== 'application/json' && !media.endsWith('+json')) return undefined
  try {
    return { ok: true, value: JSON.parse(NULL_BODY_STATUSES.includes(answer.status) ? '' : answer.body) }
  } catch {
    return { ok: false }
  }
}

/** Odoo's exception from the `data` of an error: its class and message (else the first argument), never `debug`. */
function odooException(data: unknown, status?: number): Outcome {
  const fields = (data !== null && typeof data === 'object' ? data : {}) as Record<string, unknown>
  const type = typeof fields.name === 'string' && fields.name ? fields.name : 'odoo.exceptions.UserError'
  let message = typeof fields.message === 'string' ? fields.message : ''
  if (!message && Array.isArray(fields.arguments) && typeof fields.arguments[0] === 'string') message = fields.arguments[0]
  if (message.length > 2000) message = message.slice(0, 2000) + '…'
  return { kind: 'odoo', type, message: message || 'Odoo returned an error without a message', ...(status ? { status } : {}) }
}

function transport(answer: Answer): Outcome | undefined {
  if (answer.kind === 'throws') return { kind: 'unavailable', reason: answer.error === 'network' ? 'unreachable' : 'timeout' }
  if (answer.status >= 300 && answer.status < 400) return { kind: 'unavailable', reason: 'bad_response' }
  return undefined
}

/**
 * JSON-RPC 2.0 as Odoo speaks it: an `error` object is Odoo's exception (in `data`) or a protocol error (its
 * `message`); any other truthy `error` is not a JSON-RPC answer; otherwise a `result` member is the result.
 */
function referenceJsonRpc(answer: Answer): Outcome {
  const early = transport(answer)
  if (early || answer.kind === 'throws') return early!
  const json = parsedJson(answer)
  if (!json) return { kind: 'unavailable', reason: answer.status === 404 ? 'not_found' : 'bad_response' }
  if (!json.ok) return { kind: 'unavailable', reason: 'bad_response' }
  const envelope = json.value
  if (envelope === null || typeof envelope !== 'object' || Array.isArray(envelope)) return { kind: 'unavailable', reason: 'bad_response' }
  const { error } = envelope as { error?: unknown }
  if (error) {
    if (typeof error !== 'object' || Array.isArray(error)) return { kind: 'unavailable', reason: 'bad_response' }
    const { data, message } = error as { data?: unknown; message?: unknown }
    if (data) return odooException(data)
    return odooException({ name: 'JsonRpcError', message: typeof message === 'string' ? message : 'JSON-RPC error' })
  }
  if (!Object.hasOwn(envelope, 'result')) return { kind: 'unavailable', reason: 'bad_response' }
  return { kind: 'result', value: (envelope as { result: unknown }).result }
}

/** JSON-2: a 2xx JSON body is the result; an error is a JSON object naming Odoo's exception class. */
function referenceJson2(answer: Answer): Outcome {
  const early = transport(answer)
  if (early || answer.kind === 'throws') return early!
  const json = parsedJson(answer)
  if (json && !json.ok) return { kind: 'unavailable', reason: 'bad_response' }
  if (answer.status >= 200 && answer.status < 300) return json ? { kind: 'result', value: json.value } : { kind: 'unavailable', reason: 'bad_response' }
  const value = json?.value
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && 'name' in value) return odooException(value, answer.status)
  return { kind: 'unavailable', reason: answer.status === 404 ? 'not_found' : 'bad_response' }
}

/** What a call came to, and the text of the error a client would see. */
async function outcomeOf(promise: Promise<unknown>): Promise<[Outcome, string]> {
  try {
    return [{ kind: 'result', value: await promise }, '']
  } catch (error) {
    if (error instanceof OdooError) {
      return [{ kind: 'odoo', type: error.exceptionType, message: error.message, ...(error.httpStatus ? { status: error.httpStatus } : {}) }, `${error.exceptionName}: ${error.message}`]
    }
    if (error instanceof OdooUnavailableError) return [{ kind: 'unavailable', reason: error.reason }, error.message]
    throw error
  }
}

const VERSION_18 = { jsonrpc: '2.0', id: 1, result: { server_version: '18.0', server_version_info: [18, 0, 0, 'final', 0, ''] } }

/** A client whose server detection succeeds, and whose one Odoo call gets `answer`. */
function clientAnswering(protocol: 'jsonrpc' | 'json2', answer: Answer) {
  clearOdooCaches()
  const fetch: FetchLike = async (url, init) => {
    const request = typeof init.body === 'string' ? (JSON.parse(init.body) as { params?: { service?: string } }) : undefined
    if (url.endsWith('/web/version')) return Response.json({ version: '19.0', version_info: [19, 0, 0, 'final', 0, ''] })
    if (request?.params?.service === 'common') return Response.json(VERSION_18)
    if (answer.kind === 'throws') throwFor(answer.error)
    return toResponse(answer)
  }
  return createOdooClient({
    baseUrl: 'https://odoo.test', db: 'db', protocol, timeoutMs: 1000, credentials: { login: 'agent', secret: 's3cret' }, uidCacheKey: 'key', knownUid: 2, fetch,
  })
}

/** Neither Odoo's traceback nor a body we were sent (the HTML page, the cut JSON) may reach a client. */
function expectNoTraceback(errorText: string) {
  expect(errorText).not.toContain('Traceback')
  expect(errorText).not.toContain('/opt/odoo')
}

describe('Odoo client answers (properties)', () => {
  it('JSON-RPC: a result, Odoo\'s exception without its traceback, or "unavailable", as the reference says', async () => {
    await fc.assert(
      fc.asyncProperty(httpAnswer(jsonRpcBody), async (answer) => {
        const [outcome, errorText] = await outcomeOf(clientAnswering('jsonrpc', answer).call('res.partner', 'search_read'))
        expect(outcome).toEqual(referenceJsonRpc(answer))
        expectNoTraceback(errorText)
      }),
      { numRuns: 1000 },
    )
  })

  it('JSON-2: a result, Odoo\'s exception without its traceback, or "unavailable", as the reference says', async () => {
    const json2Body = fc.oneof(errorData, fc.jsonValue({ maxDepth: 3 }))
    await fc.assert(
      fc.asyncProperty(httpAnswer(json2Body), async (answer) => {
        const [outcome, errorText] = await outcomeOf(clientAnswering('json2', answer).call('res.partner', 'search_read'))
        expect(outcome).toEqual(referenceJson2(answer))
        expectNoTraceback(errorText)
      }),
      { numRuns: 500 },
    )
  })

  it('throws nothing but OdooError or OdooUnavailableError when every answer, version checks included, is random', async () => {
    await fc.assert(
      fc.asyncProperty(httpAnswer(fc.oneof(jsonRpcBody, errorData, versionBody)), fc.constantFrom('jsonrpc' as const, 'json2' as const, 'auto' as const), async (answer, protocol) => {
        clearOdooCaches()
        const fetch: FetchLike = async () => (answer.kind === 'throws' ? throwFor(answer.error) : toResponse(answer))
        const client = createOdooClient({
          baseUrl: 'https://odoo.test', db: 'db', protocol, timeoutMs: 1000, credentials: { login: 'agent', secret: 's3cret' }, uidCacheKey: 'key', fetch,
        })
        const [outcome, errorText] = await outcomeOf(client.call('res.partner', 'search_read'))
        expectNoTraceback(errorText)
        if (outcome.kind === 'unavailable') expect(outcome.reason).toMatch(/^(timeout|unreachable|bad_response|not_found)$/)
      }),
      { numRuns: 500 },
    )
  })
})
