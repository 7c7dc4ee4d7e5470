/**
 * The 401's `WWW-Authenticate` challenge, read the way a strict client would: RFC 9110 §11.6.1 syntax and the
 * RFC 6750 §3 rules (scheme `Bearer`, each parameter once, `error`/`error_description` limited to
 * %x20-21 / %x23-5B / %x5D-7E). The description must say why the key was refused, and nothing a client sends
 * (quotes, line breaks, non-ASCII, 10 kB of it) may bend the header.
 */
import { env } from 'cloudflare:workers'
import { extractWWWAuthenticateParams } from '@modelcontextprotocol/sdk/client/auth.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { rotationStatements } from '../../../src/admin/v1/keys/plans'
import { bearerChallenge, challengeDescription } from '../../../src/http/bearer-challenge'
import { displayPrefix, generateApiKey } from '../../../src/keys/key-format'
import { sha256Hex } from '../../../src/lib/crypto'
import { createTestKey, postMcp } from '../helpers'

const ping = { jsonrpc: '2.0', id: 1, method: 'ping' }

interface Challenge {
  scheme: string
  params: Record<string, string>
}

const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/
/** RFC 6750 §3: the characters `error`, `error_description` (and `scope`'s tokens) may use. */
const RFC6750_VALUE = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/

/** A strict parser for one challenge: `auth-scheme [ 1*SP #auth-param ]`, quoted-strings per RFC 9110 §5.6.4. */
export function parseChallenge(header: string): Challenge {
  let i = 0
  const fail = (why: string): never => {
    throw new Error(`${why} at ${i} in ${JSON.stringify(header)}`)
  }
  const token = () => {
    const start = i
    while (i < header.length && TCHAR.test(header[i]!)) i++
    if (i === start) fail('token expected')
    return header.slice(start, i)
  }
  const ows = () => {
    while (header[i] === ' ' || header[i] === '\t') i++
  }
  const quoted = () => {
    i++ // the opening quote
    let value = ''
    for (;;) {
      if (i >= header.length) fail('unterminated quoted-string')
      const ch = header[i]!
      const code = ch.charCodeAt(0)
      if (ch === '"') {
        i++
        return value
      }
      if (ch === '\\') {
        const next = header.charCodeAt(i + 1)
        if (!(next === 0x09 || (next >= 0x20 && next <= 0x7e) || (next >= 0x80 && next <= 0xff))) fail('bad quoted-pair')
        value += header[i + 1]
        i += 2
        continue
      }
      const qdtext =
        code === 0x09 ||
        code === 0x20 ||
        code === 0x21 ||
        (code >= 0x23 && code <= 0x5b) ||
        (code >= 0x5d && code <= 0x7e) ||
        (code >= 0x80 && code <= 0xff)
      if (!qdtext) fail(`character U+${code.toString(16).padStart(4, '0')} not allowed in a quoted-string`)
      value += ch
      i++
    }
  }

  const scheme = token()
  const params: Record<string, string> = {}
  if (i < header.length) {
    if (header[i] !== ' ') fail('SP expected after the scheme')
    while (header[i] === ' ') i++
    for (;;) {
      const name = token().toLowerCase()
      ows()
      if (header[i] !== '=') fail('"=" expected')
      i++
      ows()
      const value = header[i] === '"' ? quoted() : token()
      if (Object.hasOwn(params, name)) fail(`parameter ${name} repeated`)
      params[name] = value
      ows()
      if (i === header.length) break
      if (header[i] !== ',') fail('"," expected')
      i++
      ows()
    }
  }
  if (scheme !== 'Bearer') fail(`scheme ${scheme} is not Bearer`)
  for (const name of ['realm', 'scope', 'error', 'error_description']) {
    if (params[name] !== undefined && !RFC6750_VALUE.test(params[name]!)) fail(`${name} has characters RFC 6750 §3 forbids`)
  }
  if (params.error !== undefined && !['invalid_request', 'invalid_token', 'insufficient_scope'].includes(params.error)) {
    fail(`unknown error code ${params.error}`)
  }
  return { scheme, params }
}

