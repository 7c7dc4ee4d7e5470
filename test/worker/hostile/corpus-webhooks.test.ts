/**
 * Hostile corpus, webhooks: SSRF targets for subscriptions, judged by the production URL guard as the CLI applies it
 * (loopback refused, as deployed), then subscribed for real to check the dispatcher refuses them again before
 * delivering; and forged or malformed inbound events from "Odoo" (entries in corpus/*.json; corpus.ts).
 */
import { env } from 'cloudflare:workers'
import { expect, it } from 'vitest'
import { importCredentialsKey, sealSecret } from '../../../src/lib/crypto'
import { bytesToHex } from '../../../src/lib/encoding'
import { generateWebhookSecret } from '../../../src/webhooks/signing'
import { gatewayFetch } from '../helpers'
import { corpusOf, runCorpus } from './corpus'

const corpus = runCorpus('hostile requests: webhooks', ['webhook_ssrf', 'webhook_inbound'])

const random = (bytes = 8) => bytesToHex(crypto.getRandomValues(new Uint8Array(bytes)))

it('refuses the same targets at delivery time, when they are in the database anyway', async () => {
  const entries = corpusOf('webhook_ssrf').filter((entry) => entry.viaDelivery)
  expect(entries.length).toBeGreaterThanOrEqual(10)
  const model = `x_hostile_${random(4)}`
  const sealing = await importCredentialsKey(env.CREDENTIALS_KEY)
  const subscriptions = new Map<string, (typeof entries)[number]>()
  for (const entry of entries) {
    const id = `whk_${random()}`
    subscriptions.set(id, entry)
    await env.DB.prepare(
      `INSERT INTO webhook_subscriptions (id, url, models, events, fields, secret, created_at) VALUES (?1, ?2, ?3, NULL, '["name"]', ?4, ?5)`,
    )
      .bind(id, entry.url, JSON.stringify([model]), await sealSecret(sealing, generateWebhookSecret(), id), Date.now())
      .run()
  }
  const { name, token } = corpus.fixtures().hook
  const accepted = await gatewayFetch(`http://gateway.test/hooks/odoo/${name}/${token}?event=write`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ _model: model, _id: 7, name: 'S00007' }),
  })
  expect(accepted.status).toBe(202)
  expect(((await accepted.json()) as { deliveries: number }).deliveries).toBe(entries.length)

  const deadline = Date.now() + 10_000
  let rows: { subscription_id: string; status: string; last_error: string | null; attempts: number }[] = []
  while (Date.now() < deadline) {
    const placeholders = [...subscriptions.keys()].map(() => '?').join(', ')
    rows = (
      await env.DB.prepare(`SELECT subscription_id, status, last_error, attempts FROM webhook_deliveries WHERE subscription_id IN (${placeholders})`)
        .bind(...subscriptions.keys())
        .all<(typeof rows)[number]>()
    ).results
    if (rows.length === entries.length && rows.every((row) => row.status !== 'pending')) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  expect(rows).toHaveLength(entries.length)
  for (const row of rows) {
    const entry = subscriptions.get(row.subscription_id)!
    // Dead on the first attempt, refused by the guard: no connection was made.
    expect({ id: entry.id, status: row.status, attempts: row.attempts }).toEqual({ id: entry.id, status: 'dead', attempts: 1 })
    expect(row.last_error, entry.id).toMatch(/^URL refused: /)
    expect(row.last_error, entry.id).toContain(entry.expect.reason!)
  }
})
