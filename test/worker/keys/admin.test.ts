/**
 * The admin channel (POST /admin/keys/:id/refresh), attacked: it must refuse anything not signed with ADMIN_SECRET
 * for exactly that method, path and body within 5 minutes, and be off without a secret.
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { ADMIN_SIGNATURE_HEADER, ADMIN_TIMESTAMP_HEADER, signAdminRequest } from '../../../src/admin/signature'
import { createTestKey, gatewayFetch } from '../helpers'

const secret = () => env.ADMIN_SECRET!

async function post(path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; error: string }> {
  const response = await gatewayFetch(`http://gateway.test${path}`, { method: 'POST', headers, body })
  const json = (await response.json()) as { error?: string }
  return { status: response.status, error: json.error ?? 'ok' }
}

describe('admin channel', () => {
  it('reloads a key for a correctly signed request, and says when the key does not exist', async () => {
    const { id } = await createTestKey({ policy: { version: 1, models: {} } })
    const path = `/admin/keys/${id}/refresh`
    expect(await post(path, await signAdminRequest(secret(), 'POST', path, ''))).toEqual({ status: 200, error: 'ok' })
    const missing = '/admin/keys/key_0000000000000000/refresh'
    expect(await post(missing, await signAdminRequest(secret(), 'POST', missing, ''))).toEqual({ status: 404, error: 'key_not_found' })
    const invalid = '/admin/keys/omk_abc/refresh'
    expect(await post(invalid, await signAdminRequest(secret(), 'POST', invalid, ''))).toEqual({ status: 400, error: 'invalid_key_id' })
  })

  it('refuses unsigned, wrongly signed, stale, replayed-elsewhere and tampered requests', async () => {
    const { id } = await createTestKey()
    const { id: other } = await createTestKey()
    const path = `/admin/keys/${id}/refresh`
    const now = Math.floor(Date.now() / 1000)
    const cases: [string, Record<string, string>, string?][] = [
      ['unsigned', {}],
      ['timestamp only', { [ADMIN_TIMESTAMP_HEADER]: String(now) }],
      ['wrong secret', await signAdminRequest('y'.repeat(40), 'POST', path, '')],
      ['garbage signature', { [ADMIN_TIMESTAMP_HEADER]: String(now), [ADMIN_SIGNATURE_HEADER]: 'v1=' + '0'.repeat(64) }],
      ['malformed signature', { [ADMIN_TIMESTAMP_HEADER]: String(now), [ADMIN_SIGNATURE_HEADER]: 'sha256=zz' }],
      ['six minutes old', await signAdminRequest(secret(), 'POST', path, '', now - 360)],
      ['six minutes ahead', await signAdminRequest(secret(), 'POST', path, '', now + 360)],
      ['signed for another key', await signAdminRequest(secret(), 'POST', `/admin/keys/${other}/refresh`, '')],
      ['signed for another method', await signAdminRequest(secret(), 'GET', path, '')],
      ['body added after signing', await signAdminRequest(secret(), 'POST', path, ''), '{"revoke":false}'],
    ]
    for (const [label, headers, body] of cases) {
      const result = await post(path, headers, body)
      expect(result.status, label).toBe(401)
      expect(result.error, label).toMatch(/^admin_(unsigned|stale|bad_signature)$/)
    }
  })

  it('is off without ADMIN_SECRET, or with one too short to resist guessing', async () => {
    const { id } = await createTestKey()
    const path = `/admin/keys/${id}/refresh`
    const { default: worker } = await import('../../../src/index')
    for (const adminSecret of [undefined, 'short-secret']) {
      const request = new Request(`http://gateway.test${path}`, {
        method: 'POST',
        headers: await signAdminRequest(adminSecret ?? 'z'.repeat(40), 'POST', path, ''),
      })
      const response = await worker.fetch(request, { ...env, ADMIN_SECRET: adminSecret }, {
        waitUntil() {},
        passThroughOnException() {},
        props: {},
      } as unknown as ExecutionContext)
      expect(response.status).toBe(503)
      expect(((await response.json()) as { error: string }).error).toBe('admin_disabled')
    }
  })
})
