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
})
