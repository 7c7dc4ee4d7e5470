/**
 * Webhook signatures checked by independent verifier libraries from npm (standardwebhooks, @octokit/webhooks-methods),
 * and our own receiver helper attacked: tampered body, wrong secret, stale timestamp, replayed id.
 */
import { verify as verifyGitHubStyle } from '@octokit/webhooks-methods'
import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import { generateWebhookSecret, isValidWebhookSecret, signatureHeaders } from '../../src/webhooks/signing'
import { verifyWebhook } from '../../src/webhooks/verify'

const body = JSON.stringify({ type: 'odoo.record.write', data: { model: 'sale.order', id: 42, fields: { state: 'sale' } } })
const now = () => Math.floor(Date.now() / 1000)

describe('outgoing signatures', () => {
  it('are accepted by the Standard Webhooks reference library and by a GitHub-style verifier', async () => {
    const secret = generateWebhookSecret()
    expect(isValidWebhookSecret(secret)).toBe(true)
    const id = `evt_${crypto.randomUUID()}`
    const headers = await signatureHeaders([secret], id, now(), body)
    expect(() => new Webhook(secret).verify(body, headers)).not.toThrow()
    expect(await verifyGitHubStyle(secret, body, headers['X-Odoo-MCP-Signature']!)).toBe(true)
    // And refused by them when the body changes.
    expect(() => new Webhook(secret).verify(body.replace('42', '43'), headers)).toThrow()
    expect(await verifyGitHubStyle(secret, body.replace('42', '43'), headers['X-Odoo-MCP-Signature']!)).toBe(false)
  })

  it('are made with both secrets during a rotation, so receivers with either one accept', async () => {
    const previous = generateWebhookSecret()
    const current = generateWebhookSecret()
    const headers = await signatureHeaders([current, previous], 'evt_rotation', now(), body)
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2)
    expect(() => new Webhook(current).verify(body, headers)).not.toThrow()
    expect(() => new Webhook(previous).verify(body, headers)).not.toThrow()
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow()
    expect(await verifyGitHubStyle(current, body, headers['X-Odoo-MCP-Signature']!)).toBe(true)
    expect(await verifyGitHubStyle(previous, body, headers['X-Odoo-MCP-Signature-Previous']!)).toBe(true)
  })

  it('refuses secrets that are not whsec_ + base64 of 24 to 64 bytes', () => {
    for (const secret of ['', 'whsec_', 'whsec_c2hvcnQ=', 'secret', `whsec_${'A'.repeat(200)}`, 'whsec_!!!notbase64!!!']) {
      expect(isValidWebhookSecret(secret), secret).toBe(false)
    }
  })
})

describe('verifyWebhook (the receiver helper)', () => {
  it('accepts our signature and one made by the reference library', async () => {
    const secret = generateWebhookSecret()
    const ours = await signatureHeaders([secret], 'evt_ours', now(), body)
    expect(await verifyWebhook(secret, ours, body)).toMatchObject({ ok: true, id: 'evt_ours' })
    const date = new Date()
    const theirs = new Webhook(secret).sign('evt_theirs', date, body)
    const headers = new Headers({ 'webhook-id': 'evt_theirs', 'webhook-timestamp': String(Math.floor(date.getTime() / 1000)), 'webhook-signature': theirs })
    expect(await verifyWebhook(secret, headers, body)).toMatchObject({ ok: true })
  })

  it('refuses a tampered body, a wrong secret, a stale or future timestamp, a replayed id, missing headers', async () => {
    const secret = generateWebhookSecret()
    const fresh = async (id: string, timestamp = now()) => signatureHeaders([secret], id, timestamp, body)
    expect(await verifyWebhook(secret, await fresh('evt_1'), body + ' ')).toEqual({ ok: false, reason: 'bad_signature' })
    expect(await verifyWebhook(generateWebhookSecret(), await fresh('evt_2'), body)).toEqual({ ok: false, reason: 'bad_signature' })
    expect(await verifyWebhook(secret, await fresh('evt_3', now() - 301), body)).toEqual({ ok: false, reason: 'stale_timestamp' })
    expect(await verifyWebhook(secret, await fresh('evt_4', now() + 301), body)).toEqual({ ok: false, reason: 'stale_timestamp' })
    expect(await verifyWebhook(secret, await fresh('evt_5', now() - 50), body, { toleranceSeconds: 30 })).toEqual({ ok: false, reason: 'stale_timestamp' })
    const once = await fresh('evt_6')
    expect((await verifyWebhook(secret, once, body)).ok).toBe(true)
    expect(await verifyWebhook(secret, once, body)).toEqual({ ok: false, reason: 'replayed' })
    const { 'webhook-signature': _, ...unsigned } = await fresh('evt_7')
    expect(await verifyWebhook(secret, unsigned, body)).toEqual({ ok: false, reason: 'missing_headers' })
    expect(await verifyWebhook('not-a-secret', await fresh('evt_8'), body)).toEqual({ ok: false, reason: 'bad_secret' })
  })

  it('uses the replay memory it is given', async () => {
    const secret = generateWebhookSecret()
    const store = new Set<string>()
    const seen = (id: string) => (store.has(id) ? true : (store.add(id), false))
    const headers = await signatureHeaders([secret], 'evt_shared', now(), body)
    expect((await verifyWebhook(secret, headers, body, { seen })).ok).toBe(true)
    expect(store.has('evt_shared')).toBe(true)
    expect(await verifyWebhook(secret, headers, body, { seen })).toEqual({ ok: false, reason: 'replayed' })
  })
})
