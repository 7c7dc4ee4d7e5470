/** Helpers for tests that drive the real Worker (exports.default) against the simulated Odoo on loopback. */
import { env, exports } from 'cloudflare:workers'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { generateApiKey, generateKeyId } from '../../src/keys/key-format'
import { importCredentialsKey, sealSecret, sha256Hex } from '../../src/lib/crypto'

export const GATEWAY = 'http://gateway.test'
export const MCP_URL = `${GATEWAY}/mcp`

/** The simulator's per-user Odoo API keys (see test/odoo-sim/README.md). */
export const odooApiKey = (login: string) => `odoo-apikey-${login}`

export interface TestKeyOptions {
  login?: string
  /** Odoo secret bound to the key; defaults to the user's password (= login) in the simulator. */
  secret?: string
  policy?: unknown
  expiresAt?: number | null
  revokedAt?: number | null
  name?: string
}

export interface TestKey {
  id: string
  key: string
}

/** Inserts a key the way the CLI does (hash only, sealed secret) and returns the plaintext key. */
export async function createTestKey(options: TestKeyOptions = {}): Promise<TestKey> {
  const login = options.login ?? 'admin'
  const { key, prefix } = generateApiKey()
  const id = generateKeyId()
  const sealed = await sealSecret(await importCredentialsKey(env.CREDENTIALS_KEY), options.secret ?? login, id)
  const now = Date.now()
  await env.DB.batch([
    env.DB.prepare(
      `INSERT INTO api_keys (id, name, prefix, odoo_login, odoo_secret, policy, created_at, expires_at, revoked_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)`,
    ).bind(
      id,
      options.name ?? `test ${login}`,
      prefix,
      login,
      sealed,
      options.policy === undefined ? null : JSON.stringify(options.policy),
      now,
      options.expiresAt ?? null,
      options.revokedAt ?? null,
    ),
    env.DB.prepare('INSERT INTO api_key_secrets (key_hash, key_id, prefix, created_at) VALUES (?1, ?2, ?3, ?4)').bind(
      await sha256Hex(key),
      id,
      prefix,
      now,
    ),
  ])
  return { id, key }
}

export function gatewayFetch(input: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(input, init))
}

/** POSTs one raw JSON-RPC body to /mcp with the usual MCP headers. */
export function postMcp(key: string | undefined, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return gatewayFetch(MCP_URL, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
}

/** Calls a tool with a raw tools/call request; returns the parsed result and the raw body (to search for leaks). */
export async function callTool(key: string, name: string, args: Record<string, unknown>) {
  const response = await postMcp(key, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } })
  const raw = await response.text()
  const body = JSON.parse(raw) as { result?: CallToolResult; error?: { code: number; message: string } }
  return { status: response.status, raw, body, result: body.result, text: textOf(body.result) }
}

export function textOf(result: CallToolResult | undefined): string {
  return (result?.content ?? []).map((part) => (part.type === 'text' ? part.text : '')).join('\n')
}

/** A connected SDK client that talks to the Worker in-process (the real Streamable HTTP client transport). */
export async function connectClient(key: string, protocolVersion?: string): Promise<Client> {
  const client = new Client({ name: 'vitest', version: '1.0.0' })
  const transport = new StreamableHTTPClientTransport(new URL(MCP_URL), {
    requestInit: { headers: { authorization: `Bearer ${key}` } },
    fetch: (input, init) => gatewayFetch(String(input instanceof Request ? input.url : input), init),
  })
  if (protocolVersion) transport.setProtocolVersion(protocolVersion)
  await client.connect(transport)
  return client
}

/** Control endpoints of the simulator (reset data, inspect the calls it received). */
export const sim = {
  async reset(url = env.ODOO_URL): Promise<void> {
    await fetch(`${url}/__sim/reset`, { method: 'POST' })
  },
  async calls(url = env.ODOO_URL): Promise<SimCall[]> {
    return (await (await fetch(`${url}/__sim/calls`)).json()) as SimCall[]
  },
  /** Only the calls whose JSON holds `text` (cheap whatever the size of the log). */
  async callsContaining(text: string, url = env.ODOO_URL): Promise<SimCall[]> {
    return (await (await fetch(`${url}/__sim/calls?containing=${encodeURIComponent(text)}`)).json()) as SimCall[]
  },
  async clearCalls(url = env.ODOO_URL): Promise<void> {
    await fetch(`${url}/__sim/calls/clear`, { method: 'POST' })
  },
}

export interface SimCall {
  protocol: 'jsonrpc' | 'json2'
  service?: string
  method: string
  model?: string
  args?: unknown[]
  kwargs?: Record<string, unknown>
  [key: string]: unknown
}
