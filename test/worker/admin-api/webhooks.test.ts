/**
 * /admin/v1/webhooks end to end in the Worker, on the real D1: sources, subscriptions and deliveries. Every change
 * lands with its admin log record, and no admin log record ever holds a secret (URL token, signing secret, sealed
 * value); refusals carry stable codes; lists page exactly once whatever the page size; the URL rules (and where a
 * host resolves) are checked by the gateway.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { checkTarget } from '../../../src/admin/v1/webhooks/target'
import { generateCredentialsKey, importCredentialsKey, openSecret, sealSecret, sha256Hex } from '../../../src/lib/crypto'
import { bytesToHex } from '../../../src/lib/encoding'
import { isValidWebhookSecret } from '../../../src/webhooks/signing'
import { verifyWebhook } from '../../../src/webhooks/verify'
import { gatewayFetch } from '../helpers'
import { admin } from './client'

const random = (bytes = 8) => bytesToHex(crypto.getRandomValues(new Uint8Array(bytes)))
const model = () => `x_admin_${random(4)}`

interface Page<T> {
  items: T[]
  next_cursor: string | null
}

interface Created {
  id: string
  secret: string
  url: string
  models: string[]
  events: string[] | null
  fields: '*' | string[]
}

interface Record_ {
  seq: number
  action: string
  target: string
  before: string | null
  after: string | null
}

async function records(target: string): Promise<Record_[]> {
  return (await env.DB.prepare('SELECT seq, action, target, before, after FROM admin_audit WHERE target = ?1 ORDER BY seq').bind(target).all<Record_>()).results
}

async function everyAdminRecord(): Promise<string> {
  return JSON.stringify((await env.DB.prepare('SELECT * FROM admin_audit').all()).results)
}

async function subscribe(overrides: Record<string, unknown> = {}): Promise<Created> {
  const answer = await admin<Created>('POST', '/webhooks/subscriptions', { url: `${env.RECEIVER_URL}/ok/${random()}`, models: [model()], ...overrides })
  expect(answer.status, JSON.stringify(answer.body)).toBe(201)
  return answer.body
}

async function subscriptionRow(id: string) {
  return env.DB.prepare('SELECT * FROM webhook_subscriptions WHERE id = ?1').bind(id).first<{
    url: string
    models: string
    events: string | null
    fields: string
    secret: string
    previous_secret: string | null
    previous_until: number | null
    disabled_at: number | null
    disabled_reason: string | null
  }>()
}

/** Every page of a list at this page size, checking each page's size on the way. */
async function pages<T>(path: string, size: number): Promise<T[]> {
  const seen: T[] = []
  let cursor: string | null = null
  const join = path.includes('?') ? '&' : '?'
  do {
    const answer: Awaited<ReturnType<typeof admin<Page<T>>>> = await admin<Page<T>>('GET', `${path}${join}limit=${size}${cursor ? `&cursor=${cursor}` : ''}`)
    expect(answer.status, JSON.stringify(answer.body)).toBe(200)
    expect(answer.body.items.length).toBeLessThanOrEqual(size)
    seen.push(...answer.body.items)
    cursor = answer.body.next_cursor
  } while (cursor)
  return seen
}

// The first admin request of a file starts the admin ledger and its storage: seconds, once.
beforeAll(async () => {
  expect((await admin('GET', '/whoami')).status).toBe(200)
}, 30_000)

