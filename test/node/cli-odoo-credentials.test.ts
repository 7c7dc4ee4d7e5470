/**
 * `keys create` and `keys set-odoo-secret` checking the Odoo credentials through a real gateway (`wrangler dev`, one
 * instance for the file) against the simulated Odoo 19 over JSON-2, as `npm start` runs its demo: a wrong secret or
 * login creates nothing, the uid Odoo answers is stored at once (so `keys show` has it), and a key created with
 * --no-verify and a wrong secret is fixed in place, at once, with a record in its audit chain.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { generateCredentialsKey } from '../../src/lib/crypto'
import { applySchema, projectRoot, queryD1, runNode, type LocalD1, type ProcessResult } from '../support/wrangler'
import { startWranglerDev, type WranglerDev } from '../support/wrangler-dev'

const BIN = join(projectRoot, 'bin', 'odoo-mcp.mjs')
const ADMIN_SECRET = `cli-odoo-${'0123456789abcdef'.repeat(3)}`
/** wrangler calls are slow on a busy machine; each test makes several. */
const SLOW = 300_000

let work: string
let d1: LocalD1
let credentialsKey: string
let gateway: WranglerDev | undefined
let policyFile: string

function cli(args: string[], input?: string): Promise<ProcessResult> {
  const env = { ...process.env, CREDENTIALS_KEY: credentialsKey, ODOO_MCP_GATEWAY_URL: gateway!.url, ODOO_MCP_ADMIN_SECRET: ADMIN_SECRET }
  return runNode(BIN, [...args, '--config', d1.configPath, '--persist-to', d1.persistTo], { env, input })
}

async function countPartners(key: string): Promise<{ isError: boolean; text: string }> {
  const response = await fetch(`${gateway!.url}/mcp`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
      authorization: `Bearer ${key}`,
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'count_records', arguments: { model: 'res.partner' } } }),
  })
  const body = (await response.json()) as { result?: { isError?: boolean; content?: { text?: string }[] } }
  return { isError: body.result?.isError === true, text: (body.result?.content ?? []).map((part) => part.text ?? '').join('') }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'odoo-mcp-cli-odoo-'))
  credentialsKey = generateCredentialsKey()
  d1 = { configPath: join(projectRoot, 'wrangler.toml'), persistTo: join(work, 'state') }
  await applySchema(d1)
  policyFile = join(work, 'policy.json')
  await writeFile(policyFile, JSON.stringify({ version: 1, models: { 'res.partner': { operations: ['read'], fields: ['name'] } } }))
  gateway = await startWranglerDev(
    d1.configPath,
    d1.persistTo,
    {
      ODOO_URL: inject('odooUrlJson2'),
      ODOO_DB: 'mcp_demo',
      ODOO_PROTOCOL: 'auto',
      CREDENTIALS_KEY: credentialsKey,
      ADMIN_SECRET,
      ALLOWED_ORIGINS: '',
    },
    '/healthz',
  )
}, SLOW)

afterAll(async () => {
  await gateway?.stop()
  if (work) await rm(work, { recursive: true, force: true })
}, 60_000)

