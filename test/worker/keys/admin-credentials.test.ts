/**
 * The Odoo credential check behind `keys create` / `keys set-odoo-secret`, through the admin API: POST /admin/v1/keys
 * (verify on by default) checks an Odoo login and secret against the gateway's Odoo as a key session would (JSON-RPC
 * here, JSON-2 against the Odoo 19 simulator) before anything is stored, and PUT /admin/v1/keys/:id/odoo-secret
 * replaces a key's secret, reloads the key and records the change in its audit chain. The secret in the body must
 * never come back, nor reach a log, and nothing runs without a valid signature.
 */
import { env } from 'cloudflare:workers'
import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest'
import { clearOdooCaches } from '../../../src/odoo/client'
import { adminHeaders } from '../admin-api/client'
import { auditByRequestId, flushAudit } from '../audit/helpers'
import { createTestKey, gatewayFetch, odooApiKey, sim } from '../helpers'

interface Answer {
  status: number
  body: Record<string, unknown>
  raw: string
  requestId: string
}

async function signedCall(method: string, path: string, payload: unknown, overrides: Partial<typeof env> = {}): Promise<Answer> {
  const body = JSON.stringify(payload)
  const init = { method, headers: { 'content-type': 'application/json', ...(await adminHeaders(method, path, body)) }, body }
  let response: Response
  if (Object.keys(overrides).length === 0) {
    response = await gatewayFetch(`http://gateway.test${path}`, init)
  } else {
    const { default: worker } = await import('../../../src/index')
    response = await worker.fetch(new Request(`http://gateway.test${path}`, init), { ...env, ...overrides }, {
      waitUntil() {},
      passThroughOnException() {},
      props: {},
    } as unknown as ExecutionContext)
  }
  const raw = await response.text()
  return { status: response.status, body: JSON.parse(raw) as Record<string, unknown>, raw, requestId: response.headers.get('x-request-id') ?? '' }
}

/** `keys create` with the check on: what the gateway answers for these credentials. */
const check = (credentials: { login: string; secret: string }, overrides: Partial<typeof env> = {}) =>
  signedCall('POST', '/admin/v1/keys', { name: 'credential check', odoo_login: credentials.login, odoo_secret: credentials.secret }, overrides)

/** Everything the Worker writes to the console during a test, to prove no secret reaches a log. */
let logged: string[] = []

beforeEach(() => {
  logged = []
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      logged.push(args.map(String).join(' '))
    })
  }
  clearOdooCaches()
})

afterEach(() => {
  vi.restoreAllMocks()
})

