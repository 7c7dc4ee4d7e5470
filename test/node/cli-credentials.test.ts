/**
 * `odoo-mcp credentials status|reseal` end to end: the real CLI against a real gateway (`wrangler dev`) deployed with
 * the new key B as CREDENTIALS_KEY and the old key A in CREDENTIALS_KEYS_PREVIOUS, over a D1 holding values sealed
 * under A (v2 and the old v1 format) and one sealed under a key the gateway does not have.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { quote } from '../../cli/sql'
import { generateApiKey, generateKeyId } from '../../src/keys/key-format'
import { credentialsKeyId, generateCredentialsKey, importCredentialsKey, sealSecret, sha256Hex } from '../../src/lib/crypto'
import { startCliGateway, type CliGateway } from '../support/cli-gateway'
import { WRANGLER_ENV } from '../support/wrangler'

/** Starting wrangler and each wrangler d1 call are slow on a busy machine. */
const SLOW = 300_000

const A = generateCredentialsKey()
const B = generateCredentialsKey()
const LOST = generateCredentialsKey()
const SUBSCRIPTION = 'whk_00000000000000aa'

let gateway: CliGateway | undefined
let idA: string
let idB: string
const keys: { id: string; key: string }[] = []
let lostKeyId: string
let lostKey: string

/** A v1 value (before key rings): `v1.<iv>.<ciphertext>`, no key id. */
async function sealV1(keyText: string, plaintext: string, context: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', Buffer.from(keyText, 'base64'), 'AES-GCM', false, ['encrypt'])
  const iv = crypto.getRandomValues(new Uint8Array(12))
  const data = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(context) }, key, new TextEncoder().encode(plaintext))
  return `v1.${Buffer.from(iv).toString('base64')}.${Buffer.from(data).toString('base64')}`
}

async function keySql(sealed: (id: string) => Promise<string>): Promise<{ id: string; key: string; sql: string }> {
  const id = generateKeyId()
  const { key, prefix } = generateApiKey()
  const now = Date.now()
  const policy = JSON.stringify({ version: 1, models: { 'res.partner': { operations: ['read'], fields: ['name'] } } })
  const sql =
    `INSERT INTO api_keys (id, name, prefix, odoo_login, odoo_secret, policy, created_at) VALUES (${quote(id)}, 'rotation', ${quote(prefix)}, 'admin', ${quote(await sealed(id))}, ${quote(policy)}, ${now});` +
    ` INSERT INTO api_key_secrets (key_hash, key_id, prefix, created_at) VALUES (${quote(await sha256Hex(key))}, ${quote(id)}, ${quote(prefix)}, ${now});`
  return { id, key, sql }
}

async function countPartners(key: string): Promise<{ isError: boolean; text: string }> {
  const response = await fetch(`${gateway!.url}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18', authorization: `Bearer ${key}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'count_records', arguments: { model: 'res.partner' } } }),
  })
  const body = (await response.json()) as { result?: { isError?: boolean; content?: { text?: string }[] } }
  return { isError: body.result?.isError === true, text: (body.result?.content ?? []).map((part) => part.text ?? '').join('') }
}

beforeAll(async () => {
  Object.assign(process.env, WRANGLER_ENV)
  ;[idA, idB] = await Promise.all([credentialsKeyId(A), credentialsKeyId(B)])
  gateway = await startCliGateway({ vars: { ODOO_URL: inject('odooUrl'), CREDENTIALS_KEY: B, CREDENTIALS_KEYS_PREVIOUS: A }, prefix: 'odoo-mcp-cli-credentials-' })
  const ringA = await importCredentialsKey(A)
  const ringLost = await importCredentialsKey(LOST)
  const made = [
    await keySql((id) => sealSecret(ringA, 'admin', id)),
    await keySql((id) => sealSecret(ringA, 'admin', id)),
    await keySql((id) => sealV1(A, 'admin', id)),
    await keySql((id) => sealSecret(ringLost, 'admin', id)),
  ]
  keys.push(...made.slice(0, 3))
  lostKeyId = made[3]!.id
  lostKey = made[3]!.key
  const subscription =
    `INSERT INTO webhook_subscriptions (id, url, models, events, fields, secret, created_at) VALUES (${quote(SUBSCRIPTION)}, 'https://hooks.example.com/x', '["res.partner"]', NULL, '"*"', ` +
    `${quote(await sealSecret(ringA, 'whsec_test', SUBSCRIPTION))}, ${Date.now()});`
  await gateway.query(made.map((one) => one.sql).join(' ') + ' ' + subscription)
}, SLOW)