const postHook = (name: string, token: string, body: unknown) =>
  gatewayFetch(`http://gateway.test/hooks/odoo/${name}/${token}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

describe('webhook sources through the admin API', () => {
  it('creates a source whose token is answered once and kept only as its hash, usable at once, recorded without the token', async () => {
    const name = `odoo-${random(3)}`
    const created = await admin<{ name: string; token: string; path: string; url: string }>('POST', '/webhooks/sources', { name })
    expect(created.status, JSON.stringify(created.body)).toBe(201)
    expect(created.body.token).toMatch(/^[0-9a-f]{48}$/)
    expect(created.body.path).toBe(`/hooks/odoo/${name}/${created.body.token}`)
    expect(created.body.url).toBe(`http://gateway.test${created.body.path}`)
    const row = await env.DB.prepare('SELECT token_hash, revoked_at FROM webhook_sources WHERE name = ?1').bind(name).first<{ token_hash: string; revoked_at: number | null }>()
    expect(row).toEqual({ token_hash: await sha256Hex(created.body.token), revoked_at: null })
    // Odoo can post at once (no subscription to that model: accepted, delivered nowhere).
    expect((await postHook(name, created.body.token, { _model: model(), _id: 1 })).status).toBe(202)

    const [record, ...more] = await records(`source:${name}`)
    expect(more).toEqual([])
    expect(record).toMatchObject({ action: 'webhooks.source.add', before: null })
    expect(JSON.parse(record!.after!)).toEqual({ name, token: 'set' })
    expect(await everyAdminRecord()).not.toContain(created.body.token)

    const again = await admin('POST', '/webhooks/sources', { name })
    expect([again.status, again.body.error]).toEqual([409, 'source_exists'])
    expect(await records(`source:${name}`)).toHaveLength(1)

    const listed = await pages<{ name: string; status: string; created_at: string }>('/webhooks/sources', 1000)
    expect(listed.find((source) => source.name === name)).toMatchObject({ status: 'active', revoked_at: null })
    expect(JSON.stringify(listed)).not.toContain(created.body.token)
  })

  it('revokes a source: its URL is refused from the next post; revoking again records nothing', async () => {
    const name = `odoo-${random(3)}`
    const { token } = (await admin<{ token: string }>('POST', '/webhooks/sources', { name })).body
    const revoked = await admin<{ revoked_at: string; already_revoked: boolean }>('POST', `/webhooks/sources/${name}/revoke`, {})
    expect(revoked.status).toBe(200)
    expect(revoked.body.already_revoked).toBe(false)
    expect((await postHook(name, token, { _model: model(), _id: 1 })).status).toBe(401)
    const again = await admin<{ revoked_at: string; already_revoked: boolean }>('POST', `/webhooks/sources/${name}/revoke`, {})
    expect(again.body).toMatchObject({ already_revoked: true, revoked_at: revoked.body.revoked_at })
    expect((await records(`source:${name}`)).map((record) => [record.action, record.after && JSON.parse(record.after)])).toEqual([
      ['webhooks.source.add', { name, token: 'set' }],
      ['webhooks.source.revoke', { revoked_at: revoked.body.revoked_at }],
    ])
    // A revoked name is never handed out again: an old URL must not come back to life.
    expect((await admin('POST', '/webhooks/sources', { name })).body.error).toBe('source_exists')
  })

  it('refuses bad names and unknown sources with stable codes', async () => {
    const bad = await admin('POST', '/webhooks/sources', { name: 'Bad Name!' })
    expect([bad.status, bad.body.error]).toEqual([400, 'invalid_body'])
    expect(bad.body.details!.join('\n')).toMatch(/^name: /m)
    const extra = await admin('POST', '/webhooks/sources', { name: 'fine', token: 'mine' })
    expect([extra.status, extra.body.error]).toEqual([400, 'invalid_body'])
    expect(extra.body.details!.join('\n')).toMatch(/token/)
    expect((await admin('POST', '/webhooks/sources', {})).body.details!.join('\n')).toMatch(/^name: /m)
    const path = await admin('POST', '/webhooks/sources/Bad%20Name/revoke', {})
    expect([path.status, path.body.error]).toEqual([400, 'invalid_source_name'])
    const missing = await admin('POST', `/webhooks/sources/no-such-${random(3)}/revoke`, {})
    expect([missing.status, missing.body.error]).toEqual([404, 'source_not_found'])
    expect((await admin('POST', '/webhooks/sources/fine/revoke', { now: true })).body.error).toBe('invalid_body')
  })
})

