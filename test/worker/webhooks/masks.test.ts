/**
 * Field masks on webhook subscriptions: a masked field is masked before the delivery is stored (webhook_deliveries
 * holds the payload every attempt and redelivery sends), so its clear value is never stored nor sent; `hash` is keyed
 * per subscription. Also the admin API's checks of `mask`, the admin log record, and how the `fields` column is read
 * (old rows unchanged, damaged or newer ones fail closed).
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { importCredentialsKey, maskHashKey, sealSecret, sha256Hex } from '../../../src/lib/crypto'
import { bytesToHex } from '../../../src/lib/encoding'
import { createMaskHasher, maskValue, REDACTED } from '../../../src/policy/masks'
import { generateWebhookSecret } from '../../../src/webhooks/signing'
import { verifyWebhook } from '../../../src/webhooks/verify'
import worker from '../../../src/index'
import { gatewayFetch } from '../helpers'
import { admin } from '../admin-api/client'

const random = (bytes = 8) => bytesToHex(crypto.getRandomValues(new Uint8Array(bytes)))

async function createSource(): Promise<{ name: string; token: string }> {
  const name = `odoo-${random(4)}`
  const token = random(24)
  await env.DB.prepare('INSERT INTO webhook_sources (name, token_hash, created_at) VALUES (?1, ?2, ?3)').bind(name, await sha256Hex(token), Date.now()).run()
  return { name, token }
}

interface Subscribed {
  id: string
  secret: string
  box: string
  mask: Record<string, string> | null
}

/** Through the admin API, as an administrator would; `box` is where the test receiver keeps what it was sent. */
async function subscribe(model: string, mask: Record<string, string>, fields: '*' | string[] = ['name', 'email', 'phone', 'vat', 'ref']): Promise<Subscribed> {
  const box = random()
  const answer = await admin<Omit<Subscribed, 'box'>>('POST', '/webhooks/subscriptions', { url: `${env.RECEIVER_URL}/ok/${box}`, models: [model], fields, mask })
  expect(answer.status, JSON.stringify(answer.body)).toBe(201)
  return { ...answer.body, box }
}

/** A subscription row written directly, with the `fields` column exactly as given (old or damaged rows). */
async function insertSubscription(model: string, fieldsColumn: string): Promise<{ id: string; box: string }> {
  const id = `whk_${random()}`
  const box = random()
  await env.DB.prepare('INSERT INTO webhook_subscriptions (id, url, models, events, fields, secret, created_at) VALUES (?1, ?2, ?3, NULL, ?4, ?5, ?6)')
    .bind(id, `${env.RECEIVER_URL}/ok/${box}`, JSON.stringify([model]), fieldsColumn, await sealSecret(await importCredentialsKey(env.CREDENTIALS_KEY), generateWebhookSecret(), id), Date.now())
    .run()
  return { id, box }
}