afterAll(async () => {
  await gateway?.stop()
})

describe('odoo-mcp credentials', () => {
  it('status --json counts the values per key id, what is left to re-seal, and names the one no key opens', async () => {
    const result = await gateway!.cli(['credentials', 'status', '--json'])
    expect(result.code, result.stderr).toBe(0)
    const status = JSON.parse(result.stdout) as Record<string, unknown> & { unreadableValues: Record<string, unknown>[] }
    expect(status).toMatchObject({
      currentKeyId: idB,
      previousKeyIds: [idA],
      sealedValues: 5,
      toReseal: 4,
      unreadable: 1,
      unreadableInUse: 1,
      keyIds: [
        { keyId: idB, role: 'current', values: 0, v1Format: 0 },
        { keyId: idA, role: 'previous', values: 4, v1Format: 1 },
      ],
    })
    expect(status.unreadableValues).toEqual([
      {
        table: 'api_keys',
        column: 'odoo_secret',
        id: lostKeyId,
        keyId: await credentialsKeyId(LOST),
        problem: 'unknown_key_id',
        inUse: true,
        fix: `odoo-mcp keys set-odoo-secret ${lostKeyId}`,
        restorable: true,
      },
    ])
    expect(result.stdout).not.toMatch(/whsec_|"admin"|v[12]\./)
  }, SLOW)

  it('reseal --json moves everything it can open under the current key, lists the rest, and exits 1 for it', async () => {
    for (const key of keys) expect((await countPartners(key.key)).isError).toBe(false)
    const result = await gateway!.cli(['credentials', 'reseal', '--json'])
    expect(result.code, result.stderr).toBe(1)
    expect(result.stderr).toContain('1 sealed value(s) could not be opened')
    const answer = JSON.parse(result.stdout) as { keyId: string; examined: number; resealed: number; alreadyCurrent: number; applied: boolean; unreadable: { id: string }[] }
    expect(answer).toMatchObject({ keyId: idB, examined: 5, resealed: 4, alreadyCurrent: 0, applied: true })
    expect(answer.unreadable.map((value) => value.id)).toEqual([lostKeyId])

    const rows = await gateway!.query(`SELECT id, odoo_secret AS sealed FROM api_keys UNION ALL SELECT id, secret FROM webhook_subscriptions`)
    for (const row of rows) {
      if (row.id === lostKeyId) expect(String(row.sealed)).toMatch(new RegExp(`^v2\\.${await credentialsKeyId(LOST)}\\.`))
      else expect(String(row.sealed)).toMatch(new RegExp(`^v2\\.${idB}\\.`))
    }
    // The keys work on, now under B (their objects reloaded).
    for (const key of keys) expect((await countPartners(key.key)).isError).toBe(false)
    // The one no key opens: the agent is told which key, why, and the fix.
    const lost = await countPartners(lostKey)
    expect(lost.isError).toBe(true)
    expect(lost.text).toContain(`cannot read the stored Odoo credentials of key ${lostKeyId} (sealed under key id ${await credentialsKeyId(LOST)}`)
    expect(lost.text).toContain(`odoo-mcp keys set-odoo-secret ${lostKeyId}`)
  }, SLOW)

  it('status then shows nothing under the old key id, and a second reseal has nothing to do once the lost value is gone', async () => {
    const status = await gateway!.cli(['credentials', 'status'])
    expect(status.code, status.stderr).toBe(0)
    expect(status.stdout).toContain('Nothing to re-seal: every readable value is under the current key.')
    expect(status.stdout).toContain(`Nothing is sealed under ${idA}: it can leave CREDENTIALS_KEYS_PREVIOUS.`)
    expect(status.stdout).toMatch(new RegExp(`api_keys\\s+odoo_secret\\s+${lostKeyId}\\s+[0-9a-f]{8}\\s+yes\\s+odoo-mcp keys set-odoo-secret ${lostKeyId}\n`))
    expect(status.stdout).toContain('Each also opens again if the key it was sealed under is added back to CREDENTIALS_KEYS_PREVIOUS.')
    expect(status.stdout).toMatch(new RegExp(`${idA}\\s+previous\\s+0\\s+0`))

    await gateway!.query(`DELETE FROM api_key_secrets WHERE key_id = ${quote(lostKeyId)}; DELETE FROM api_keys WHERE id = ${quote(lostKeyId)}`)
    const again = await gateway!.cli(['credentials', 'reseal'])
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toContain(`Re-sealed 0 value(s) under key id ${idB}; 4 already were (4 examined).`)
  }, SLOW)
})
