/**
 * OAuth controls as properties over generated inputs, each against a reference written here independently of the
 * gateway's code:
 *
 * 1. Refresh-token reuse (oauth/refresh-tokens.ts): over any sequence of issues, refreshes and replays, a token is
 *    let through at most once per issue, every replay of a token that was let through is caught, and a token never
 *    issued is never let through nor makes anything revoked.
 * 2. /authorize: whatever the parameters, the gateway redirects only to a redirect URI the client registered (exactly,
 *    or a loopback one with another port), never carries a code in a redirect before sign-in, and shows the sign-in
 *    page only to a request with a registered redirect URI, a state, an S256 challenge and response_type=code.
 * 3. /token: a code yields tokens at most once, and only to a request whose every present field is the right one.
 */
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { claimRefreshToken, EMPTY_REFRESH_STATE, firstRefreshToken, settleRefreshToken, type RefreshTokenState } from '../../src/oauth/refresh-tokens'
import { addProfile, authorizeUrl, CALLBACK, clearProfiles, ISSUER, MCP, obtainCode, openPage, register, tokenRequest } from './helpers'

describe('refresh-token reuse detection, against a reference history', () => {
  type Step = { kind: 'issue' } | { kind: 'refresh'; pick: number; libraryAccepts: boolean } | { kind: 'forge' }

  const step: fc.Arbitrary<Step> = fc.oneof(
    { weight: 1, arbitrary: fc.constant({ kind: 'issue' as const }) },
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('refresh' as const), pick: fc.nat(20), libraryAccepts: fc.boolean() }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'forge' as const }) },
  )

  it('lets each issued token through at most once, catches every replay, and ignores forgeries', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), (steps) => {
        let state: RefreshTokenState = EMPTY_REFRESH_STATE
        let serial = 0
        // Reference: every token ever issued to the grant, and which were exchanged (let through and answered).
        const issued: string[] = []
        const exchanged = new Set<string>()
        let holder: string | null = null
        let revoked = false
        for (const current of steps) {
          if (current.kind === 'issue') {
            const token = `t${serial++}`
            state = firstRefreshToken(token)
            issued.length = 0
            exchanged.clear()
            issued.push(token)
            holder = token
            revoked = false
            continue
          }
          if (revoked) continue
          const presented = current.kind === 'forge' ? `forged${serial++}` : issued.length ? issued[current.pick % issued.length]! : `never${serial++}`
          const claimed = claimRefreshToken(state, presented)
          state = claimed.state
          if (current.kind === 'forge' || !issued.includes(presented)) {
            expect(claimed.verdict).toBe('unknown')
            continue
          }
          if (exchanged.has(presented)) {
            // Reference: a token that was exchanged is spent; showing it again is reuse.
            expect(claimed.verdict).toBe('reused')
            revoked = true
            continue
          }
          // Not yet exchanged: only the holder's (newest) token is still live.
          expect(claimed.verdict).toBe(presented === holder ? 'claimed' : 'unknown')
          if (claimed.verdict !== 'claimed') continue
          if (current.libraryAccepts) {
            const next = `t${serial++}`
            state = settleRefreshToken(state, presented, next)
            exchanged.add(presented)
            issued.push(next)
            holder = next
          } else {
            state = settleRefreshToken(state, presented, null)
          }
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('treats a token presented again while its exchange is in flight as reuse', () => {
    const claimed = claimRefreshToken(firstRefreshToken('a'), 'a')
    expect(claimed.verdict).toBe('claimed')
    expect(claimRefreshToken(claimed.state, 'a').verdict).toBe('reused')
  })
})