describe('POST /admin/v1/keys checks the credentials over JSON-RPC (Odoo 18)', () => {
  it('answers the uid for a right login and secret (password or API key)', async () => {
    for (const candidate of ['sales_agent', odooApiKey('sales_agent')]) {
      const answer = await check({ login: 'sales_agent', secret: candidate })
      expect(answer.status, answer.raw).toBe(201)
      expect(answer.body).toMatchObject({ odoo_uid: 8, verified: true, login_checked: true })
    }
  })

  it('refuses a wrong secret and an unknown login with the same error, saying only what Odoo says', async () => {
    const wrongSecret = await check({ login: 'sales_agent', secret: 'not-the-secret-4711' })
    const unknownLogin = await check({ login: 'nobody_here', secret: odooApiKey('sales_agent') })
    for (const answer of [wrongSecret, unknownLogin]) {
      expect(answer.status).toBe(422)
      expect(answer.body.error).toBe('odoo_credentials_refused')
      expect(answer.body.message).toBe('Odoo refused the login or the secret (Odoo does not say which)')
    }
    expect(wrongSecret.raw).not.toContain('not-the-secret-4711')
    expect(unknownLogin.raw).not.toContain(odooApiKey('sales_agent'))
    expect(logged.join('\n')).not.toMatch(/not-the-secret-4711|odoo-apikey-sales_agent/)
  })

  it('says when Odoo cannot be reached, and when the gateway has no usable Odoo settings', async () => {
    const down = await check({ login: 'admin', secret: 'secret-while-down' }, { ODOO_URL: 'http://127.0.0.1:9' })
    expect(down.status).toBe(502)
    expect(down.body.error).toBe('odoo_unavailable')
    expect(down.body.message).toMatch(/^Odoo is unavailable: /)
    const unset = await check({ login: 'admin', secret: 'secret-unset' }, { ODOO_URL: '' })
    expect(unset.status).toBe(503)
    expect(unset.body.error).toBe('odoo_not_configured')
    expect(down.raw + unset.raw + logged.join('\n')).not.toMatch(/secret-while-down|secret-unset/)
  })

  it('refuses a malformed body without echoing it', async () => {
    const base = { name: 'x', odoo_login: 'admin' }
    for (const payload of [{ ...base }, { name: 'x', odoo_secret: 'lonely-secret-1' }, { ...base, odoo_login: '', odoo_secret: 'empty-login-secret' }, 'plain-secret-text', null]) {
      const answer = await signedCall('POST', '/admin/v1/keys', payload)
      expect(answer.status).toBe(400)
      expect(answer.body.error).toBe('invalid_body')
      expect(answer.raw).not.toMatch(/lonely-secret-1|empty-login-secret|plain-secret-text/)
    }
  })

  it('runs nothing without a valid signature, and is off without ADMIN_SECRET', async () => {
    await sim.clearCalls()
    const path = '/admin/v1/keys'
    const body = JSON.stringify({ name: 'x', odoo_login: 'admin', odoo_secret: 'admin' })
    const cases: [string, Record<string, string>][] = [
      ['unsigned', {}],
      ['wrong secret', await adminHeaders('POST', path, body, { secret: 'y'.repeat(40) })],
      ['signed for another body', await adminHeaders('POST', path, JSON.stringify({ name: 'x', odoo_login: 'admin', odoo_secret: 'other' }))],
      ['signed for another path', await adminHeaders('POST', '/admin/v1/keys/key_0000000000000000/revoke', body)],
    ]
    for (const [label, headers] of cases) {
      const response = await gatewayFetch(`http://gateway.test${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })
      expect(response.status, label).toBe(401)
      expect(((await response.json()) as { error: string }).error, label).toMatch(/^admin_(unauthenticated|bad_signature)$/)
    }
    const off = await check({ login: 'admin', secret: 'admin' }, { ADMIN_SECRET: undefined as unknown as string })
    expect(off.status).toBe(503)
    expect(off.body.error).toBe('admin_disabled')
    // None of these reached Odoo.
    expect((await sim.calls()).filter((call) => call.method === 'authenticate')).toEqual([])
  })
})

describe('POST /admin/v1/keys checks the credentials over JSON-2 (Odoo 19)', () => {
  // Served by test/support/global-setup.ts (its ProvidedContext typing is not part of the Workers tsconfig).
  const json2 = () => ({ ODOO_URL: (inject as unknown as (key: string) => string)('odooUrlJson2'), ODOO_PROTOCOL: 'auto' })

  it('answers the uid of the API key and checks that it belongs to the login', async () => {
    const answer = await check({ login: 'sales_agent', secret: odooApiKey('sales_agent') }, json2())
    expect(answer.status, answer.raw).toBe(201)
    expect(answer.body).toMatchObject({ odoo_uid: 8, verified: true, login_checked: true })
  })

  it('refuses a wrong API key or a password, and another user\'s API key', async () => {
    for (const candidate of ['sales_agent', 'odoo-apikey-wrong-9']) {
      const answer = await check({ login: 'sales_agent', secret: candidate }, json2())
      expect(answer.status).toBe(422)
      expect(answer.body.error).toBe('odoo_credentials_refused')
      expect(answer.body.message).toMatch(/^Odoo refused the secret: over JSON-2 it must be the user's Odoo API key/)
      expect(answer.raw).not.toContain(candidate === 'sales_agent' ? '"sales_agent"' : candidate)
    }
    const other = await check({ login: 'sales_agent', secret: odooApiKey('demo') }, json2())
    expect(other.status).toBe(422)
    expect(other.body.error).toBe('odoo_login_mismatch')
    expect(other.body.message).toBe("Odoo accepted the secret, but it is the API key of Odoo user 'demo' (uid 6), not of 'sales_agent'")
    expect(other.raw).not.toContain(odooApiKey('demo'))
    const unknownLogin = await check({ login: 'nobody_here', secret: 'odoo-apikey-wrong-9' }, json2())
    expect(unknownLogin.body.error).toBe('odoo_credentials_refused')
    expect(logged.join('\n')).not.toMatch(/odoo-apikey-/)
  })
})

describe('PUT /admin/v1/keys/:id/odoo-secret', () => {
  it('reloads the key and records the change in its audit chain, never the secret', async () => {
    const key = await createTestKey({ policy: { version: 1, models: {} }, name: 'secret change' })
    const path = `/admin/v1/keys/${key.id}/odoo-secret`
    const verified = await signedCall('PUT', path, { odoo_secret: 'admin' })
    expect(verified.status, verified.raw).toBe(200)
    expect(verified.body).toMatchObject({ id: key.id, verified: true, odoo_uid: 2, applied: true, in_key_audit_chain: true })
    const unverified = await signedCall('PUT', path, { odoo_secret: 'unchecked-secret-77', verify: false })
    expect(unverified.body).toMatchObject({ verified: false, odoo_uid: null })
    expect(verified.raw + unverified.raw + logged.join('\n')).not.toMatch(/unchecked-secret-77/)
    await flushAudit([key.id])
    const first = await auditByRequestId(verified.requestId)
    expect(first).toMatchObject({
      chainId: key.id,
      keyId: key.id,
      keyName: 'secret change',
      odooUser: 'admin',
      method: 'admin/set-odoo-secret',
      tool: null,
      outcome: 'ok',
      code: 'odoo_credentials_verified',
    })
    expect((await auditByRequestId(unverified.requestId))?.code).toBe('odoo_credentials_not_verified')

    expect((await signedCall('PUT', '/admin/v1/keys/key_0000000000000000/odoo-secret', { odoo_secret: 'x' })).body.error).toBe('key_not_found')
    expect((await signedCall('PUT', path, { odoo_secret: '' })).body.error).toBe('invalid_body')
    expect((await signedCall('PUT', path, { odoo_secret: 'x', verify: 'yes' })).body.error).toBe('invalid_body')
    const unsigned = await gatewayFetch(`http://gateway.test${path}`, { method: 'PUT', body: '{"odoo_secret":"x"}' })
    expect(unsigned.status).toBe(401)
  })
})