describe('webhook subscriptions through the admin API', () => {
  it('subscribes with a generated secret, answered once and kept sealed; the admin log says only "set"', async () => {
    const url = `${env.RECEIVER_URL}/ok/${random()}`
    const created = await subscribe({ url, models: ['sale.order', 'res.partner', 'sale.order'], events: ['create', 'write'], fields: ['name', 'state'] })
    expect(created.id).toMatch(/^whk_[0-9a-f]{16}$/)
    expect(isValidWebhookSecret(created.secret)).toBe(true)
    expect(created).toMatchObject({ url, models: ['sale.order', 'res.partner'], events: ['create', 'write'], fields: ['name', 'state'] })
    const row = await subscriptionRow(created.id)
    expect(row).toMatchObject({ models: '["sale.order","res.partner"]', events: '["create","write"]', fields: '["name","state"]', disabled_at: null })
    expect(row!.secret).not.toContain(created.secret.slice(6))
    expect(await openSecret(await importCredentialsKey(env.CREDENTIALS_KEY), row!.secret, created.id)).toBe(created.secret)

    const [record] = await records(created.id)
    expect(record!.action).toBe('webhooks.add')
    expect(JSON.parse(record!.after!)).toEqual({ url, models: ['sale.order', 'res.partner'], events: ['create', 'write'], fields: ['name', 'state'], secret: 'set' })
    const log = await everyAdminRecord()
    expect(log).not.toContain(created.secret)
    expect(log).not.toContain(created.secret.slice(6))
    expect(log).not.toContain(row!.secret)

    const shown = await admin<Record<string, unknown>>('GET', `/webhooks/subscriptions/${created.id}`)
    expect(shown.body).toMatchObject({ id: created.id, url, status: 'active', events: ['create', 'write'], previous_secret_until: null })
    expect(JSON.stringify(shown.body)).not.toMatch(/whsec_|secret":/)
  })

  it('takes a secret the administrator chose, and subscribes to alerts instead of models', async () => {
    const secret = 'whsec_' + btoa('y'.repeat(32))
    const chosen = await subscribe({ secret, fields: '*' })
    expect(chosen.secret).toBe(secret)
    expect(chosen.fields).toBe('*')
    expect(await everyAdminRecord()).not.toContain(secret)
    const alerts = await subscribe({ models: undefined, alerts: true })
    expect(alerts.models).toEqual(['_alerts'])
    expect((await subscriptionRow(alerts.id))!.models).toBe('["_alerts"]')
  })

  it('refuses internal and plain-http targets with the reason, and stores nothing', async () => {
    const count = async () => (await env.DB.prepare('SELECT COUNT(*) AS n FROM webhook_subscriptions').first<{ n: number }>())!.n
    const before = await count()
    for (const [url, reason] of [
      ['http://example.com/hook', /https/],
      ['https://10.0.0.8/hook', /private/],
      ['https://169.254.169.254/latest', /linkLocal/],
      ['https://localhost.invalid.internal/', /internal/],
      ['https://user:pw@example.com/', /credentials/],
      ['ftp://example.com/', /https/],
      ['not a url', /not a valid URL/],
    ] as const) {
      const refused = await admin('POST', '/webhooks/subscriptions', { url, models: ['sale.order'] })
      expect([refused.status, refused.body.error], url).toEqual([422, 'webhook_url_refused'])
      expect(refused.body.details![0], url).toMatch(reason)
      expect(refused.body.message).toContain(refused.body.details![0])
    }
    expect(await count()).toBe(before)
  })

  it('answers bad input with 400 and every problem named, never a 500', async () => {
    const cases: [unknown, RegExp][] = [
      [{ url: 'https://example.com/', models: ['sale.order'], alerts: true }, /^models: .*not both/m],
      [{ url: 'https://example.com/' }, /^models: required/m],
      [{ url: 'https://example.com/', models: [] }, /^models: /m],
      [{ url: 'https://example.com/', models: ['Sale Order'] }, /^models\.0: /m],
      [{ url: 'https://example.com/', models: ['sale.order'], events: ['DROP TABLE'] }, /^events\.0: /m],
      [{ url: 'https://example.com/', models: ['sale.order'], fields: ['a b'] }, /^fields/m],
      [{ url: 'https://example.com/', models: ['sale.order'], fields: 'all' }, /^fields/m],
      [{ url: 'https://example.com/', models: ['sale.order'], secret: 'whsec_short' }, /^secret: /m],
      [{ url: 'https://example.com/', models: ['sale.order'], id: 'whk_0000000000000000' }, /id/],
      [{ url: `https://example.com/${'x'.repeat(2100)}`, models: ['sale.order'] }, /^url: /m],
      [{ models: ['sale.order'] }, /^url: /m],
      [[1, 2], /\(body\)/],
    ]
    for (const [body, detail] of cases) {
      const answer = await admin('POST', '/webhooks/subscriptions', body)
      expect([answer.status, answer.body.error], JSON.stringify(body)).toEqual([400, 'invalid_body'])
      expect(answer.body.details!.join('\n'), JSON.stringify(body)).toMatch(detail)
    }
    expect((await admin('POST', '/webhooks/subscriptions', '{"url":')).body.error).toBe('invalid_json')
    expect((await admin('GET', '/webhooks/subscriptions/whk_nope')).body.error).toBe('invalid_subscription_id')
    expect((await admin('GET', '/webhooks/subscriptions/whk_0000000000000000')).body.error).toBe('subscription_not_found')
    expect((await admin('GET', '/webhooks/subscriptions?status=gone')).body.error).toBe('invalid_query')
    expect((await admin('GET', '/webhooks/subscriptions?cursor=WzEsMl0')).body.error).toBe('invalid_cursor')
    expect((await admin('GET', '/webhooks/nothing-here')).body.error).toBe('not_found')
    expect((await admin('DELETE', '/webhooks/subscriptions/whk_0000000000000000')).body.error).toBe('not_found')
  })

  it('rotates the secret: the new one answered once, the old one kept sealed for the overlap; recorded as "rotated"', async () => {
    const created = await subscribe()
    const rotated = await admin<{ secret: string; previous_secret_until: string; previous_secret_readable: boolean }>('POST', `/webhooks/subscriptions/${created.id}/rotate-secret`, {
      overlap_seconds: 7200,
    })
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200)
    expect(isValidWebhookSecret(rotated.body.secret)).toBe(true)
    expect(rotated.body.secret).not.toBe(created.secret)
    expect(rotated.body.previous_secret_readable).toBe(true)
    const key = await importCredentialsKey(env.CREDENTIALS_KEY)
    const row = await subscriptionRow(created.id)
    expect(await openSecret(key, row!.secret, created.id)).toBe(rotated.body.secret)
    expect(await openSecret(key, row!.previous_secret!, created.id)).toBe(created.secret)
    expect(row!.previous_until).toBe(Date.parse(rotated.body.previous_secret_until))
    expect(Math.abs(row!.previous_until! - Date.now() - 7_200_000)).toBeLessThan(60_000)

    // No overlap: the old secret stops at once and is not kept at all; a chosen secret is taken as is.
    const chosen = 'whsec_' + btoa('z'.repeat(48))
    const now = await admin<{ secret: string; previous_secret_until: string | null }>('POST', `/webhooks/subscriptions/${created.id}/rotate-secret`, { overlap_seconds: 0, secret: chosen })
    expect(now.body).toMatchObject({ secret: chosen, previous_secret_until: null })
    expect(await subscriptionRow(created.id)).toMatchObject({ previous_secret: null, previous_until: null })

    const history = await records(created.id)
    expect(history.map((record) => record.action)).toEqual(['webhooks.add', 'webhooks.rotate_secret', 'webhooks.rotate_secret'])
    expect(JSON.parse(history[1]!.before!)).toEqual({ secret: 'set', previous_secret_until: null })
    expect(JSON.parse(history[1]!.after!)).toEqual({ secret: 'rotated', previous_secret_until: rotated.body.previous_secret_until })
    expect(JSON.parse(history[2]!.before!)).toEqual({ secret: 'set', previous_secret_until: rotated.body.previous_secret_until })
    const log = await everyAdminRecord()
    for (const secret of [created.secret, rotated.body.secret, chosen]) expect(log).not.toContain(secret.slice(6))
  })

  it('drops a current secret the ring cannot open instead of keeping it as the previous one', async () => {
    const created = await subscribe()
    // Sealed under a key this gateway does not have (a CREDENTIALS_KEY lost in a migration).
    const foreign = await sealSecret(await importCredentialsKey(generateCredentialsKey()), created.secret, created.id)
    await env.DB.prepare('UPDATE webhook_subscriptions SET secret = ?1 WHERE id = ?2').bind(foreign, created.id).run()
    const rotated = await admin<{ secret: string; previous_secret_until: string | null; previous_secret_readable: boolean }>('POST', `/webhooks/subscriptions/${created.id}/rotate-secret`, {})
    expect(rotated.status).toBe(200)
    expect(rotated.body).toMatchObject({ previous_secret_until: null, previous_secret_readable: false })
    const row = await subscriptionRow(created.id)
    expect(row).toMatchObject({ previous_secret: null, previous_until: null })
    expect(await openSecret(await importCredentialsKey(env.CREDENTIALS_KEY), row!.secret, created.id)).toBe(rotated.body.secret)
    expect(JSON.parse((await records(created.id)).at(-1)!.after!)).toMatchObject({ secret: 'rotated', previous_secret: expect.stringMatching(/dropped/) })
  })

  it('removes a subscription once; removing again or rotating a removed one changes nothing', async () => {
    const created = await subscribe()
    const removed = await admin<{ disabled_at: string; disabled_reason: string; already_disabled: boolean }>('POST', `/webhooks/subscriptions/${created.id}/remove`, {})
    expect(removed.status).toBe(200)
    expect(removed.body).toMatchObject({ disabled_reason: 'removed', already_disabled: false })
    expect(await subscriptionRow(created.id)).toMatchObject({ disabled_at: Date.parse(removed.body.disabled_at), disabled_reason: 'removed' })
    const again = await admin<{ already_disabled: boolean; disabled_at: string }>('POST', `/webhooks/subscriptions/${created.id}/remove`, {})
    expect(again.body).toMatchObject({ already_disabled: true, disabled_at: removed.body.disabled_at })
    const rotate = await admin('POST', `/webhooks/subscriptions/${created.id}/rotate-secret`, {})
    expect([rotate.status, rotate.body.error]).toEqual([409, 'subscription_disabled'])
    const history = await records(created.id)
    expect(history.map((record) => record.action)).toEqual(['webhooks.add', 'webhooks.remove'])
    expect(JSON.parse(history[1]!.after!)).toEqual({ disabled_at: removed.body.disabled_at, disabled_reason: 'removed' })
    expect((await admin<{ status: string }>('GET', `/webhooks/subscriptions/${created.id}`)).body.status).toBe('disabled')

    expect((await admin('POST', '/webhooks/subscriptions/whk_0000000000000000/remove', {})).body.error).toBe('subscription_not_found')
    expect((await admin('POST', '/webhooks/subscriptions/whk_0000000000000000/rotate-secret', {})).body.error).toBe('subscription_not_found')
    expect((await admin('POST', '/webhooks/subscriptions/key_0000000000000000/remove', {})).body.error).toBe('invalid_subscription_id')
    expect((await admin('POST', `/webhooks/subscriptions/${created.id}/rotate-secret`, { overlap_seconds: -1 })).body.error).toBe('invalid_body')
    expect((await admin('POST', `/webhooks/subscriptions/${created.id}/rotate-secret`, { overlap_seconds: 1e12 })).body.error).toBe('invalid_body')
  })

  it('pages through every subscription exactly once, oldest first, whatever the page size', async () => {
    const mine: string[] = []
    for (let index = 0; index < 6; index++) mine.push((await subscribe()).id)
    // Two with the very same creation time: the id breaks the tie.
    await env.DB.prepare('UPDATE webhook_subscriptions SET created_at = (SELECT created_at FROM webhook_subscriptions WHERE id = ?1) WHERE id = ?2').bind(mine[2], mine[3]).run()
    const everything = await admin<Page<{ id: string }>>('GET', '/webhooks/subscriptions?limit=1000')
    expect(everything.body.next_cursor).toBeNull()
    const all = everything.body.items.map((item) => item.id)
    for (const id of mine) expect(all).toContain(id)
    for (const size of [1, 2, 3, 5]) expect((await pages<{ id: string }>('/webhooks/subscriptions', size)).map((item) => item.id)).toEqual(all)
    const active = await pages<{ id: string; status: string }>('/webhooks/subscriptions?status=active', 4)
    expect(active.every((item) => item.status === 'active')).toBe(true)
  })
})

