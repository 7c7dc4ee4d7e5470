/**
 * The whole product as a user runs it: keys made with the real CLI, the real `wrangler dev`, the MCP SDK's own
 * client over HTTP, and the simulated Odoo 18 on loopback. Also the CLI round trip: create, use, change the policy,
 * rotate under traffic, revoke, refused — each change applied at once through the admin channel.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'

import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { generateCredentialsKey } from '../../src/lib/crypto'
import { freePort } from '../support/ports'
import { applySchema, projectRoot, queryD1, runNode, WRANGLER_ENV, wranglerBin, type LocalD1 } from '../support/wrangler'

const BIN = join(projectRoot, 'bin', 'odoo-mcp.mjs')
const SALES_POLICY = {
  version: 1,
  models: {
    'sale.order': { operations: ['read'], fields: ['name', 'state', 'amount_total', 'partner_id', 'user_id'] },
    'res.partner': { operations: ['read'], fields: ['name'] },
  },
}

let work: string
let d1: LocalD1
let credentialsKey: string
let wrangler: ChildProcess | undefined
let wranglerOutput = ''
let baseUrl: string
const adminSecret = `e2e-admin-${'0123456789abcdef'.repeat(3)}`

/** Runs the CLI against the gateway's D1; key changes must have reached the gateway through the admin channel. */
async function cli(args: string[]) {
  const env = { ...process.env, CREDENTIALS_KEY: credentialsKey, ODOO_MCP_GATEWAY_URL: baseUrl, ODOO_MCP_ADMIN_SECRET: adminSecret }
  const result = await runNode(BIN, [...args, '--persist-to', d1.persistTo], { env })
  expect(result.code, result.stderr).toBe(0)
  if (['revoke', 'rotate', 'set'].includes(args[1] === 'policy' ? args[2]! : args[1]!)) {
    expect(result.stderr).toMatch(/^Applied now: the gateway at http:\/\/127\.0\.0\.1:\d+ reloaded the key\.\n$/)
  }
  return result.stdout
}

async function writePolicy(name: string, policy: unknown): Promise<string> {
  const path = join(work, name)
  await writeFile(path, JSON.stringify(policy))
  return path
}

/** `odoo-mcp keys create --json` for an Odoo user whose password is its login (the simulator's users). */
async function createKey(name: string, login: string, policy: unknown): Promise<{ id: string; key: string }> {
  const slug = name.replace(/\W+/g, '-')
  const secretFile = join(work, `secret-${slug}.txt`)
  await writeFile(secretFile, `${login}\n`)
  const policyFile = await writePolicy(`policy-${slug}.json`, policy)
  return JSON.parse(
    await cli(['keys', 'create', '--name', name, '--odoo-login', login, '--odoo-secret-file', secretFile, '--policy', policyFile, '--json']),
  ) as { id: string; key: string }
}

async function connect(key: string): Promise<Client> {
  const client = new Client({ name: 'e2e', version: '1.0.0' })
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${key}` } } }),
  )
  return client
}

const text = (result: CallToolResult) => result.content.map((part) => (part.type === 'text' ? part.text : '')).join('')

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'odoo-mcp-e2e-'))
  credentialsKey = generateCredentialsKey()
  d1 = { configPath: join(projectRoot, 'wrangler.toml'), persistTo: join(work, 'state') }
  await applySchema(d1)
  const port = await freePort()
  baseUrl = `http://127.0.0.1:${port}`
  const vars = {
    ODOO_URL: inject('odooUrl'),
    ODOO_DB: 'mcp_demo',
    ODOO_PROTOCOL: 'auto',
    CREDENTIALS_KEY: credentialsKey,
    ALLOWED_ORIGINS: '',
    ADMIN_SECRET: adminSecret,
  }
  wrangler = spawn(
    process.execPath,
    [
      wranglerBin, 'dev', '--config', d1.configPath, '--persist-to', d1.persistTo, '--ip', '127.0.0.1', '--port', String(port),
      '--show-interactive-dev-session=false', ...Object.entries(vars).flatMap(([name, value]) => ['--var', `${name}:${value}`]),
    ],
    { cwd: projectRoot, env: { ...process.env, ...WRANGLER_ENV, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  wrangler.stdout!.setEncoding('utf8').on('data', (chunk: string) => (wranglerOutput += chunk))
  wrangler.stderr!.setEncoding('utf8').on('data', (chunk: string) => (wranglerOutput += chunk))
  const deadline = Date.now() + 90_000
  for (;;) {
    try {
      if ((await fetch(`${baseUrl}/healthz`)).ok) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || wrangler.exitCode !== null) throw new Error(`wrangler dev did not start:\n${wranglerOutput}`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}, 120_000)

afterAll(async () => {
  if (wrangler && wrangler.exitCode === null) {
    const exited = new Promise((resolve) => wrangler!.once('exit', resolve))
    wrangler.kill('SIGTERM')
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))])
    if (wrangler.exitCode === null) wrangler.kill('SIGKILL')
  }
  if (work) await rm(work, { recursive: true, force: true })
})