async function challengeOf(response: Response): Promise<{ challenge: Challenge; body: Record<string, string>; raw: string }> {
  expect(response.status).toBe(401)
  const header = response.headers.get('www-authenticate')
  expect(header).not.toBeNull()
  const raw = await response.text()
  return { challenge: parseChallenge(header!), body: JSON.parse(raw) as Record<string, string>, raw }
}

describe('the strict challenge parser used below', () => {
  it('accepts RFC 6750 examples', () => {
    expect(parseChallenge('Bearer realm="example"')).toEqual({ scheme: 'Bearer', params: { realm: 'example' } })
    expect(
      parseChallenge('Bearer realm="example", error="invalid_token", error_description="The access token expired"').params,
    ).toEqual({ realm: 'example', error: 'invalid_token', error_description: 'The access token expired' })
  })

  it('refuses what a strict client would refuse', () => {
    for (const bad of [
      'Basic realm="x"',
      'Bearer realm="x',
      'Bearer realm="x" error="invalid_token"',
      'Bearer realm="x", realm="y"',
      'Bearer realm="x", error="invalid_token", error_description="say \\"hi\\""',
      'Bearer realm="x", error_description="back\\\\slash"',
      'Bearer realm="x", error_description="line\r\nbreak"',
      'Bearer realm="x", error_description="caf\u00e9"',
      'Bearer realm="x", error="nope"',
      'Bearer realm="x",',
      'Bearer  ,',
    ]) {
      expect(() => parseChallenge(bad), bad).toThrow()
    }
  })
})

