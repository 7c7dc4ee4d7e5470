/**
 * Field masks on webhook subscriptions: a masked field is masked before the delivery is stored (webhook_deliveries
 * holds the payload every attempt and redelivery sends), so its clear value is never stored nor sent; `hash` is keyed
 * per subscription. Also the admin API's checks of `mask`.
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { maskHashKey, sha256Hex } from '../../../src/lib/crypto'
import { bytesToHex } from '../../../src/lib/encoding'
import { createMaskHasher, maskValue, REDACTED } from '../../../src/policy/masks'
import { gatewayFetch } from '../helpers'
import { admin } from '../admin-api/client'

const random = (bytes = 8) => bytesToHex(crypto.getRandomValues(new Uint8Array(bytes)))

async function createSource(): Promise<{ name: string; token: string }> {
  const name = `odoo-${random(4)}`
  const token = random(24)
  await env.DB.prepare('INSERT INTO webhook_sources (name, token_hash, created_at) VALUES (?1, ?2, ?3)').bind(name, await sha256Hex(token), Date.now()).run()
  return { name, token }
}

async function subscribe(model: string, mask: Record<string, string>, fields: '*' | string[] = ['name', 'email', 'phone', 'vat', 'ref']) {
  const answer = await admin<{ id: string; mask: Record<string, string> | null }>('POST', '/webhooks/subscriptions', {
    url: `${env.RECEIVER_URL}/ok/${random()}`,
    models: [model],
    fields,
    mask,
  })
  expect(answer.status, JSON.stringify(answer.body)).toBe(201)
  return answer.body
}

async function storedPayloads(subscriptionId: string): Promise<Record<string, unknown>[]> {
  const { results } = await env.DB.prepare('SELECT payload FROM webhook_deliveries WHERE subscription_id = ?1').bind(subscriptionId).all<{ payload: string }>()
  return results.map((row) => (JSON.parse(row.payload) as { data: Record<string, unknown> }).data)
}

describe('webhook field masks', () => {
  it('stores and delivers masked values only, hashed per subscription', async () => {
    const model = `x_test_${random(4)}`
    const source = await createSource()
    const mask = { email: 'partial', phone: 'last4', ref: 'hash', vat: 'redact' }
    const first = await subscribe(model, mask)
    const second = await subscribe(model, { ref: 'hash' })
    expect(first.mask).toEqual(mask)
    const records = [
      { name: 'Azure', email: 'azure.interior24@example.com', phone: '(870)-931-0505', vat: 'BE0477472701', ref: 'AZ-1' },
      { name: 'Deco', email: 'deco_addict@example.com', phone: '(603)-996-3829', vat: 'BE0123456789', ref: 'AZ-1' },
    ]
    for (const [index, record] of records.entries()) {
      const response = await gatewayFetch(`http://gateway.test/hooks/odoo/${source.name}/${source.token}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ _model: model, _id: index + 1, ...record }),
      })
      expect(response.status).toBe(202)
    }
    const hashFirst = createMaskHasher(await maskHashKey(env.CREDENTIALS_KEY, first.id))
    const expected = await Promise.all(
      records.map(async (record) => ({
        name: record.name,
        email: await maskValue(record.email, 'partial', hashFirst),
        phone: await maskValue(record.phone, 'last4', hashFirst),
        ref: await maskValue(record.ref, 'hash', hashFirst),
        vat: REDACTED,
      })),
    )
    const stored = await storedPayloads(first.id)
    expect(stored).toEqual(expected)
    // Equal values hash equal within one subscription, differently in another.
    expect(stored[0]!.ref).toBe(stored[1]!.ref)
    const other = await storedPayloads(second.id)
    expect(other[0]!.ref).not.toBe(stored[0]!.ref)
    expect(other[0]!.email).toBe(records[0]!.email)
    // No clear masked value anywhere in D1's delivery rows.
    const { results } = await env.DB.prepare('SELECT payload FROM webhook_deliveries WHERE subscription_id = ?1').bind(first.id).all<{ payload: string }>()
    for (const record of records) for (const value of [record.email, record.phone, record.vat]) expect(JSON.stringify(results)).not.toContain(value)
  })

  it('lists the masks, and refuses a bad one with a 400 naming it', async () => {
    const model = `x_test_${random(4)}`
    const created = await subscribe(model, { email: 'partial' }, '*')
    const shown = await admin<{ mask: unknown; fields: unknown }>('GET', `/webhooks/subscriptions/${created.id}`)
    expect(shown.body).toMatchObject({ fields: '*', mask: { email: 'partial' } })
    const unlisted = await admin<{ error: string; details: string[] }>('POST', '/webhooks/subscriptions', { url: `${env.RECEIVER_URL}/ok/x`, models: [model], fields: ['name'], mask: { email: 'partial' } })
    expect(unlisted.status).toBe(400)
    expect(unlisted.body.details.join('\n')).toMatch(/mask\.email.*must also be in fields/)
    const unknown = await admin<{ error: string; details: string[] }>('POST', '/webhooks/subscriptions', { url: `${env.RECEIVER_URL}/ok/x`, models: [model], mask: { email: 'blur' } })
    expect(unknown.status).toBe(400)
    expect(unknown.body.details.join('\n')).toMatch(/masks are partial, last4, hash, redact/)
    // A subscription without masks is stored as before (the bare allowlist) and answers mask: null.
    const plain = await admin<{ id: string; mask: unknown }>('POST', '/webhooks/subscriptions', { url: `${env.RECEIVER_URL}/ok/y`, models: [model], fields: ['name'] })
    expect(plain.body.mask).toBeNull()
    const row = await env.DB.prepare('SELECT fields FROM webhook_subscriptions WHERE id = ?1').bind(plain.body.id).first<{ fields: string }>()
    expect(row?.fields).toBe('["name"]')
  })
})
