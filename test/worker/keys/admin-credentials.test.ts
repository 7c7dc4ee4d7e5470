/**
 * The admin routes behind `keys create` / `keys set-odoo-secret`: POST /admin/odoo/check-credentials checks an Odoo
 * login and secret against the gateway's Odoo as a key session would (JSON-RPC here, JSON-2 against the Odoo 19
 * simulator), and POST /admin/keys/:id/odoo-secret-replaced reloads the key and records the change in its audit
 * chain. The secret in the body must never come back, nor reach a log, and nothing runs without a valid signature.
 */
import { env } from 'cloudflare:workers'
import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest'
import { signAdminRequest } from '../../../src/admin/signature'
import { clearOdooCaches } from '../../../src/odoo/client'
import { auditByRequestId, flushAudit } from '../audit/helpers'
import { createTestKey, gatewayFetch, odooApiKey, sim } from '../helpers'

const CHECK = '/admin/odoo/check-credentials'
const secret = () => env.ADMIN_SECRET!

interface Answer {
  status: number
  body: Record<string, unknown>
  raw: string
  requestId: string
}

async function signedPost(path: string, payload: unknown, overrides: Partial<typeof env> = {}): Promise<Answer> {
  const body = JSON.stringify(payload)
  const init = {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(await signAdminRequest(overrides.ADMIN_SECRET ?? secret(), 'POST', path, body)) },
    body,
  }
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

