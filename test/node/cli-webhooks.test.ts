/** `odoo-mcp webhooks ...` end to end with the real CLI and wrangler on a local D1. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateCredentialsKey, importCredentialsKey, openSecret, sha256Hex } from '../../src/lib/crypto'
import { isValidWebhookSecret } from '../../src/webhooks/signing'
import { applySchema, projectRoot, queryD1, runNode, type LocalD1 } from '../support/wrangler'

const BIN = join(projectRoot, 'bin', 'odoo-mcp.mjs')
let work: string
let d1: LocalD1
const credentialsKey = generateCredentialsKey()

function cli(args: string[]) {
  return runNode(BIN, [...args, '--config', d1.configPath, '--persist-to', d1.persistTo], {
    env: { ...process.env, CREDENTIALS_KEY: credentialsKey, ODOO_MCP_GATEWAY_URL: 'https://gateway.example.com' },
  })
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'odoo-mcp-webhooks-'))
  d1 = { configPath: join(projectRoot, 'wrangler.toml'), persistTo: join(work, 'state') }
  await applySchema(d1)
})

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true })
})

describe('webhooks CLI', () => {
  it('creates a source whose URL carries a token stored only as a hash', async () => {
    const result = await cli(['webhooks', 'source', 'add', 'odoo-prod', '--json'])
    expect(result.code, result.stderr).toBe(0)
    const source = JSON.parse(result.stdout) as { name: string; url: string; token: string }
    expect(Object.keys(source).sort()).toEqual(['name', 'token', 'url'])
    expect(source.url).toBe(`https://gateway.example.com/hooks/odoo/odoo-prod/${source.token}`)
    const [row] = await queryD1(d1, "SELECT token_hash FROM webhook_sources WHERE name = 'odoo-prod'")
    expect(row?.token_hash).toBe(await sha256Hex(source.token))
    const again = await cli(['webhooks', 'source', 'add', 'odoo-prod'])
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/already exists/)
    expect((await cli(['webhooks', 'source', 'add', 'Bad Name!'])).code).toBe(2)
  })

  it('subscribes a receiver with a sealed secret, lists, removes; refuses internal and plain-http targets', async () => {
    const created = await cli(['webhooks', 'add', '--url', 'http://127.0.0.1:9999/hook', '--models', 'sale.order,res.partner', '--events', 'create,write', '--fields', 'name,state', '--json'])
    expect(created.code, created.stderr).toBe(0)
    const { id, secret } = JSON.parse(created.stdout) as { id: string; secret: string }
    expect(Object.keys(JSON.parse(created.stdout)).sort()).toEqual(['id', 'secret'])
    expect(isValidWebhookSecret(secret)).toBe(true)
    const [row] = await queryD1(d1, `SELECT secret, models, events, fields FROM webhook_subscriptions WHERE id = '${id}'`)
    expect(row).toMatchObject({ models: '["sale.order","res.partner"]', events: '["create","write"]', fields: '["name","state"]' })
    expect(String(row!.secret)).not.toContain(secret.slice(6))
    expect(await openSecret(await importCredentialsKey(credentialsKey), String(row!.secret), id)).toBe(secret)

    const secretFile = join(work, 'secret.txt')
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
    const remote = await runNode(BIN, ['webhooks', 'add', '--url', 'http://127.0.0.1:9999/hook', '--models', 'sale.order', '--remote'], { env: { ...process.env } })
    expect(remote.code).toBe(1)
    expect(remote.stderr).toMatch(/loopback addresses are only allowed in local development|https/)

    // Rotation: the new secret becomes current, the old one signs too until the overlap ends.
    const rotated = await cli(['webhooks', 'rotate-secret', id, '--overlap', '2h', '--json'])
    expect(rotated.code, rotated.stderr).toBe(0)
    const rotation = JSON.parse(rotated.stdout) as { id: string; secret: string; overlapEndsAt: string }
    expect(rotation.secret).not.toBe(secret)
    const [afterRotation] = await queryD1(d1, `SELECT secret, previous_secret, previous_until FROM webhook_subscriptions WHERE id = '${id}'`)
    const key = await importCredentialsKey(credentialsKey)
    expect(await openSecret(key, String(afterRotation!.secret), id)).toBe(rotation.secret)
    expect(await openSecret(key, String(afterRotation!.previous_secret), id)).toBe(secret)
    expect(Math.abs(Number(afterRotation!.previous_until) - Date.now() - 2 * 3_600_000)).toBeLessThan(60_000)

    const listed = JSON.parse((await cli(['webhooks', 'list', '--json'])).stdout) as { id: string; status: string }[]
    expect(listed.find((item) => item.id === id)?.status).toBe('active')
    expect(JSON.stringify(listed)).not.toContain('whsec_')
    expect((await cli(['webhooks', 'remove', id])).code).toBe(0)
    const after = JSON.parse((await cli(['webhooks', 'list', '--json'])).stdout) as { id: string; status: string; disabledReason: string }[]
    expect(after.find((item) => item.id === id)).toMatchObject({ status: 'disabled', disabledReason: 'removed' })
    expect(JSON.parse((await cli(['webhooks', 'deliveries', id, '--json'])).stdout)).toEqual([])
    const redeliver = await cli(['webhooks', 'redeliver', 'dlv_0123456789abcdef'])
    expect(redeliver.code).toBe(1)
    expect(redeliver.stderr).toMatch(/could not ask the gateway/)
  })

  it('subscribes to alerts, and lists alerts newest first within --since', async () => {
    const created = await cli(['webhooks', 'add', '--url', 'http://127.0.0.1:9999/alerts', '--alerts', '--json'])
    expect(created.code, created.stderr).toBe(0)
    const { id } = JSON.parse(created.stdout) as { id: string }
    const [row] = await queryD1(d1, `SELECT models FROM webhook_subscriptions WHERE id = '${id}'`)
    expect(row?.models).toBe('["_alerts"]')
    expect((await cli(['webhooks', 'add', '--url', 'http://127.0.0.1:9999/x', '--alerts', '--models', 'sale.order'])).code).toBe(2)

    const now = Date.now()
    await queryD1(
      d1,
      `INSERT INTO alerts VALUES ('alt_1', ${now - 3_600_000}, 'rate_limit', 'key_1', 'key_1', 'n8n hit its rate limit', 'r1');
       INSERT INTO alerts VALUES ('alt_2', ${now - 60_000}, 'auth_failures', 'ip:198.51.100.7', NULL, '10 failed authentications', 'r2');
       INSERT INTO alerts VALUES ('alt_3', ${now - 10 * 86_400_000}, 'off_hours', 'key_1', 'key_1', 'old', 'r3')`,
    )
    const listed = await cli(['alerts', 'list', '--json'])
    expect(listed.code, listed.stderr).toBe(0)
    const alerts = JSON.parse(listed.stdout) as { id: string; rule: string }[]
    expect(alerts.map((alert) => alert.id)).toEqual(['alt_2', 'alt_1'])
    expect((JSON.parse((await cli(['alerts', 'list', '--since', '30m', '--json'])).stdout) as unknown[]).length).toBe(1)
    const table = await cli(['alerts', 'list', '--since', '30d'])
    expect(table.stdout).toMatch(/^TIME\s+RULE\s+SUBJECT\s+MESSAGE$/m)
    expect(table.stdout).toContain('off_hours')
  })
})
