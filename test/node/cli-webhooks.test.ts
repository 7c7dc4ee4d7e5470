/**
 * `odoo-mcp webhooks ...` and `odoo-mcp alerts list` end to end: the real CLI against a real gateway (`wrangler dev`
 * with its own local D1), through the admin API. D1 is read (and alerts written) with wrangler, as other code than
 * the CLI under test.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { importCredentialsKey, openSecret, sha256Hex } from '../../src/lib/crypto'
import { isValidWebhookSecret } from '../../src/webhooks/signing'
import { verifyWebhook } from '../../src/webhooks/verify'
import { CLI_BIN, startCliGateway, type CliGateway } from '../support/cli-gateway'
import { startWebhookReceiver } from '../support/webhook-receiver'
import { runNode } from '../support/wrangler'

/** Starting wrangler and each wrangler d1 call are slow on a busy machine. */
const SLOW = 300_000

let gateway: CliGateway | undefined
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>> | undefined

const cli = (args: string[]) => gateway!.cli(args)

beforeAll(async () => {
  receiver = await startWebhookReceiver()
  // Local development: receivers on loopback over http are allowed (npm start sets the same).
  gateway = await startCliGateway({ vars: { ODOO_URL: inject('odooUrl'), WEBHOOK_ALLOW_LOOPBACK: 'true' }, prefix: 'odoo-mcp-webhooks-' })
}, 180_000)

afterAll(async () => {
  await gateway?.stop()
  await receiver?.close()
})