function postHook(source: { name: string; token: string }, body: unknown) {
  return gatewayFetch(`http://gateway.test/hooks/odoo/${source.name}/${source.token}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
}

type Received = { headers: Record<string, string>; body: string }

async function received(box: string, atLeast: number, timeoutMs = 5_000): Promise<Received[]> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const requests = (await (await fetch(`${env.RECEIVER_URL}/__requests/${box}`)).json()) as Received[]
    if (requests.length >= atLeast || Date.now() > deadline) return requests
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const dataOf = (body: string) => (JSON.parse(body) as { data: Record<string, unknown> }).data

async function deliveryRows(subscriptionId: string) {
  return (
    await env.DB.prepare('SELECT id, event_id, payload, status FROM webhook_deliveries WHERE subscription_id = ?1 ORDER BY created_at, id')
      .bind(subscriptionId)
      .all<{ id: string; event_id: string; payload: string; status: string }>()
  ).results
}

async function deliveredRows(subscriptionId: string, count: number, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const rows = await deliveryRows(subscriptionId)
    if ((rows.length >= count && rows.every((row) => row.status === 'delivered')) || Date.now() > deadline) return rows
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Everything D1 keeps about a subscription's deliveries: the rows and every attempt's log. */
async function everythingStored(subscriptionId: string): Promise<string> {
  const deliveries = await env.DB.prepare('SELECT * FROM webhook_deliveries WHERE subscription_id = ?1').bind(subscriptionId).all()
  const attempts = await env.DB.prepare('SELECT a.* FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.subscription_id = ?1').bind(subscriptionId).all()
  return JSON.stringify([deliveries.results, attempts.results])
}

const records = [
  { name: 'Azure', email: 'azure.interior24@example.com', phone: '(870)-931-0505', vat: 'BE0477472701', ref: 'AZ-REF-1' },
  { name: 'Deco', email: 'deco_addict@example.com', phone: '(603)-996-3829', vat: 'BE0123456789', ref: 'AZ-REF-1' },
]
const clearValues = records.flatMap((record) => [record.email, record.phone, record.vat, record.ref])

describe('webhook field masks', () => {
  it('stores, sends and redelivers masked values only, hashed per subscription', async () => {
    const model = `x_test_${random(4)}`
    const source = await createSource()
    const mask = { email: 'partial', phone: 'last4', ref: 'hash', vat: 'redact' }
    const first = await subscribe(model, mask)
    const second = await subscribe(model, { ref: 'hash' })
    const third = await subscribe(model, { ref: 'hash', email: 'hash' }, '*')
    expect(first.mask).toEqual(mask)
    for (const [index, record] of records.entries()) expect((await postHook(source, { _model: model, _id: index + 1, _action: 'Notify(#3)', ...record })).status).toBe(202)

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
    expect(expected[0]).toMatchObject({ email: 'a***************@example.com', phone: '**********0505', ref: expect.stringMatching(/^h:[0-9a-f]{16}$/) })

    // What the receiver got: signed as usual, masked, in the order sent (one event each).
    const sent = await received(first.box, 2)
    expect(sent).toHaveLength(2)
    for (const request of sent) expect((await verifyWebhook(first.secret, request.headers, request.body)).ok).toBe(true)
    expect(sent.map((request) => dataOf(request.body)).sort((a, b) => String(a.name).localeCompare(String(b.name)))).toEqual(expected)
    for (const value of clearValues) expect(JSON.stringify(sent)).not.toContain(value)

    // What D1 keeps: the same masked payloads, and no clear value in any delivery row or attempt log.
    const rows = await deliveredRows(first.id, 2)
    expect(rows.map((row) => dataOf(row.payload)).sort((a, b) => String(a.name).localeCompare(String(b.name)))).toEqual(expected)
    const stored = await everythingStored(first.id)
    for (const value of clearValues) expect(stored).not.toContain(value)

    // Equal values hash equal within one subscription, differently in another (and with "*" as the allowlist).
    const refs = rows.map((row) => dataOf(row.payload).ref)
    expect(refs[0]).toBe(refs[1])
    const secondRows = await deliveredRows(second.id, 2)
    const secondRefs = secondRows.map((row) => dataOf(row.payload).ref)
    expect(secondRefs[0]).toBe(secondRefs[1])
    expect(secondRefs[0]).not.toBe(refs[0])
    expect(secondRows.map((row) => dataOf(row.payload).email).sort()).toEqual(records.map((record) => record.email).sort())
    const thirdRows = await deliveredRows(third.id, 2)
    expect(new Set(thirdRows.map((row) => dataOf(row.payload).ref)).size).toBe(1)
    expect([refs[0], secondRefs[0]]).not.toContain(dataOf(thirdRows[0]!.payload).ref)
    expect(dataOf(thirdRows[0]!.payload).email).toMatch(/^h:[0-9a-f]{16}$/)

    // A redelivery replays the stored (masked) payload: same id, same bytes, still no clear value.
    const redelivered = await admin<{ status: string; event_id: string }>('POST', `/webhooks/deliveries/${rows[0]!.id}/redeliver`, {})
    expect(redelivered.status, JSON.stringify(redelivered.body)).toBe(200)
    const again = await received(first.box, 3)
    expect(again).toHaveLength(3)
    expect(again[2]!.headers['webhook-id']).toBe(rows[0]!.event_id)
    expect(again[2]!.body).toBe(rows[0]!.payload)
    for (const value of clearValues) expect(JSON.stringify(again)).not.toContain(value)
    await deliveredRows(first.id, 2)
    const storedAfter = await everythingStored(first.id)
    for (const value of clearValues) expect(storedAfter).not.toContain(value)
  })

  it('masks while D1 fails too: the subscriptions as last read carry the masks, the row the dispatcher writes is masked', async () => {
    const model = `x_test_${random(4)}`
    const source = await createSource()
    const subscription = await subscribe(model, { email: 'partial', vat: 'redact' }, ['name', 'email', 'vat'])
    const failingDb = { prepare: () => { throw new Error('D1_ERROR: Network connection lost.') }, batch: async () => { throw new Error('D1_ERROR: Network connection lost.') } }
    const post = async (db: unknown, body: unknown) => {
      const ctx = createExecutionContext()
      const request = new Request(`http://gateway.test/hooks/odoo/${source.name}/${source.token}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      const response = await worker.fetch(request, { ...env, DB: db } as never, ctx)
      await waitOnExecutionContext(ctx)
      return response
    }
    expect((await post(env.DB, { _model: model, _id: 1, ...records[0] })).status).toBe(202)
    expect((await post(failingDb, { _model: model, _id: 2, ...records[1] })).status).toBe(202)
    const sent = await received(subscription.box, 2)
    expect(sent.map((request) => dataOf(request.body)).sort((a, b) => String(a.name).localeCompare(String(b.name)))).toEqual([
      { name: 'Azure', email: 'a***************@example.com', vat: REDACTED },
      { name: 'Deco', email: 'd**********@example.com', vat: REDACTED },
    ])
    const rows = await deliveredRows(subscription.id, 2)
    expect(rows).toHaveLength(2)
    const stored = await everythingStored(subscription.id)
    for (const value of clearValues) expect(JSON.stringify(sent) + stored).not.toContain(value)
  })

  it('keeps old rows as they were, and reads a damaged or newer fields column fail-closed', async () => {
    const model = `x_test_${random(4)}`
    const source = await createSource()
    const old = await insertSubscription(model, '["name","email"]')
    const unknownMask = await insertSubscription(model, '{"fields":["name","email","vat"],"mask":{"email":"blur","vat":"last4"}}')
    const noAllowlist = await insertSubscription(model, '{"mask":{"email":"partial"}}')
    expect((await postHook(source, { _model: model, _id: 7, ...records[0] })).status).toBe(202)
    expect(dataOf((await received(old.box, 1))[0]!.body)).toEqual({ name: 'Azure', email: records[0]!.email })
    // A mask this version does not know is applied as redact, never skipped.
    expect(dataOf((await received(unknownMask.box, 1))[0]!.body)).toEqual({ name: 'Azure', email: REDACTED, vat: '********2701' })
    // An object without an allowlist allows no field.
    expect(dataOf((await received(noAllowlist.box, 1))[0]!.body)).toEqual({})
  })

  it('lists the masks and records them in the admin log', async () => {
    const model = `x_test_${random(4)}`
    const created = await subscribe(model, { email: 'partial' }, '*')
    const shown = await admin<{ mask: unknown; fields: unknown }>('GET', `/webhooks/subscriptions/${created.id}`)
    expect(shown.body).toMatchObject({ fields: '*', mask: { email: 'partial' } })
    const listed = await admin<{ items: { id: string; mask: unknown }[] }>('GET', '/webhooks/subscriptions?limit=500')
    expect(listed.body.items.find((item) => item.id === created.id)?.mask).toEqual({ email: 'partial' })
    const row = await env.DB.prepare('SELECT fields FROM webhook_subscriptions WHERE id = ?1').bind(created.id).first<{ fields: string }>()
    expect(JSON.parse(row!.fields)).toEqual({ fields: '*', mask: { email: 'partial' } })
    const record = await env.DB.prepare("SELECT action, after FROM admin_audit WHERE target = ?1 AND action = 'webhooks.add'").bind(created.id).first<{ after: string }>()
    expect(JSON.parse(record!.after)).toMatchObject({ fields: '*', mask: { email: 'partial' }, secret: 'set' })

    // A subscription without masks (mask absent, null or {}) is stored as before, the bare allowlist, and answers mask: null.
    for (const mask of [undefined, null, {}]) {
      const plain = await admin<{ id: string; mask: unknown }>('POST', '/webhooks/subscriptions', { url: `${env.RECEIVER_URL}/ok/y`, models: [model], fields: ['name'], ...(mask === undefined ? {} : { mask }) })
      expect(plain.status, JSON.stringify(plain.body)).toBe(201)
      expect(plain.body.mask).toBeNull()
      const plainRow = await env.DB.prepare('SELECT fields FROM webhook_subscriptions WHERE id = ?1').bind(plain.body.id).first<{ fields: string }>()
      expect(plainRow?.fields).toBe('["name"]')
      const plainRecord = await env.DB.prepare('SELECT after FROM admin_audit WHERE target = ?1').bind(plain.body.id).first<{ after: string }>()
      expect(JSON.parse(plainRecord!.after)).not.toHaveProperty('mask')
    }
  })

  it('refuses a bad mask with a 400 naming it, and stores nothing', async () => {
    const model = `x_test_${random(4)}`
    const url = `${env.RECEIVER_URL}/ok/refused-${random()}`
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ models: [model], fields: ['name'], mask: { email: 'partial' } }, /^mask\.email: a masked field must also be in fields/m],
      [{ models: [model], mask: { email: 'blur' } }, /^mask\.email: masks are partial, last4, hash, redact/m],
      [{ models: [model], mask: { email: 7 } }, /^mask\.email: masks are partial, last4, hash, redact/m],
      [{ models: [model], mask: { 'e-mail': 'partial' } }, /^mask\.e-mail: mask keys are field names/m],
      [{ models: [model], fields: ['id', 'name'], mask: { id: 'hash' } }, /^mask\.id: 'id' cannot be masked/m],
      [{ alerts: true, mask: { email: 'partial' } }, /^mask: alerts carry no Odoo fields to mask/m],
      [{ models: [model], mask: ['email'] }, /^mask: /m],
      [{ models: [model], mask: 'email=partial' }, /^mask: /m],
    ]
    for (const [body, detail] of cases) {
      const answer = await admin<{ error: string; details: string[] }>('POST', '/webhooks/subscriptions', { url, ...body })
      expect(answer.status, JSON.stringify(answer.body)).toBe(400)
      expect(answer.body.error).toBe('invalid_body')
      expect(answer.body.details.join('\n'), JSON.stringify(body)).toMatch(detail)
    }
    const stored = await env.DB.prepare('SELECT COUNT(*) AS n FROM webhook_subscriptions WHERE url = ?1').bind(url).first<{ n: number }>()
    expect(stored!.n).toBe(0)
  })
})