describe('the 401 challenge', () => {
  it('is the bare challenge when no Authorization header was sent (RFC 6750 §3.1: no error information)', async () => {
    const response = await postMcp(undefined, ping)
    const { challenge, body } = await challengeOf(response)
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="odoo-mcp-edge"')
    expect(challenge.params).toEqual({ realm: 'odoo-mcp-edge' })
    expect(body.error).toBe('missing_token')
  })

  it('carries invalid_token and the reason for every refused key, the same words as the JSON body', async () => {
    const now = Date.now()
    const valid = await createTestKey()
    const revoked = await createTestKey({ revokedAt: now - 60_000 })
    const expired = await createTestKey({ expiresAt: now - 60_000 })
    const rotatedOut = await createTestKey()
    const replacement = generateApiKey().key
    const statements = rotationStatements({
      id: rotatedOut.id,
      keyHash: await sha256Hex(replacement),
      prefix: displayPrefix(replacement),
      now,
      graceEndsAt: now - 1000,
    })
    await env.DB.batch(statements.map((statement) => env.DB.prepare(statement.sql).bind(...statement.params)))
    const iso = (ms: number) => new Date(ms).toISOString()

    const cases: [string, Record<string, string>, RegExp][] = [
      ['malformed', { authorization: `Bearer ${valid.key.slice(0, -2)}` }, /^The API key is malformed \(wrong format or checksum\)/],
      ['not Bearer', { authorization: `Token ${valid.key}` }, /^The Authorization header must be 'Bearer <API key>'$/],
      ['unknown', { authorization: `Bearer ${generateApiKey().key}` }, /^The API key is not valid: no such key$/],
      ['expired', { authorization: `Bearer ${expired.key}` }, new RegExp(`^This API key expired at ${iso(now - 60_000)}\\.`)],
      ['revoked', { authorization: `Bearer ${revoked.key}` }, new RegExp(`^This API key was revoked \\(${iso(now - 60_000)}\\)\\.`)],
      [
        'rotated',
        { authorization: `Bearer ${rotatedOut.key}` },
        new RegExp(`^This API key was rotated: its previous secret stopped working at ${iso(now - 1000)}\\.`),
      ],
    ]
    for (const [name, headers, description] of cases) {
      const { challenge, body } = await challengeOf(await postMcp(undefined, ping, headers))
      expect(challenge.params.realm, name).toBe('odoo-mcp-edge')
      expect(challenge.params.error, name).toBe('invalid_token')
      expect(challenge.params.error_description, name).toMatch(description)
      // The body keeps its shape and says the same thing (its double quotes are single quotes in the header).
      expect(Object.keys(body).sort(), name).toEqual(['error', 'message', 'request_id'])
      expect(body.error, name).toBe('invalid_token')
      expect(body.message.replaceAll('"', "'"), name).toBe(challenge.params.error_description)
    }
  })

  it('is read by the MCP SDK as invalid_token, with no scope or resource metadata to chase', async () => {
    const response = await postMcp(generateApiKey().key, ping)
    expect(extractWWWAuthenticateParams(response)).toEqual({ error: 'invalid_token', scope: undefined, resourceMetadataUrl: undefined })
    const missing = await postMcp(undefined, ping)
    expect(extractWWWAuthenticateParams(missing)).toEqual({ error: undefined, scope: undefined, resourceMetadataUrl: undefined })
  })

  it('stays valid and echoes nothing, whatever the client puts in the Authorization header', async () => {
    const marker = 'Zq9marker'
    const hostile = [
      `Bearer omk_"${marker}", error="insufficient_scope`,
      `Bearer omk_${marker}\\"\\\\`,
      `Bearer "omk_${marker}"`,
      `Bearer omk_${marker}\u00e9\u00ff`,
      `Bearer omk_${marker}\t${marker}`,
      `Bearer omk_${marker}${'A'.repeat(10 * 1024)}`,
      `Bearer ${marker}${'"'.repeat(10 * 1024)}`,
      `Bearer ${'x'.repeat(10 * 1024)}${marker}`,
      `${marker}${'\\'.repeat(10 * 1024)}`,
      `Bearer omk_${marker}, error_description="injected"`,
      `Bearer omk_${marker}\r\nX-Injected: 1`,
      `Bearer omk_${marker}\u0000`,
    ]
    let sent = 0
    for (const authorization of hostile) {
      let response: Response
      try {
        response = await postMcp(undefined, ping, { authorization })
      } catch (error) {
        // The Fetch API itself refuses to send a header with CR, LF or NUL in it: nothing to answer.
        expect(error, JSON.stringify(authorization.slice(0, 40))).toBeInstanceOf(TypeError)
        continue
      }
      sent++
      const header = response.headers.get('www-authenticate')!
      const { challenge, raw } = await challengeOf(response)
      expect(challenge.params.error).toBe('invalid_token')
      expect(challenge.params.error_description).toMatch(/^The (API key is malformed|Authorization header must be)/)
      expect(header.length).toBeLessThan(300)
      expect(header).not.toContain(marker)
      expect(raw).not.toContain(marker)
      expect(response.headers.get('x-injected')).toBeNull()
    }
    expect(sent).toBeGreaterThanOrEqual(9)
  })
})

describe('challengeDescription', () => {
  it('turns any text into a valid RFC 6750 error_description of at most 300 characters', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 400 }), fc.string({ maxLength: 20_000 })), (text) => {
        const header = bearerChallenge({ error: 'invalid_token', description: text })
        const { params } = parseChallenge(header)
        expect(params.error).toBe('invalid_token')
        expect(params.error_description!.length).toBeLessThanOrEqual(300)
        expect(Object.keys(params).sort()).toEqual(['error', 'error_description', 'realm'])
      }),
      { numRuns: 500 },
    )
  })

  it('keeps plain messages as they are and makes hostile ones harmless', () => {
    expect(challengeDescription('This API key expired at 2026-01-01T00:00:00.000Z. Ask for a new key.')).toBe(
      'This API key expired at 2026-01-01T00:00:00.000Z. Ask for a new key.',
    )
    expect(challengeDescription('say "hi" \\ there')).toBe("say 'hi' / there")
    expect(challengeDescription('line\r\nbreak\u0000and\ttab')).toBe('line break and tab')
    expect(challengeDescription('caf\u00e9 \u{1F600} \u2026')).toBe('caf? ? ...')
    const long = challengeDescription('x'.repeat(10 * 1024))
    expect(long).toHaveLength(300)
    expect(long.endsWith('...')).toBe(true)
  })
})