async function received(box: string, atLeast: number, timeoutMs = 15_000): Promise<{ headers: Record<string, string>; body: string }[]> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const requests = (await (await fetch(`${receiver!.url}/__requests/${box}`)).json()) as { headers: Record<string, string>; body: string }[]
    if (requests.length >= atLeast || Date.now() > deadline) return requests
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe('webhooks CLI', () => {
  it('creates a source whose URL carries a token stored only as a hash', async () => {
    const result = await cli(['webhooks', 'source', 'add', 'odoo-prod', '--json'])
    expect(result.code, result.stderr).toBe(0)
    const source = JSON.parse(result.stdout) as { name: string; url: string; token: string }
    expect(Object.keys(source).sort()).toEqual(['name', 'token', 'url'])
    expect(source.url).toBe(`${gateway!.url}/hooks/odoo/odoo-prod/${source.token}`)
    const [row] = await gateway!.query("SELECT token_hash FROM webhook_sources WHERE name = 'odoo-prod'")
    expect(row?.token_hash).toBe(await sha256Hex(source.token))
    const again = await cli(['webhooks', 'source', 'add', 'odoo-prod'])
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/already exists/)
    expect((await cli(['webhooks', 'source', 'add', 'Bad Name!'])).code).toBe(2)

    const table = await cli(['webhooks', 'source', 'list'])
    expect(table.stdout).toMatch(/^NAME\s+CREATED\s+STATUS$/m)
    expect(table.stdout).toMatch(/^odoo-prod\s.*active$/m)
    expect(table.stdout).not.toContain(source.token)
    // The admin log says who made it, never the token.
    const [record] = await gateway!.query("SELECT actor, action, after FROM admin_audit WHERE target = 'source:odoo-prod'")
    expect(record).toMatchObject({ actor: 'secret:cli-test', action: 'webhooks.source.add', after: '{"name":"odoo-prod","token":"set"}' })
  }, SLOW)

  it('revokes a source: its URL is refused from then on', async () => {
    const { url } = JSON.parse((await cli(['webhooks', 'source', 'add', 'odoo-old', '--json'])).stdout) as { url: string }
    const post = () => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ _model: 'x_unused', _id: 1 }) })
    expect((await post()).status).toBe(202)
    const revoked = await cli(['webhooks', 'source', 'revoke', 'odoo-old'])
    expect(revoked.code, revoked.stderr).toBe(0)
    expect(revoked.stdout).toMatch(/Revoked source odoo-old/)
    expect((await post()).status).toBe(401)
    const listed = JSON.parse((await cli(['webhooks', 'source', 'list', '--json'])).stdout) as { name: string; status: string }[]
    expect(listed.find((source) => source.name === 'odoo-old')?.status).toBe('revoked')
    const missing = await cli(['webhooks', 'source', 'revoke', 'no-such-source'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/no source named no-such-source/)
  }, SLOW)

  it('subscribes a receiver with a sealed secret, lists, removes; refuses internal and plain-http targets', async () => {
    const created = await cli(['webhooks', 'add', '--url', 'http://127.0.0.1:9999/hook', '--models', 'sale.order,res.partner', '--events', 'create,write', '--fields', 'name,state', '--json'])
    expect(created.code, created.stderr).toBe(0)
    const { id, secret } = JSON.parse(created.stdout) as { id: string; secret: string }
    expect(Object.keys(JSON.parse(created.stdout)).sort()).toEqual(['id', 'secret'])
    expect(isValidWebhookSecret(secret)).toBe(true)
    const [row] = await gateway!.query(`SELECT secret, models, events, fields FROM webhook_subscriptions WHERE id = '${id}'`)
    expect(row).toMatchObject({ models: '["sale.order","res.partner"]', events: '["create","write"]', fields: '["name","state"]' })
    expect(String(row!.secret)).not.toContain(secret.slice(6))
    expect(await openSecret(await importCredentialsKey(gateway!.credentialsKey), String(row!.secret), id)).toBe(secret)

    const secretFile = join(gateway!.work, 'secret.txt')
    await writeFile(secretFile, 'whsec_' + Buffer.from('x'.repeat(32)).toString('base64') + '\n')
    const withFile = JSON.parse((await cli(['webhooks', 'add', '--url', 'http://localhost:9999/x', '--models', 'sale.order', '--secret-file', secretFile, '--json'])).stdout) as { secret: string }
    expect(withFile.secret).toBe('whsec_' + Buffer.from('x'.repeat(32)).toString('base64'))

    for (const [url, reason] of [
      ['http://example.com/hook', /https/],
      ['https://10.0.0.8/hook', /private/],
      ['https://169.254.169.254/latest', /linkLocal/],
      ['https://localhost.invalid.internal/', /internal/],
    ]) {
      const refused = await cli(['webhooks', 'add', '--url', url as string, '--models', 'sale.order'])
      expect(refused.code, url as string).toBe(1)
      expect(refused.stderr).toMatch(reason as RegExp)
    }
    const remote = await runNode(CLI_BIN, ['webhooks', 'add', '--url', 'http://127.0.0.1:9999/hook', '--models', 'sale.order', '--remote'], { env: { ...process.env } })
    expect(remote.code).toBe(1)
    expect(remote.stderr).toMatch(/loopback addresses are only allowed in local development|https/)

    // Rotation: the new secret becomes current, the old one signs too until the overlap ends.
    const rotated = await cli(['webhooks', 'rotate-secret', id, '--overlap', '2h', '--json'])
    expect(rotated.code, rotated.stderr).toBe(0)
    const rotation = JSON.parse(rotated.stdout) as { id: string; secret: string; overlapEndsAt: string }
    expect(rotation.secret).not.toBe(secret)
    const [afterRotation] = await gateway!.query(`SELECT secret, previous_secret, previous_until FROM webhook_subscriptions WHERE id = '${id}'`)
    const key = await importCredentialsKey(gateway!.credentialsKey)
    expect(await openSecret(key, String(afterRotation!.secret), id)).toBe(rotation.secret)
    expect(await openSecret(key, String(afterRotation!.previous_secret), id)).toBe(secret)
    expect(Math.abs(Number(afterRotation!.previous_until) - Date.now() - 2 * 3_600_000)).toBeLessThan(60_000)
    expect(Date.parse(rotation.overlapEndsAt)).toBe(Number(afterRotation!.previous_until))

    const listed = JSON.parse((await cli(['webhooks', 'list', '--json'])).stdout) as { id: string; status: string }[]
    expect(listed.find((item) => item.id === id)?.status).toBe('active')
    expect(JSON.stringify(listed)).not.toContain('whsec_')
    expect((await cli(['webhooks', 'remove', id])).code).toBe(0)
    const after = JSON.parse((await cli(['webhooks', 'list', '--json'])).stdout) as { id: string; status: string; disabledReason: string }[]
    expect(after.find((item) => item.id === id)).toMatchObject({ status: 'disabled', disabledReason: 'removed' })
    const removedAgain = await cli(['webhooks', 'remove', id])
    expect(removedAgain.code).toBe(1)
    expect(removedAgain.stderr).toMatch(/no active subscription/)
    expect(JSON.parse((await cli(['webhooks', 'deliveries', id, '--json'])).stdout)).toEqual([])
    const redeliver = await cli(['webhooks', 'redeliver', 'dlv_0123456789abcdef'])
    expect(redeliver.code).toBe(1)
    expect(redeliver.stderr).toMatch(/no delivery with ID dlv_0123456789abcdef/)

    // Every change is in the admin log, under the name the CLI signed as, and no secret is.
    const log = await gateway!.query(`SELECT actor, action, before, after FROM admin_audit WHERE target = '${id}' ORDER BY seq`)
    expect(log.map((record) => record.action)).toEqual(['webhooks.add', 'webhooks.rotate_secret', 'webhooks.remove'])
    expect(log.every((record) => record.actor === 'secret:cli-test')).toBe(true)
    const everything = JSON.stringify(await gateway!.query('SELECT * FROM admin_audit'))
    for (const text of [secret.slice(6), rotation.secret.slice(6), withFile.secret.slice(6)]) expect(everything).not.toContain(text)
  }, SLOW)

  it('--mask (repeatable or a comma list): stored with the allowlist, listed and shown, delivered masked, never stored clear', async () => {
    const { url: hookUrl } = JSON.parse((await cli(['webhooks', 'source', 'add', 'odoo-masked', '--json'])).stdout) as { url: string }
    const box = `masked${Date.now()}`
    const masked = await cli([
      'webhooks', 'add', '--url', `${receiver!.url}/ok/${box}`, '--models', 'res.partner', '--fields', 'name,email,vat,phone',
      '--mask', 'email=partial', '--mask', 'vat=last4,phone=hash', '--json',
    ])
    expect(masked.code, masked.stderr).toBe(0)
    const { id, secret } = JSON.parse(masked.stdout) as { id: string; secret: string }
    const mask = { email: 'partial', vat: 'last4', phone: 'hash' }
    const [row] = await gateway!.query(`SELECT fields FROM webhook_subscriptions WHERE id = '${id}'`)
    expect(JSON.parse(String(row!.fields))).toEqual({ fields: ['name', 'email', 'vat', 'phone'], mask })
    const listed = JSON.parse((await cli(['webhooks', 'list', '--json'])).stdout) as { id: string; mask: unknown }[]
    expect(listed.find((entry) => entry.id === id)?.mask).toEqual(mask)
    const table = await cli(['webhooks', 'list'])
    expect(table.stdout).toMatch(/^ID\s+URL\s+MODELS\s+EVENTS\s+MASK\s+STATUS$/m)
    expect(table.stdout).toMatch(new RegExp(`^${id}\\s.*email=partial,vat=last4,phone=hash\\s+active$`, 'm'))
    const shown = await cli(['webhooks', 'show', id, '--json'])
    expect(shown.code, shown.stderr).toBe(0)
    expect(JSON.parse(shown.stdout)).toMatchObject({ id, fields: ['name', 'email', 'vat', 'phone'], mask, status: 'active' })
    const shownText = (await cli(['webhooks', 'show', id])).stdout
    expect(shownText).toMatch(/^\s+mask:\s+email=partial, vat=last4, phone=hash$/m)
    expect(shownText).not.toContain('whsec_')
    const missing = await cli(['webhooks', 'show', 'whk_0123456789abcdef'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/no subscription with ID whk_0123456789abcdef/)
    // The admin log records the masks with the other settings.
    const [record] = await gateway!.query(`SELECT after FROM admin_audit WHERE target = '${id}' AND action = 'webhooks.add'`)
    expect(JSON.parse(String(record!.after))).toMatchObject({ fields: ['name', 'email', 'vat', 'phone'], mask, secret: 'set' })

    // An event through the real gateway: the receiver gets masked values, D1 holds no clear one.
    const clear = { name: 'Azure Interior', email: 'azure.interior24@example.com', vat: 'BE0477472701', phone: '+32 475 12 34 56' }
    const posted = await fetch(hookUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ _model: 'res.partner', _id: 14, ...clear }) })
    expect(posted.status).toBe(202)
    const [first] = await received(box, 1)
    expect(await verifyWebhook(secret, first!.headers, first!.body)).toMatchObject({ ok: true })
    const data = (JSON.parse(first!.body) as { data: Record<string, string> }).data
    expect(data).toMatchObject({ name: 'Azure Interior', email: 'a***************@example.com', vat: '********2701' })
    expect(data.phone).toMatch(/^h:[0-9a-f]{16}$/)
    const stored = JSON.stringify(await gateway!.query(`SELECT * FROM webhook_deliveries WHERE subscription_id = '${id}'`))
    expect(stored).toContain(data.phone)
    for (const value of [clear.email, clear.vat, clear.phone]) {
      expect(first!.body).not.toContain(value)
      expect(stored).not.toContain(value)
    }

    // Refused before anything is sent (exit 2): malformed, unknown mask, a field given two masks, masks on alerts.
    for (const [args, message] of [
      [['--mask', 'email=blur'], /--mask 'email=blur' must be FIELD=MASK, MASK one of partial, last4, hash, redact/],
      [['--mask', 'email'], /--mask 'email' must be FIELD=MASK/],
      [['--mask', 'email=partial=x'], /--mask 'email=partial=x' must be FIELD=MASK/],
      [['--mask', ','], /--mask needs at least one FIELD=MASK/],
      [['--mask', 'email=partial', '--mask', 'email=hash'], /--mask gives email two masks \(partial and hash\)/],
    ] as const) {
      const refused = await cli(['webhooks', 'add', '--url', 'http://127.0.0.1:9999/masked', '--models', 'res.partner', ...args])
      expect(refused.code, args.join(' ')).toBe(2)
      expect(refused.stderr).toMatch(message)
    }
    const onAlerts = await cli(['webhooks', 'add', '--url', 'http://127.0.0.1:9999/masked', '--alerts', '--mask', 'email=partial'])
    expect(onAlerts.code).toBe(2)
    expect(onAlerts.stderr).toMatch(/--mask applies to Odoo fields/)
    // The gateway's own check: a masked field must be in --fields (exit 1, its message).
    const unlisted = await cli(['webhooks', 'add', '--url', 'http://127.0.0.1:9999/masked', '--models', 'res.partner', '--fields', 'name', '--mask', 'email=partial'])
    expect(unlisted.code).toBe(1)
    expect(unlisted.stderr).toMatch(/mask\.email: a masked field must also be in fields/)
    const [count] = await gateway!.query("SELECT COUNT(*) AS n FROM webhook_subscriptions WHERE url = 'http://127.0.0.1:9999/masked'")
    expect(Number(count!.n)).toBe(0)
  }, SLOW)

  it('delivers an Odoo event, shows the delivery, and redelivers it with the same event id', async () => {
    const { url: hookUrl } = JSON.parse((await cli(['webhooks', 'source', 'add', 'odoo-live', '--json'])).stdout) as { url: string }
    const box = `box${Date.now()}`
    const subscribed = await cli(['webhooks', 'add', '--url', `${receiver!.url}/ok/${box}`, '--models', 'sale.order', '--fields', 'name', '--json'])
    expect(subscribed.code, subscribed.stderr).toBe(0)
    const { id, secret } = JSON.parse(subscribed.stdout) as { id: string; secret: string }
    const posted = await fetch(`${hookUrl}?event=write`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ _model: 'sale.order', _id: 42, name: 'S00042', state: 'sale' }),
    })
    expect(posted.status).toBe(202)
    const [first] = await received(box, 1)
    expect(await verifyWebhook(secret, first!.headers, first!.body)).toMatchObject({ ok: true })
    expect(JSON.parse(first!.body)).toMatchObject({ model: 'sale.order', recordId: 42, data: { name: 'S00042' } })

    let deliveries: { id: string; eventId: string; status: string; attempts: number }[] = []
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; ) {
      deliveries = JSON.parse((await cli(['webhooks', 'deliveries', id, '--json'])).stdout) as typeof deliveries
      if (deliveries[0]?.status === 'delivered') break
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    expect(deliveries).toHaveLength(1)
    expect(deliveries[0]).toMatchObject({ eventId: first!.headers['webhook-id'], status: 'delivered', attempts: 1 })
    const table = await cli(['webhooks', 'deliveries', id])
    expect(table.stdout).toMatch(/^DELIVERY\s+EVENT\s+CREATED\s+STATUS\s+ATTEMPTS\s+LAST$/m)
    expect(table.stdout).toContain(deliveries[0]!.id)

    const again = await cli(['webhooks', 'redeliver', deliveries[0]!.id])
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toMatch(new RegExp(`Delivery ${deliveries[0]!.id} queued again`))
    const both = await received(box, 2)
    expect(both).toHaveLength(2)
    expect(both[1]!.headers['webhook-id']).toBe(first!.headers['webhook-id'])
    expect(both[1]!.body).toBe(first!.body)
    const [record] = await gateway!.query(`SELECT action, before FROM admin_audit WHERE target = '${deliveries[0]!.id}'`)
    expect(record).toMatchObject({ action: 'webhooks.redeliver' })
    expect(JSON.parse(String(record!.before))).toMatchObject({ status: 'delivered' })
  }, SLOW)

  it('subscribes to alerts, and lists alerts newest first within --since', async () => {
    const created = await cli(['webhooks', 'add', '--url', 'http://127.0.0.1:9999/alerts', '--alerts', '--json'])
    expect(created.code, created.stderr).toBe(0)
    const { id } = JSON.parse(created.stdout) as { id: string }
    const [row] = await gateway!.query(`SELECT models FROM webhook_subscriptions WHERE id = '${id}'`)
    expect(row?.models).toBe('["_alerts"]')
    expect((await cli(['webhooks', 'add', '--url', 'http://127.0.0.1:9999/x', '--alerts', '--models', 'sale.order'])).code).toBe(2)

    const now = Date.now()
    await gateway!.query(
      `INSERT INTO alerts VALUES ('alt_1', ${now - 3_600_000}, 'rate_limit', 'key_1', 'key_1', 'n8n hit its rate limit', 'r1');
       INSERT INTO alerts VALUES ('alt_2', ${now - 60_000}, 'auth_failures', 'ip:198.51.100.7', NULL, '10 failed authentications', 'r2');
       INSERT INTO alerts VALUES ('alt_3', ${now - 10 * 86_400_000}, 'off_hours', 'key_1', 'key_1', 'old', 'r3')`,
    )
    const listed = await cli(['alerts', 'list', '--json'])
    expect(listed.code, listed.stderr).toBe(0)
    const alerts = JSON.parse(listed.stdout) as { id: string; rule: string }[]
    expect(alerts.map((alert) => alert.id)).toEqual(['alt_2', 'alt_1'])
    expect(alerts[0]).toEqual({
      id: 'alt_2',
      time: new Date(now - 60_000).toISOString(),
      rule: 'auth_failures',
      subject: 'ip:198.51.100.7',
      keyId: null,
      message: '10 failed authentications',
      requestId: 'r2',
    })
    expect((JSON.parse((await cli(['alerts', 'list', '--since', '30m', '--json'])).stdout) as unknown[]).length).toBe(1)
    expect((JSON.parse((await cli(['alerts', 'list', '--since', '30d', '--limit', '2', '--json'])).stdout) as { id: string }[]).map((alert) => alert.id)).toEqual(['alt_2', 'alt_1'])
    const table = await cli(['alerts', 'list', '--since', '30d'])
    expect(table.stdout).toMatch(/^TIME\s+RULE\s+SUBJECT\s+MESSAGE$/m)
    expect(table.stdout).toContain('off_hours')
    expect((await cli(['alerts', 'list', '--limit', '0'])).code).toBe(2)
  }, SLOW)
})
