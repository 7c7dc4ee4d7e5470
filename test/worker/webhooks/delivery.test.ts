/**
 * Webhooks from Odoo to the outside, against a loopback receiver that fails on purpose: accepted only with the
 * source's token, filtered per subscription, signed, retried with the same id, dead-lettered after the retry window
 * (squeezed to 1.5 s in tests), stopped by 410, never following redirects, refusing internal targets at delivery time,
 * and not lost when the dispatcher restarts.
 */
import { abortAllDurableObjects, createExecutionContext, runDurableObjectAlarm, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { importCredentialsKey, sealSecret, sha256Hex } from '../../../src/lib/crypto'
import { bytesToHex } from '../../../src/lib/encoding'
import { generateWebhookSecret } from '../../../src/webhooks/signing'
import { verifyWebhook } from '../../../src/webhooks/verify'
import worker from '../../../src/index'
import { gatewayFetch } from '../helpers'
import { admin, adminHeaders } from '../admin-api/client'
import { auditByRequestId, flushAudit } from '../audit/helpers'

const random = (bytes = 8) => bytesToHex(crypto.getRandomValues(new Uint8Array(bytes)))

async function createSource(): Promise<{ name: string; token: string }> {
  const name = `odoo-${random(4)}`
  const token = random(24)
  await env.DB.prepare('INSERT INTO webhook_sources (name, token_hash, created_at) VALUES (?1, ?2, ?3)')
    .bind(name, await sha256Hex(token), Date.now())
    .run()
  return { name, token }
}

/** Each test gets its own model, so subscriptions of other tests never match its events. */
const testModel = () => `x_test_${random(4)}`

async function createSubscription(options: {
  model: string
  path?: string
  url?: string
  models?: string[]
  events?: string[] | null
  fields?: '*' | string[]
  previous?: { secret: string; until: number }
}) {
  const id = `whk_${random()}`
  const box = random()
  const secret = generateWebhookSecret()
  const key = await importCredentialsKey(env.CREDENTIALS_KEY)
  await env.DB.prepare(
    `INSERT INTO webhook_subscriptions (id, url, models, events, fields, secret, created_at, previous_secret, previous_until)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)`,
  )
    .bind(
      id,
      options.url ?? `${env.RECEIVER_URL}${options.path ?? '/ok'}/${box}`,
      JSON.stringify(options.models ?? [options.model]),
      options.events === undefined || options.events === null ? null : JSON.stringify(options.events),
      JSON.stringify(options.fields ?? ['name', 'state', 'amount_total']),
      await sealSecret(key, secret, id),
      Date.now(),
      options.previous ? await sealSecret(key, options.previous.secret, id) : null,
      options.previous?.until ?? null,
    )
    .run()
  return { id, box, secret }
}

const odooPayload = { _action: 'Send Webhook Notification(#12)', _id: 42, _model: 'sale.order', name: 'S00042', state: 'sale', amount_total: 1250.5, partner_id: [7, 'Azure Interior'], access_token: 'secret-portal-token' }

const payloadFor = (model: string) => ({ ...odooPayload, _model: model })

function postHook(source: { name: string; token: string }, body: unknown, query = '') {
  return gatewayFetch(`http://gateway.test/hooks/odoo/${source.name}/${source.token}${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
}

type Received = { path: string; headers: Record<string, string>; body: string }

async function received(box: string, atLeast: number, timeoutMs = 5_000): Promise<Received[]> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const requests = (await (await fetch(`${env.RECEIVER_URL}/__requests/${box}`)).json()) as Received[]
    if (requests.length >= atLeast || Date.now() > deadline) return requests
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

async function deliveryOf(subscriptionId: string, until: (status: string) => boolean, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const row = await env.DB.prepare('SELECT * FROM webhook_deliveries WHERE subscription_id = ?1').bind(subscriptionId).first<{ id: string; status: string; attempts: number; last_error: string | null }>()
    if ((row && until(row.status)) || Date.now() > deadline) return row
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('inbound from Odoo', () => {
  it('refuses a wrong token or an unknown source, and audits the attempt', async () => {
    const source = await createSource()
    const wrong = await postHook({ name: source.name, token: random(24) }, odooPayload)
    expect(wrong.status).toBe(401)
    expect(await wrong.json()).toMatchObject({ error: 'invalid_webhook_token' })
    expect((await postHook({ name: 'no-such-source', token: source.token }, odooPayload)).status).toBe(401)
    await flushAudit()
    const record = await auditByRequestId(wrong.headers.get('x-request-id')!)
    expect(record).toMatchObject({ method: 'webhook/odoo', outcome: 'denied', code: 'invalid_webhook_token', keyId: null })
    expect(JSON.stringify(record)).not.toContain(source.token)
  })

  it('refuses bodies that are not what Odoo sends, with a clear error', async () => {
    const source = await createSource()
    expect((await postHook(source, '{not json')).status).toBe(400)
    const missing = await postHook(source, { name: 'x' })
    expect(missing.status).toBe(400)
    expect(await missing.json()).toMatchObject({ error: 'invalid_payload' })
    expect((await postHook(source, odooPayload, '?event=DROP TABLE')).status).toBe(400)
  })
})

describe('delivery', () => {
  it('delivers a signed, filtered payload to each matching subscription, and logs the attempt', async () => {
    const source = await createSource()
    const model = testModel()
    const listed = await createSubscription({ model, fields: ['name', 'state'] })
    const everything = await createSubscription({ model, fields: '*' })
    const otherModel = await createSubscription({ model, models: ['res.partner'] })
    const otherEvent = await createSubscription({ model, events: ['create'] })
    const response = await postHook(source, payloadFor(model), '?event=write')
    expect(response.status).toBe(202)
    const accepted = (await response.json()) as { eventId: string; deliveries: number }
    expect(accepted.deliveries).toBe(2)

    const [first] = await received(listed.box, 1)
    expect(first).toBeDefined()
    expect(await verifyWebhook(listed.secret, first!.headers, first!.body)).toMatchObject({ ok: true, id: accepted.eventId })
    const payload = JSON.parse(first!.body) as Record<string, unknown>
    expect(payload).toMatchObject({ id: accepted.eventId, type: 'odoo.write', source: source.name, model, recordId: 42, event: 'write' })
    expect(payload.data).toEqual({ name: 'S00042', state: 'sale' })

    const [wide] = await received(everything.box, 1)
    const wideData = (JSON.parse(wide!.body) as { data: Record<string, unknown> }).data
    expect(wideData).toMatchObject({ name: 'S00042', amount_total: 1250.5, partner_id: [7, 'Azure Interior'] })
    // "*" never includes sensitive fields such as portal access tokens.
    expect(wide!.body).not.toContain('secret-portal-token')
    expect(wide!.headers['webhook-id']).toBe(accepted.eventId)

    expect(await received(otherModel.box, 1, 300)).toEqual([])
    expect(await received(otherEvent.box, 1, 300)).toEqual([])
    const delivery = await deliveryOf(listed.id, (status) => status === 'delivered')
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 1 })
    const attempts = await env.DB.prepare('SELECT attempt, status_code FROM webhook_attempts WHERE delivery_id = ?1').bind(delivery!.id).all()
    expect(attempts.results).toEqual([{ attempt: 1, status_code: 200 }])
  })

  it('retries failures with the same id until the receiver accepts', async () => {
    const source = await createSource()
    const model = testModel()
    const subscription = await createSubscription({ model, path: '/fail/2' })
    expect((await postHook(source, payloadFor(model))).status).toBe(202)
    const delivery = await deliveryOf(subscription.id, (status) => status === 'delivered')
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 3 })
    const requests = await received(subscription.box, 3)
    expect(requests).toHaveLength(3)
    expect(new Set(requests.map((request) => request.headers['webhook-id'])).size).toBe(1)
    const attempts = await env.DB.prepare('SELECT status_code FROM webhook_attempts WHERE delivery_id = ?1 ORDER BY attempt').bind(delivery!.id).all()
    expect(attempts.results.map((row) => row.status_code)).toEqual([500, 500, 200])
  })

  it('dead-letters a delivery when the retry window ends', async () => {
    const source = await createSource()
    const model = testModel()
    const subscription = await createSubscription({ model, path: '/always/500' })
    await postHook(source, payloadFor(model))
    const delivery = await deliveryOf(subscription.id, (status) => status === 'dead', 6_000)
    expect(delivery?.status).toBe('dead')
    expect(delivery!.attempts).toBeGreaterThanOrEqual(4)
  })

  it('disables the subscription when the receiver answers 410 Gone', async () => {
    const source = await createSource()
    const model = testModel()
    const subscription = await createSubscription({ model, path: '/always/410' })
    await postHook(source, payloadFor(model))
    const delivery = await deliveryOf(subscription.id, (status) => status === 'dead')
    expect(delivery).toMatchObject({ status: 'dead', attempts: 1 })
    const row = await env.DB.prepare('SELECT disabled_at, disabled_reason FROM webhook_subscriptions WHERE id = ?1').bind(subscription.id).first<{ disabled_at: number | null; disabled_reason: string }>()
    expect(row?.disabled_at).not.toBeNull()
    expect(row?.disabled_reason).toMatch(/410/)
    // No further deliveries to a disabled subscription.
    expect((await (await postHook(source, payloadFor(model))).json()) as { deliveries: number }).toMatchObject({ deliveries: 0 })
  })

  it('never follows a redirect (it could point inside the network)', async () => {
    const source = await createSource()
    const model = testModel()
    const subscription = await createSubscription({ model, path: '/always/302' })
    await postHook(source, payloadFor(model))
    const delivery = await deliveryOf(subscription.id, (status) => status === 'dead', 6_000)
    expect(delivery?.last_error).toMatch(/redirects are not followed/)
    const requests = await received(subscription.box, 1)
    expect(requests.every((request) => request.path.startsWith('/always/302/'))).toBe(true)
  })

  it('refuses an internal target at delivery time, even if it got into the database', async () => {
    const source = await createSource()
    const model = testModel()
    const subscription = await createSubscription({ model, url: 'https://169.254.169.254/latest/meta-data/' })
    await postHook(source, payloadFor(model))
    const delivery = await deliveryOf(subscription.id, (status) => status === 'dead')
    expect(delivery?.last_error).toMatch(/URL refused: 169\.254\.169\.254 is a linkLocal address/)
  })

  it('loses nothing when the dispatcher restarts before delivering', async () => {
    const source = await createSource()
    const model = testModel()
    const subscription = await createSubscription({ model, path: '/ok' })
    await postHook(source, payloadFor(model))
    await abortAllDurableObjects()
    // The runtime retries an interrupted alarm by itself, after a pause of a few seconds.
    const delivery = await deliveryOf(subscription.id, (status) => status === 'delivered', 20_000)
    expect(delivery?.status).toBe('delivered')
  }, 30_000)
})

describe('while D1 fails', () => {
  const failingDb = { prepare: () => { throw new Error('D1_ERROR: Network connection lost.') }, batch: async () => { throw new Error('D1_ERROR: Network connection lost.') } }
  /** The Worker itself with another D1 binding (the objects keep the real one). */
  async function postHookWith(db: unknown, source: { name: string; token: string }, body: unknown) {
    const ctx = createExecutionContext()
    const request = new Request(`http://gateway.test/hooks/odoo/${source.name}/${source.token}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    const response = await worker.fetch(request, { ...env, DB: db } as never, ctx)
    await waitOnExecutionContext(ctx)
    return response
  }

  it('still takes events for a source it knows, and the dispatcher writes the delivery row itself', async () => {
    const model = testModel()
    const source = await createSource()
    const subscription = await createSubscription({ model })
    expect((await postHookWith(env.DB, source, payloadFor(model))).status).toBe(202)
    const during = await postHookWith(failingDb, source, { ...payloadFor(model), _id: 43 })
    expect(during.status).toBe(202)
    const deliveries = await received(subscription.box, 2)
    expect(deliveries.map((r) => JSON.parse(r.body).recordId).sort()).toEqual([42, 43])
    const deadline = Date.now() + 5_000
    let rows: { status: string }[] = []
    while (Date.now() < deadline) {
      rows = (await env.DB.prepare('SELECT status FROM webhook_deliveries WHERE subscription_id = ?1').bind(subscription.id).all<{ status: string }>()).results
      if (rows.length === 2 && rows.every((row) => row.status === 'delivered')) break
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(rows.map((row) => row.status)).toEqual(['delivered', 'delivered'])
  })

  it('answers 503 with Retry-After, not 500, for a source it has never seen', async () => {
    const source = await createSource()
    const response = await postHookWith(failingDb, source, odooPayload)
    expect(response.status).toBe(503)
    expect(response.headers.get('retry-after')).toBe('5')
    expect(await response.json()).toMatchObject({ error: 'webhook_queue_unavailable' })
  })

  it('keeps an attempt outcome D1 could not take, and writes it on the next run', async () => {
    const model = testModel()
    const source = await createSource()
    const subscription = await createSubscription({ model })
    const dispatcher = env.WEBHOOK_DISPATCHERS.get(env.WEBHOOK_DISPATCHERS.idFromName(subscription.id))
    // The dispatcher reads its subscription, then D1 fails for the attempt's log.
    await runInDurableObject(dispatcher, (instance) => {
      const real = env.DB
      ;(instance as unknown as { env: object }).env = { ...env, DB: { prepare: real.prepare.bind(real), batch: failingDb.batch } }
    })
    expect((await postHook(source, payloadFor(model))).status).toBe(202)
    await received(subscription.box, 1)
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect((await deliveryOf(subscription.id, () => true))?.status).toBe('pending')
    await runInDurableObject(dispatcher, (instance) => {
      ;(instance as unknown as { env: object }).env = env
    })
    await runDurableObjectAlarm(dispatcher)
    expect(await deliveryOf(subscription.id, (status) => status === 'delivered')).toMatchObject({ status: 'delivered', attempts: 1 })
  })
})

describe('redelivery', () => {
  it('replays a dead-lettered delivery with the same event id through the admin API', async () => {
    const source = await createSource()
    const model = testModel()
    // Fails more often than the (test-sized) retry window allows, so the first round ends in the dead letters.
    const subscription = await createSubscription({ model, path: '/fail/10' })
    await postHook(source, payloadFor(model))
    const dead = await deliveryOf(subscription.id, (status) => status === 'dead', 6_000)
    expect(dead?.status).toBe('dead')
    const path = `/admin/v1/webhooks/deliveries/${dead!.id}/redeliver`
    const unsigned = await gatewayFetch(`http://gateway.test${path}`, { method: 'POST' })
    expect(unsigned.status).toBe(401)
    const response = await admin<{ status: string; previous_status: string; event_id: string }>('POST', `/webhooks/deliveries/${dead!.id}/redeliver`, {})
    expect(response.status, JSON.stringify(response.body)).toBe(200)
    expect(response.body).toMatchObject({ status: 'pending', previous_status: 'dead' })
    const delivered = await deliveryOf(subscription.id, (status) => status === 'delivered')
    expect(delivered?.status).toBe('delivered')
    const requests = await received(subscription.box, 11)
    expect(requests).toHaveLength(11)
    expect(new Set(requests.map((request) => request.headers['webhook-id'])).size).toBe(1)
    expect(requests[0]!.headers['webhook-id']).toBe(response.body.event_id)
    // The first admin channel's route is gone: a correctly signed request to it finds nothing.
    const oldPath = `/admin/webhooks/deliveries/${dead!.id}/redeliver`
    expect((await gatewayFetch(`http://gateway.test${oldPath}`, { method: 'POST', headers: await adminHeaders('POST', oldPath, '') })).status).toBe(404)
  }, 20_000)
})

describe('secret rotation', () => {
  it('signs with both secrets during the overlap, and with the new one only after it', async () => {
    const source = await createSource()
    const model = testModel()
    const old = generateWebhookSecret()
    const during = await createSubscription({ model, previous: { secret: old, until: Date.now() + 60_000 } })
    const after = await createSubscription({ model, previous: { secret: old, until: Date.now() - 1 } })
    await postHook(source, payloadFor(model))
    const [signedTwice] = await received(during.box, 1)
    expect(signedTwice!.headers['webhook-signature']!.split(' ')).toHaveLength(2)
    expect((await verifyWebhook(old, signedTwice!.headers, signedTwice!.body, { seen: () => false })).ok).toBe(true)
    expect((await verifyWebhook(during.secret, signedTwice!.headers, signedTwice!.body, { seen: () => false })).ok).toBe(true)
    const [signedOnce] = await received(after.box, 1)
    expect(signedOnce!.headers['webhook-signature']!.split(' ')).toHaveLength(1)
    expect((await verifyWebhook(old, signedOnce!.headers, signedOnce!.body, { seen: () => false })).ok).toBe(false)
  })
})