describe('keys create, checked against Odoo through the gateway', () => {
  it('creates nothing for a wrong secret or login, says what Odoo said, and stores the uid of right credentials', async () => {
    const base = ['keys', 'create', '--name', 'checked', '--odoo-secret-file', '-', '--policy', policyFile]
    const wrongSecret = await cli([...base, '--odoo-login', 'sales_agent'], 'odoo-apikey-wrong-4711\n')
    expect(wrongSecret.code).toBe(1)
    expect(wrongSecret.stderr).toMatch(
      /^odoo-mcp: the Odoo credentials for 'sales_agent' were not accepted: Odoo refused the secret: over JSON-2 it must be the user's Odoo API key .*No key was created\.\n$/,
    )
    const wrongLogin = await cli([...base, '--odoo-login', 'sales_agnet'], 'odoo-apikey-sales_agent\n')
    expect(wrongLogin.code).toBe(1)
    expect(wrongLogin.stderr).toContain(
      "the Odoo credentials for 'sales_agnet' were not accepted: Odoo accepted the secret, but it is the API key of Odoo user 'sales_agent' (uid 8), not of 'sales_agnet'",
    )
    for (const result of [wrongSecret, wrongLogin]) {
      expect(result.stdout).toBe('')
      expect(result.stderr).not.toMatch(/odoo-apikey-/)
    }
    expect(await queryD1(d1, 'SELECT id FROM api_keys')).toEqual([])

    const created = await cli([...base, '--odoo-login', 'sales_agent', '--json'], 'odoo-apikey-sales_agent\n')
    expect(created.code, created.stderr).toBe(0)
    const { id, key, odooUid, verified } = JSON.parse(created.stdout) as { id: string; key: string; odooUid: number; verified: boolean }
    expect({ odooUid, verified }).toEqual({ odooUid: 8, verified: true })
    const shown = await cli(['keys', 'show', id])
    expect(shown.stdout).toMatch(/^Odoo uid:\s+8$/m)
    expect(await countPartners(key)).toMatchObject({ isError: false })
  }, SLOW)
})

describe('keys set-odoo-secret', () => {
  it('fixes the secret of a key created with a wrong one: checked, applied at once, recorded in the audit chain', async () => {
    const created = await cli(
      ['keys', 'create', '--name', 'typo', '--odoo-login', 'sales_agent', '--odoo-secret-file', '-', '--policy', policyFile, '--json', '--no-verify'],
      'odoo-apikey-sales-agent\n',
    )
    expect(created.code, created.stderr).toBe(0)
    const { id, key, odooUid } = JSON.parse(created.stdout) as { id: string; key: string; odooUid: number | null }
    expect(odooUid).toBeNull()
    expect((await countPartners(key)).isError).toBe(true)

    const stillWrong = await cli(['keys', 'set-odoo-secret', id, '--odoo-secret-file', '-'], 'odoo-apikey-sales-agent\n')
    expect(stillWrong.code).toBe(1)
    expect(stillWrong.stderr).toMatch(/were not accepted: Odoo refused the secret.*The key was not changed\./)

    const fixed = await cli(['keys', 'set-odoo-secret', id, '--odoo-secret-file', '-'], 'odoo-apikey-sales_agent\n')
    expect(fixed.code, fixed.stderr).toBe(0)
    expect(fixed.stderr).toBe(`Applied now: the gateway at ${gateway!.url} reloaded the key and recorded the change in its audit chain.\n`)
    expect(fixed.stdout).toBe(
      `Odoo secret of key ${id} (typo) replaced.\nOdoo credentials checked: Odoo accepted 'sales_agent' and its secret (Odoo uid 8).\n`,
    )
    // At once: no waiting for the key cache.
    expect(await countPartners(key)).toMatchObject({ isError: false, text: expect.stringMatching(/\d/) })
    const shown = JSON.parse((await cli(['keys', 'show', id, '--json'])).stdout) as { odooUid: number }
    expect(shown.odooUid).toBe(8)

    // The change is in the key's audit chain (records reach D1 about a second later), and the chain verifies.
    type Found = { method: string; code: string; outcome: string; odooUser: string }
    let change: Found | undefined
    for (let attempt = 0; attempt < 10 && !change; attempt++) {
      const found = JSON.parse((await cli(['audit', 'search', '--key', id, '--json'])).stdout) as Found[]
      change = found.find((record) => record.method === 'admin/set-odoo-secret')
      if (!change) await new Promise((resolve) => setTimeout(resolve, 1000))
    }
    expect(change).toMatchObject({ outcome: 'ok', code: 'odoo_credentials_verified', odooUser: 'sales_agent' })
    const verified = await cli(['audit', 'verify', '--key', id])
    expect(verified.code, verified.stdout + verified.stderr).toBe(0)
    expect(verified.stdout).toMatch(/no tampering found/)
  }, SLOW)
})