describe('wrangler dev + MCP SDK client + CLI', () => {
  it('serves a sales agent exactly his Odoo rights, narrowed by his policy, until the key is revoked', async () => {
    const created = await createKey('e2e sales agent', 'sales_agent', SALES_POLICY)

    const client = await connect(created.key)
    const { tools } = await client.listTools()
    expect(tools.map((tool) => tool.name)).toContain('search_records')

    // Odoo's record rule: only his own orders.
    const own = await client.callTool({ name: 'search_records', arguments: { model: 'sale.order', fields: ['name', 'user_id'] } })
    expect(own.isError, text(own as CallToolResult)).toBeFalsy()
    const records = (own.structuredContent as { records: { id: number; user_id: unknown }[] }).records
    expect(records.map((r) => r.id).sort()).toEqual([1, 2, 3])
    // res.users is not in his policy: the salesman comes back as a bare id.
    expect(records.every((r) => r.user_id === 8)).toBe(true)

    // Odoo's own refusal of another salesman's order.
    const other = await client.callTool({ name: 'read_records', arguments: { model: 'sale.order', ids: [5], fields: ['name'] } })
    expect(other.isError).toBe(true)
    expect(text(other as CallToolResult)).toMatch(/^Odoo AccessError: Uh-oh!/)

    // The policy refuses a field Odoo would have served.
    const hidden = await client.callTool({ name: 'search_records', arguments: { model: 'res.partner', fields: ['email'] } })
    expect(text(hidden as CallToolResult)).toMatch(/Field 'email' of model 'res.partner' is not allowed/)

    // A policy change through the CLI applies to the very next request (the CLI tells the gateway).
    const wider = { ...SALES_POLICY, models: { ...SALES_POLICY.models, 'res.partner': { operations: ['read'], fields: ['name', 'email'] } } }
    await cli(['keys', 'policy', 'set', created.id, '--policy', await writePolicy('wider.json', wider)])
    expect(JSON.parse(await cli(['keys', 'policy', 'show', created.id]))).toEqual(wider)
    const allowed = await client.callTool({ name: 'search_records', arguments: { model: 'res.partner', fields: ['email'], limit: 2 } })
    expect(allowed.isError, text(allowed as CallToolResult)).toBeFalsy()

    // Revocation: refused from the next request on, with 401 and a Bearer challenge.
    await cli(['keys', 'revoke', created.id])
    const refused = await fetch(`${baseUrl}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${created.key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    })
    expect(refused.status).toBe(401)
    expect(refused.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="odoo-mcp-edge", error="invalid_token", error_description="This API key was revoked \(\d{4}-[^"]+\)\. Ask the gateway administrator for a new key\."$/,
    )
    await expect(client.listTools()).rejects.toThrow(/This API key was revoked/)
    await client.close()

    // A client that answers the 401 with OAuth discovery (Inspector's web UI, mcp-remote) ends on the gateway's words.
    const transport = new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), {
      requestInit: { headers: { Authorization: `Bearer ${created.key}` } },
      authProvider: {
        redirectUrl: 'http://localhost:6274/oauth/callback',
        clientMetadata: { client_name: 'e2e', redirect_uris: ['http://localhost:6274/oauth/callback'] },
        clientInformation: () => undefined,
        saveClientInformation: () => {},
        tokens: () => undefined,
        saveTokens: () => {},
        redirectToAuthorization: () => {
          throw new Error('the gateway has no OAuth: the client must never be sent to authorize')
        },
        saveCodeVerifier: () => {},
        codeVerifier: () => 'verifier',
      },
    })
    await expect(new Client({ name: 'e2e', version: '1.0.0' }).connect(transport)).rejects.toThrow(
      /^This gateway does not offer OAuth sign-in \(its administrator has not set PUBLIC_URL\): it takes API keys\. The key this client sends is well-formed/,
    )
  })

  it('takes client addresses from CF-Connecting-IP and ignores X-Forwarded-For', async () => {
    const { key } = await createKey('e2e ip', 'admin', { ...SALES_POLICY, ip: { allow: ['203.0.113.0/24'] } })
    const ping = (headers: Record<string, string>) =>
      fetch(`${baseUrl}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json', ...headers },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      })
    // Locally wrangler dev fills CF-Connecting-IP from the socket (127.0.0.1), so a forged X-Forwarded-For changes nothing.
    const spoofed = await ping({ 'x-forwarded-for': '203.0.113.5', 'x-real-ip': '203.0.113.5', 'true-client-ip': '203.0.113.5' })
    expect(spoofed.status).toBe(403)
    expect(await spoofed.json()).toMatchObject({ error: 'ip_not_allowed' })
    expect((await ping({ 'cf-connecting-ip': '203.0.113.5' })).status).toBe(200)
  })

  it('rotates a key under continuous traffic with zero failed requests, then retires the old secret', async () => {
    const created = await createKey('e2e rotate', 'admin', { ...SALES_POLICY, rateLimit: { perMinute: 100_000 } })
    const ping = (key: string) =>
      fetch(`${baseUrl}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      })
    let current = created.key
    let done = false
    let sent = 0
    const failures: string[] = []
    const client = async () => {
      while (!done) {
        const response = await ping(current)
        sent++
        if (response.status !== 200) failures.push(`${response.status} ${await response.text()}`)
        else await response.arrayBuffer()
      }
    }
    const clients = Promise.all([client(), client(), client(), client()])
    while (sent < 20) await new Promise((resolve) => setTimeout(resolve, 20))

    const rotated = JSON.parse(await cli(['keys', 'rotate', created.id, '--grace', '1h', '--json'])) as {
      id: string
      key: string
      graceEndsAt: string
    }
    expect(rotated.id).toBe(created.id)
    const sentBeforeSwitch = sent
    current = rotated.key
    while (sent < sentBeforeSwitch + 40) await new Promise((resolve) => setTimeout(resolve, 20))
    done = true
    await clients
    expect(failures).toEqual([])

    // Both secrets work during the grace period; ending it (rotate again, no grace) refuses the older ones at once.
    expect((await ping(created.key)).status).toBe(200)
    const again = JSON.parse(await cli(['keys', 'rotate', created.id, '--grace', '0s', '--json'])) as { key: string }
    const old = await ping(created.key)
    expect(old.status).toBe(401)
    expect(((await old.json()) as { message: string }).message).toMatch(/rotated/)
    expect((await ping(rotated.key)).status).toBe(401)
    expect((await ping(again.key)).status).toBe(200)
  })

  it('records every call in the audit log, searchable and verifiable, and catches a deleted tail', async () => {
    const created = await createKey('e2e audit', 'sales_agent', SALES_POLICY)
    const client = await connect(created.key)
    const found = await client.callTool({ name: 'search_records', arguments: { model: 'sale.order', fields: ['name'] } })
    expect(found.isError, text(found as CallToolResult)).toBeFalsy()
    const refused = await client.callTool({ name: 'search_records', arguments: { model: 'res.partner', fields: ['email'] } })
    expect(refused.isError).toBe(true)
    await client.close()

    // Records reach D1 about a second after their request.
    type Found = { tool: string | null; method: string; outcome: string; code: string | null; recordIds: number[]; odooUser: string; clientInfo: string | null }
    let records: Found[] = []
    for (let attempt = 0; attempt < 20 && records.filter((r) => r.tool).length < 2; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 500))
      records = JSON.parse(await cli(['audit', 'search', '--key', created.id, '--json'])) as Found[]
    }
    const calls = records.filter((record) => record.tool === 'search_records')
    expect(calls.map((record) => record.outcome).sort()).toEqual(['denied', 'ok'])
    expect(calls.find((record) => record.outcome === 'ok')!.recordIds.sort()).toEqual([1, 2, 3])
    expect(calls.find((record) => record.outcome === 'denied')!.code).toBe('policy_denied')
    expect(records.every((record) => record.odooUser === 'sales_agent')).toBe(true)
    expect(records.some((record) => record.method === 'initialize' && record.clientInfo === 'e2e/1.0.0')).toBe(true)

    const env = { ...process.env, CREDENTIALS_KEY: credentialsKey, ODOO_MCP_GATEWAY_URL: baseUrl, ODOO_MCP_ADMIN_SECRET: adminSecret }
    const verify = () => runNode(BIN, ['audit', 'verify', '--key', created.id, '--persist-to', d1.persistTo], { env })
    const clean = await verify()
    expect(clean.code, clean.stdout + clean.stderr).toBe(0)
    expect(clean.stderr).not.toMatch(/not checked/)
    // Deleting the newest record leaves a perfectly linked chain: only the head kept by the key object tells.
    await queryD1(d1, `DELETE FROM audit_log WHERE chain_id = '${created.id}' AND seq = (SELECT MAX(seq) FROM audit_log WHERE chain_id = '${created.id}')`)
    const truncated = await verify()
    expect(truncated.code).toBe(1)
    expect(truncated.stdout).toMatch(/DELETED \(the gateway wrote up to #\d+\)/)
  })
})