describe('the gateway over generated requests', () => {
  let clientId: string
  const REGISTERED = CALLBACK

  beforeAll(async () => {
    await clearProfiles()
    await addProfile({ name: 'sales' })
    clientId = await register([REGISTERED])
  })

  /** Reference: registered exactly, or the same loopback http URI on another port (RFC 8252 §7.3). */
  function registered(uri: string): boolean {
    if (uri === REGISTERED) return true
    const withoutPort = (text: string) => text.replace(/^http:\/\/127\.0\.0\.1:\d+\//, 'http://127.0.0.1/')
    return /^http:\/\/127\.0\.0\.1:\d+\/callback$/.test(uri) && withoutPort(uri) === withoutPort(REGISTERED)
  }

  /** Mostly the right value, so that requests wrong in exactly one way, or in none, come up often. */
  const mostly = <T,>(right: T, wrong: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: fc.constant(right) }, { weight: 1, arbitrary: wrong })

  const redirectUris = fc.constantFrom(
    REGISTERED,
    'http://127.0.0.1:40001/callback',
    'http://127.0.0.1:33418/callback/',
    'http://127.0.0.1:33418/other',
    'https://127.0.0.1:33418/callback',
    'http://localhost:33418/callback',
    'https://evil.example/callback',
    `${REGISTERED}?next=https://evil.example`,
    `${REGISTERED}#x`,
    'http://127.0.0.1.evil.example:33418/callback',
    'javascript:alert(1)',
  )
  const challenge = mostly<string | null>('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', fc.oneof(fc.constant(null), fc.string({ maxLength: 10 })))

  it('/authorize redirects only to the registered URI and shows the page only to a complete request', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          redirectUri: mostly(REGISTERED, redirectUris),
          state: mostly<string | null>('st-1', fc.oneof(fc.constant(null), fc.constant(''), fc.string({ minLength: 1, maxLength: 20 }))),
          challenge,
          method: mostly<string | null>('S256', fc.constantFrom(null, 'plain', 's256')),
          responseType: mostly<string | null>('code', fc.constantFrom(null, 'token', 'code token')),
          resource: mostly<string | null>(MCP, fc.constantFrom(null, 'https://other.example/mcp', `${ISSUER}/`)),
        }),
        async (params) => {
          const page = await openPage(authorizeUrl({ clientId, ...params }))
          const location = page.response.headers.get('location')
          const label = JSON.stringify(params)
          if (page.status === 302) {
            expect(location, label).not.toBeNull()
            const target = new URL(location!)
            expect(registered(params.redirectUri) && location!.startsWith(params.redirectUri.split('#')[0]!.split('?')[0]!), label).toBe(true)
            expect(target.searchParams.get('code'), label).toBeNull()
            expect(target.searchParams.get('error'), label).toBeTruthy()
          } else {
            expect(location, label).toBeNull()
          }
          if (page.status === 200) {
            expect(registered(params.redirectUri), label).toBe(true)
            expect(params.state, label).toBeTruthy()
            expect(params.method, label).toBe('S256')
            expect(params.challenge, label).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM')
            expect(params.responseType, label).toBe('code')
          }
          if (!registered(params.redirectUri)) expect(page.status, label).toBeGreaterThanOrEqual(400)
        },
      ),
      { numRuns: 150 },
    )
  }, 60_000)

  it('/token gives a code\'s tokens at most once, and only for the right fields', async () => {
    const otherClient = await register([REGISTERED])
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            code: fc.constantFrom('right', 'tampered'),
            verifier: fc.constantFrom('right', 'wrong', 'missing'),
            client: fc.constantFrom('right', 'other', 'missing'),
            redirect: fc.constantFrom('right', 'other', 'missing'),
            resource: fc.constantFrom('right', 'other', 'missing'),
            grantType: fc.constantFrom('authorization_code', 'refresh_token', 'password'),
          }),
          { minLength: 1, maxLength: 4 },
        ),
        async (attempts) => {
          const grant = await obtainCode({}, clientId)
          let successes = 0
          for (const attempt of attempts) {
            const fields: Record<string, string> = { grant_type: attempt.grantType }
            fields.code = attempt.code === 'right' ? grant.code : `${grant.code.slice(0, -1)}${grant.code.endsWith('A') ? 'B' : 'A'}`
            if (attempt.verifier !== 'missing') fields.code_verifier = attempt.verifier === 'right' ? grant.verifier : 'x'.repeat(43)
            if (attempt.client !== 'missing') fields.client_id = attempt.client === 'right' ? grant.clientId : otherClient
            if (attempt.redirect !== 'missing') fields.redirect_uri = attempt.redirect === 'right' ? grant.redirectUri : 'http://127.0.0.1:33418/other'
            if (attempt.resource !== 'missing') fields.resource = attempt.resource === 'right' ? MCP : 'https://other.example/mcp'
            const response = await tokenRequest(fields)
            const label = JSON.stringify(attempt)
            if (response.status === 200) {
              successes++
              expect(attempt.code, label).toBe('right')
              expect(attempt.verifier, label).toBe('right')
              expect(attempt.client, label).toBe('right')
              expect(attempt.grantType, label).toBe('authorization_code')
              expect(attempt.redirect, label).not.toBe('other')
              expect(attempt.resource, label).not.toBe('other')
            } else {
              expect(response.status, label).toBeGreaterThanOrEqual(400)
            }
          }
          expect(successes).toBeLessThanOrEqual(1)
        },
      ),
      { numRuns: 25 },
    )
  }, 60_000)
})