describe('deliveries through the admin API', () => {
  async function insertDelivery(subscriptionId: string, options: { createdAt: number; status?: string; eventId?: string; payload?: string }) {
    const id = `dlv_${random()}`
    await env.DB.prepare(
      `INSERT INTO webhook_deliveries (id, subscription_id, event_id, payload, status, attempts, last_status, last_error, created_at, updated_at)
       VALUES (?1, ?2, ?3, ?4, ?5, 3, 500, NULL, ?6, ?6)`,
    )
      .bind(id, subscriptionId, options.eventId ?? `evt_${random()}`, options.payload ?? '{"data":{}}', options.status ?? 'dead', options.createdAt)
      .run()
    return id
  }

  it('lists a subscription’s deliveries newest first, each exactly once whatever the page size, and filters by status', async () => {
    const { id } = await subscribe()
    const base = Date.now() - 60_000
    const times = [base, base + 1, base + 1, base + 1, base + 2, base + 3, base + 3, base + 4]
    const ids = []
    for (const [index, createdAt] of times.entries()) ids.push(await insertDelivery(id, { createdAt, status: index % 3 === 0 ? 'delivered' : 'dead' }))
    const everything = await admin<Page<{ id: string; subscription_id: string; created_at: string; status: string }>>('GET', `/webhooks/deliveries?subscription_id=${id}&limit=1000`)
    expect(everything.status).toBe(200)
    const all = everything.body.items
    expect(all.map((item) => item.id).sort()).toEqual([...ids].sort())
    for (let index = 1; index < all.length; index++) {
      const [newer, older] = [all[index - 1]!, all[index]!]
      expect(Date.parse(newer.created_at) > Date.parse(older.created_at) || (newer.created_at === older.created_at && newer.id > older.id)).toBe(true)
    }
    for (const size of [1, 2, 3, 7]) expect((await pages<{ id: string }>(`/webhooks/deliveries?subscription_id=${id}`, size)).map((item) => item.id)).toEqual(all.map((item) => item.id))
    const dead = await pages<{ status: string }>(`/webhooks/deliveries?subscription_id=${id}&status=dead`, 2)
    expect(dead.length).toBe(all.filter((item) => item.status === 'dead').length)
    expect(dead.every((item) => item.status === 'dead')).toBe(true)
    expect(JSON.stringify(all)).not.toContain('payload')
  })

  it('answers an unknown subscription with 404, a fresh one with an empty list, and bad queries with 400', async () => {
    const { id } = await subscribe()
    expect((await admin<Page<unknown>>('GET', `/webhooks/deliveries?subscription_id=${id}`)).body).toEqual({ items: [], next_cursor: null })
    const missing = await admin('GET', '/webhooks/deliveries?subscription_id=whk_0000000000000000')
    expect([missing.status, missing.body.error]).toEqual([404, 'subscription_not_found'])
    for (const query of ['subscription_id=whk_x', 'status=lost', 'limit=1001', 'limit=0', 'since=2026-01-01', 'cursor=%%%']) {
      const answer = await admin('GET', `/webhooks/deliveries?${query}`)
      expect(answer.status, query).toBe(400)
      expect(['invalid_query', 'invalid_cursor'], query).toContain(answer.body.error)
    }
    expect((await admin('GET', '/webhooks/deliveries?subscription_id=whk_0000000000000000&subscription_id=whk_1111111111111111')).body.error).toBe('invalid_query')
  })

  it('redelivers a dead delivery with the same event id, signed, and records it', async () => {
    const box = random()
    const created = await subscribe({ url: `${env.RECEIVER_URL}/ok/${box}` })
    const eventId = `evt_${random()}`
    const payload = JSON.stringify({ id: eventId, type: 'odoo.write', data: { name: 'S00042' } })
    const id = await insertDelivery(created.id, { createdAt: Date.now() - 1000, eventId, payload })
    const answer = await admin<{ id: string; status: string; previous_status: string; subscription_id: string; event_id: string }>('POST', `/webhooks/deliveries/${id}/redeliver`, {})
    expect(answer.status, JSON.stringify(answer.body)).toBe(200)
    expect(answer.body).toEqual({ id, status: 'pending', previous_status: 'dead', subscription_id: created.id, event_id: eventId })

    const deadline = Date.now() + 5_000
    let requests: { headers: Record<string, string>; body: string }[] = []
    while (requests.length === 0 && Date.now() < deadline) {
      requests = (await (await fetch(`${env.RECEIVER_URL}/__requests/${box}`)).json()) as typeof requests
      if (requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(requests).toHaveLength(1)
    expect(requests[0]!.body).toBe(payload)
    expect(await verifyWebhook(created.secret, requests[0]!.headers, requests[0]!.body)).toMatchObject({ ok: true, id: eventId })

    const [record, ...more] = await records(id)
    expect(more).toEqual([])
    expect(record!.action).toBe('webhooks.redeliver')
    expect(JSON.parse(record!.before!)).toEqual({ status: 'dead', attempts: 3 })
    expect(JSON.parse(record!.after!)).toEqual({ status: 'pending', subscription_id: created.id, event_id: eventId })
  })

  it('refuses to redeliver for a removed subscription, an unknown delivery or a malformed id', async () => {
    const created = await subscribe()
    const id = await insertDelivery(created.id, { createdAt: Date.now() })
    await admin('POST', `/webhooks/subscriptions/${created.id}/remove`, {})
    const disabled = await admin('POST', `/webhooks/deliveries/${id}/redeliver`, {})
    expect([disabled.status, disabled.body.error]).toEqual([409, 'subscription_disabled'])
    expect(await records(id)).toEqual([])
    expect((await env.DB.prepare('SELECT status FROM webhook_deliveries WHERE id = ?1').bind(id).first<{ status: string }>())!.status).toBe('dead')
    const unknown = await admin('POST', '/webhooks/deliveries/dlv_0000000000000000/redeliver', {})
    expect([unknown.status, unknown.body.error]).toEqual([404, 'delivery_not_found'])
    const malformed = await admin('POST', '/webhooks/deliveries/evt_0000000000000000/redeliver', {})
    expect([malformed.status, malformed.body.error]).toEqual([400, 'invalid_delivery_id'])
    expect((await admin('POST', `/webhooks/deliveries/${id}/redeliver`, { force: true })).body.error).toBe('invalid_body')
  })
})

describe('webhook targets: where a host name resolves', () => {
  /** A DNS-over-HTTPS resolver answering from a table (JSON API), recording what it was asked. */
  function resolver(table: Record<string, { Status?: number; A?: string[]; AAAA?: string[]; CNAME?: string }>) {
    const asked: string[] = []
    const fetcher = async (input: string) => {
      const url = new URL(input)
      const name = url.searchParams.get('name')!
      const type = url.searchParams.get('type') as 'A' | 'AAAA'
      asked.push(`${name} ${type}`)
      const entry = table[name]
      if (!entry) return Response.json({ Status: 3 })
      const answers = [
        ...(entry.CNAME ? [{ name, type: 5, data: `${entry.CNAME}.` }] : []),
        ...(entry[type] ?? []).map((data) => ({ name, type: type === 'A' ? 1 : 28, data })),
      ]
      return Response.json({ Status: entry.Status ?? 0, Answer: answers })
    }
    return { fetcher, asked }
  }

  it('accepts a name whose every address is public, and refuses one with any internal address', async () => {
    const { fetcher, asked } = resolver({
      'hooks.example.com': { A: ['93.184.215.14'], AAAA: ['2606:2800:21f:cb07:6820:80da:af6b:8b2c'] },
      'alias.example.com': { CNAME: 'hooks.example.net', A: ['93.184.215.14'] },
      'mixed.example.com': { A: ['93.184.215.14', '10.1.2.3'] },
      'v6.example.com': { AAAA: ['fd00::1'] },
      'home.example.com': { A: ['127.0.0.1'] },
      'empty.example.com': {},
      'broken.example.com': { Status: 2 },
    })
    expect(await checkTarget('https://hooks.example.com/x', false, fetcher)).toEqual({ ok: true, url: 'https://hooks.example.com/x' })
    expect(asked).toEqual(['hooks.example.com A', 'hooks.example.com AAAA'])
    expect(await checkTarget('https://alias.example.com/', false, fetcher)).toMatchObject({ ok: true })
    expect(await checkTarget('https://mixed.example.com/', false, fetcher)).toEqual({ ok: false, kind: 'refused', reason: expect.stringMatching(/^mixed\.example\.com resolves to 10\.1\.2\.3 is a private/) })
    expect(await checkTarget('https://v6.example.com/', false, fetcher)).toMatchObject({ ok: false, kind: 'refused', reason: expect.stringMatching(/uniqueLocal/) })
    expect(await checkTarget('https://home.example.com/', false, fetcher)).toMatchObject({ ok: false, kind: 'refused', reason: expect.stringMatching(/loopback/) })
    expect(await checkTarget('https://home.example.com/', true, fetcher)).toMatchObject({ ok: true })
    expect(await checkTarget('https://empty.example.com/', false, fetcher)).toMatchObject({ ok: false, kind: 'refused', reason: expect.stringMatching(/no A or AAAA/) })
    expect(await checkTarget('https://nowhere.example.com/', false, fetcher)).toMatchObject({ ok: false, kind: 'refused', reason: expect.stringMatching(/no such name/) })
    expect(await checkTarget('https://broken.example.com/', false, fetcher)).toMatchObject({ ok: false, kind: 'refused', reason: expect.stringMatching(/response code 2/) })
  })

  it('asks no resolver for literal addresses and loopback names, and says "unavailable" when the resolver fails', async () => {
    const { fetcher, asked } = resolver({})
    expect(await checkTarget('https://93.184.215.14/', false, fetcher)).toMatchObject({ ok: true })
    expect(await checkTarget('https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/', false, fetcher)).toMatchObject({ ok: true })
    expect(await checkTarget('http://localhost:9999/x', true, fetcher)).toMatchObject({ ok: true })
    expect(await checkTarget('http://localhost:9999/x', false, fetcher)).toMatchObject({ ok: false, kind: 'refused', reason: expect.stringMatching(/loopback/) })
    expect(asked).toEqual([])
    const down = async () => {
      throw new TypeError('network connection lost')
    }
    expect(await checkTarget('https://hooks.example.com/', false, down)).toMatchObject({ ok: false, kind: 'unavailable' })
    expect(await checkTarget('https://hooks.example.com/', false, async () => new Response('busy', { status: 503 }))).toMatchObject({ ok: false, kind: 'unavailable', reason: expect.stringMatching(/503/) })
  })
})