describe('POST /admin/odoo/check-credentials over JSON-RPC (Odoo 18)', () => {
  it('answers the uid for a right login and secret (password or API key)', async () => {
    for (const candidate of ['sales_agent', odooApiKey('sales_agent')]) {
      const answer = await signedPost(CHECK, { login: 'sales_agent', secret: candidate })
      expect(answer.status, answer.raw).toBe(200)
      expect(answer.body).toEqual({ ok: true, uid: 8, protocol: 'jsonrpc', login_checked: true })
    }
  })

  it('refuses a wrong secret and an unknown login with the same error, saying only what Odoo says', async () => {
    const wrongSecret = await signedPost(CHECK, { login: 'sales_agent', secret: 'not-the-secret-4711' })
    const unknownLogin = await signedPost(CHECK, { login: 'nobody_here', secret: odooApiKey('sales_agent') })
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
    const down = await signedPost(CHECK, { login: 'admin', secret: 'secret-while-down' }, { ODOO_URL: 'http://127.0.0.1:9' })
    expect(down.status).toBe(502)
    expect(down.body.error).toBe('odoo_unavailable')
    expect(down.body.message).toMatch(/^Odoo is unavailable: /)
    const unset = await signedPost(CHECK, { login: 'admin', secret: 'secret-unset' }, { ODOO_URL: '' })
    expect(unset.status).toBe(503)
    expect(unset.body.error).toBe('odoo_not_configured')
    expect(down.raw + unset.raw + logged.join('\n')).not.toMatch(/secret-while-down|secret-unset/)
  })

  it('refuses a malformed body without echoing it', async () => {
    for (const payload of [{ login: 'admin' }, { secret: 'lonely-secret-1' }, { login: '', secret: 'empty-login-secret' }, 'plain-secret-text', null]) {
      const answer = await signedPost(CHECK, payload)
      expect(answer.status).toBe(400)
      expect(answer.body.error).toBe('invalid_body')
      expect(answer.raw).not.toMatch(/lonely-secret-1|empty-login-secret|plain-secret-text/)
    }
  })

  it('runs nothing without a valid signature, and is off without ADMIN_SECRET', async () => {
    await sim.clearCalls()
    const body = JSON.stringify({ login: 'admin', secret: 'admin' })
    const cases: [string, Record<string, string>][] = [
      ['unsigned', {}],
      ['wrong secret', await signAdminRequest('y'.repeat(40), 'POST', CHECK, body)],
      ['signed for another body', await signAdminRequest(secret(), 'POST', CHECK, JSON.stringify({ login: 'admin', secret: 'other' }))],
      ['signed for another path', await signAdminRequest(secret(), 'POST', '/admin/keys/key_0000000000000000/refresh', body)],
    ]
    for (const [label, headers] of cases) {
      const response = await gatewayFetch(`http://gateway.test${CHECK}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })
      expect(response.status, label).toBe(401)
      expect(((await response.json()) as { error: string }).error, label).toMatch(/^admin_(unsigned|bad_signature)$/)
    }
    const off = await signedPost(CHECK, { login: 'admin', secret: 'admin' }, { ADMIN_SECRET: undefined as unknown as string })
    expect(off.status).toBe(503)
    expect(off.body.error).toBe('admin_disabled')
    // None of these reached Odoo.
    expect((await sim.calls()).filter((call) => call.method === 'authenticate')).toEqual([])
  })
})

describe('POST /admin/odoo/check-credentials over JSON-2 (Odoo 19)', () => {
  // Served by test/support/global-setup.ts (its ProvidedContext typing is not part of the Workers tsconfig).
  const json2 = () => ({ ODOO_URL: (inject as unknown as (key: string) => string)('odooUrlJson2'), ODOO_PROTOCOL: 'auto' })

  it('answers the uid of the API key and checks that it belongs to the login', async () => {
    const answer = await signedPost(CHECK, { login: 'sales_agent', secret: odooApiKey('sales_agent') }, json2())
    expect(answer.status, answer.raw).toBe(200)
    expect(answer.body).toEqual({ ok: true, uid: 8, protocol: 'json2', login_checked: true })
  })

  it('refuses a wrong API key or a password, and another user\'s API key', async () => {
    for (const candidate of ['sales_agent', 'odoo-apikey-wrong-9']) {
      const answer = await signedPost(CHECK, { login: 'sales_agent', secret: candidate }, json2())
      expect(answer.status).toBe(422)
      expect(answer.body.error).toBe('odoo_credentials_refused')
      expect(answer.body.message).toMatch(/^Odoo refused the secret: over JSON-2 it must be the user's Odoo API key/)
      expect(answer.raw).not.toContain(candidate === 'sales_agent' ? '"sales_agent"' : candidate)
    }
    const other = await signedPost(CHECK, { login: 'sales_agent', secret: odooApiKey('demo') }, json2())
    expect(other.status).toBe(422)
    expect(other.body.error).toBe('odoo_login_mismatch')
    expect(other.body.message).toBe("Odoo accepted the secret, but it is the API key of Odoo user 'demo' (uid 6), not of 'sales_agent'")
    expect(other.raw).not.toContain(odooApiKey('demo'))
    const unknownLogin = await signedPost(CHECK, { login: 'nobody_here', secret: 'odoo-apikey-wrong-9' }, json2())
    expect(unknownLogin.body.error).toBe('odoo_credentials_refused')
    expect(logged.join('\n')).not.toMatch(/odoo-apikey-/)
  })
})

describe('POST /admin/keys/:id/odoo-secret-replaced', () => {
  it('reloads the key and records the change in its audit chain, never the secret', async () => {
    const key = await createTestKey({ policy: { version: 1, models: {} }, name: 'secret change' })
    const path = `/admin/keys/${key.id}/odoo-secret-replaced`
    const verified = await signedPost(path, { verified: true, odoo_uid: 2 })
    expect(verified.status, verified.raw).toBe(200)
    expect(verified.body).toMatchObject({ id: key.id, status: 'active', audit_seq: 1 })
    const unverified = await signedPost(path, { verified: false, odoo_uid: null })
    expect(unverified.body).toMatchObject({ audit_seq: 2 })
    await flushAudit([key.id])
    const first = await auditByRequestId(verified.requestId)
    expect(first).toMatchObject({
      chainId: key.id,
      seq: 1,
      keyId: key.id,
      keyName: 'secret change',
      odooUser: 'admin',
      method: 'admin/set-odoo-secret',
      tool: null,
      outcome: 'ok',
      code: 'odoo_credentials_verified',
    })
    expect((await auditByRequestId(unverified.requestId))?.code).toBe('odoo_credentials_not_verified')

    expect((await signedPost('/admin/keys/key_0000000000000000/odoo-secret-replaced', { verified: true, odoo_uid: 2 })).body.error).toBe('key_not_found')
    expect((await signedPost(path, { verified: 'yes' })).body.error).toBe('invalid_body')
    expect((await signedPost(path, { verified: true, odoo_uid: -1 })).body.error).toBe('invalid_body')
    const unsigned = await gatewayFetch(`http://gateway.test${path}`, { method: 'POST', body: '{"verified":true,"odoo_uid":2}' })
    expect(unsigned.status).toBe(401)
  })
})
