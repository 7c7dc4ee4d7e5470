/** Alerts end to end: raised on the audit stream, stored in D1, delivered signed to alert subscribers, throttled. */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { importCredentialsKey, sealSecret } from '../../../src/lib/crypto'
import { bytesToHex } from '../../../src/lib/encoding'
import { generateWebhookSecret } from '../../../src/webhooks/signing'
import { verifyWebhook } from '../../../src/webhooks/verify'
import { createTestKey, postMcp } from '../helpers'
import { flushAudit } from '../audit/helpers'

const ping = { jsonrpc: '2.0', id: 1, method: 'ping' }

async function alertSubscriber() {
  const id = `whk_${bytesToHex(crypto.getRandomValues(new Uint8Array(8)))}`
  const box = bytesToHex(crypto.getRandomValues(new Uint8Array(8)))
  const secret = generateWebhookSecret()
  await env.DB.prepare('INSERT INTO webhook_subscriptions (id, url, models, events, fields, secret, created_at) VALUES (?1, ?2, ?3, NULL, ?4, ?5, ?6)')
    .bind(id, `${env.RECEIVER_URL}/ok/${box}`, '["_alerts"]', '"*"', await sealSecret(await importCredentialsKey(env.CREDENTIALS_KEY), secret, id), Date.now())
    .run()
  return { box, secret }
}

async function received(box: string, atLeast: number) {
  const deadline = Date.now() + 5_000
  for (;;) {
    const requests = (await (await fetch(`${env.RECEIVER_URL}/__requests/${box}`)).json()) as { headers: Record<string, string>; body: string }[]
    if (requests.length >= atLeast || Date.now() > deadline) return requests
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('alerts', () => {
  it('a key hitting its rate limit raises one alert, stored and delivered signed; repeats are throttled', async () => {
    const subscriber = await alertSubscriber()
    const { id, key } = await createTestKey({ name: 'noisy bot', policy: { version: 1, models: {}, rateLimit: { perMinute: 60, burst: 2 } } })
    const statuses = []
    for (let index = 0; index < 6; index++) statuses.push((await postMcp(key, ping)).status)
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(3)
    await flushAudit([id])
    const { results } = await env.DB.prepare('SELECT rule, subject, key_id, message FROM alerts WHERE key_id = ?1').bind(id).all()
    expect(results).toEqual([{ rule: 'rate_limit', subject: id, key_id: id, message: `'noisy bot' (${id}) hit its rate limit` }])
    const [delivery] = await received(subscriber.box, 1)
    expect(delivery).toBeDefined()
    expect((await verifyWebhook(subscriber.secret, delivery!.headers, delivery!.body)).ok).toBe(true)
    expect(JSON.parse(delivery!.body)).toMatchObject({ type: 'alert.rate_limit', alert: { rule: 'rate_limit', keyId: id } })
  })

  it('a burst of failed authentications from one address raises auth_failures', async () => {
    const ip = `198.51.100.${Math.floor(Math.random() * 200) + 1}`
    const bogus = `omk_${'A'.repeat(43)}zzzzzz`
    for (let index = 0; index < 10; index++) await (await postMcp(bogus, ping, { 'cf-connecting-ip': ip })).arrayBuffer()
    await flushAudit()
    const row = await env.DB.prepare('SELECT rule, subject FROM alerts WHERE subject = ?1').bind(`ip:${ip}`).first()
    expect(row).toEqual({ rule: 'auth_failures', subject: `ip:${ip}` })
  })

  it('use outside the working hours set in the policy raises off_hours', async () => {
    // Working hours that exclude every moment: a one-minute window on a day that is not today.
    const today = new Date().getUTCDay()
    const otherDay = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][(today + 3) % 7]
    const { id, key } = await createTestKey({
      policy: { version: 1, models: {}, workingHours: { timezone: 'UTC', days: otherDay, from: '08:00', to: '08:01' } },
    })
    expect((await postMcp(key, ping)).status).toBe(200)
    expect((await postMcp(key, ping)).status).toBe(200)
    await flushAudit([id])
    const { results } = await env.DB.prepare('SELECT rule FROM alerts WHERE key_id = ?1').bind(id).all()
    expect(results).toEqual([{ rule: 'off_hours' }])
  })

  it('refuses a policy with bad working hours', async () => {
    const { parsePolicy } = await import('../../../src/policy/schema')
    const result = parsePolicy({ version: 1, models: {}, workingHours: { timezone: 'Mars/Olympus', days: 'mon-funday', from: '8:00', to: '25:00' } })
    expect(result.ok).toBe(false)
    if (!result.ok) {
      expect(result.errors.join('\n')).toMatch(/timezone must be an IANA time zone/)
      expect(result.errors.join('\n')).toMatch(/days must be like/)
      expect(result.errors.join('\n')).toMatch(/from must be HH:MM/)
    }
  })
})
