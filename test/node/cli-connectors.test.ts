/**
 * `odoo-mcp connectors ...` and `odoo-mcp connections ...` end to end: the real CLI against a real gateway
 * (`wrangler dev` with its own local D1 and OAuth on, test/support/cli-gateway.ts), through the admin API. What the
 * CLI refuses before any request is tested too; D1 is read and seeded with wrangler (other code than the CLI under
 * test): connections are written as the gateway's sign-in writes them.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startCliGateway, type CliGateway } from '../support/cli-gateway'
import { freePort } from '../support/ports'
import type { ProcessResult } from '../support/wrangler'

const POLICY = { version: 1, models: { 'res.partner': { operations: ['read'], fields: ['name', 'email'] } } }

let gateway: CliGateway
let policyFile: string

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ProcessResult> {
  return gateway.cli(args, { env })
}

function json<T>(result: ProcessResult): T {
  expect(result.code, result.stderr).toBe(0)
  return JSON.parse(result.stdout) as T
}

/** A connection row as the gateway's sign-in writes it (oauth/connection-store.ts saveConnection). */
function connectionSql(id: string, profile: string, login: string, options: { expiresIn?: number; revoked?: string } = {}): string {
  const now = Date.now()
  const revoked = options.revoked ? `${now - 1000}, '${options.revoked}'` : 'NULL, NULL'
  return `INSERT INTO connections (id, profile, client_id, client_name, redirect_uri, grant_id, odoo_login, odoo_secret, odoo_uid,
                                   created_at, expires_at, revoked_at, revoked_reason)
          VALUES ('${id}', '${profile}', 'client-${id}', 'Claude', 'https://claude.ai/api/mcp/auth_callback', 'grant${id.slice(4)}',
                  '${login}', 'v1.sealed', 2, ${now - 60_000}, ${now + (options.expiresIn ?? 86_400_000)}, ${revoked})`
}

beforeAll(async () => {
  // PUBLIC_URL turns OAuth on, so a revocation drops the connection's grant too (the CLI reaches the gateway at its
  // loopback URL all the same: only the OAuth URLs answer at PUBLIC_URL alone).
  gateway = await startCliGateway({ vars: { ODOO_URL: inject('odooUrl'), ODOO_PROTOCOL: 'jsonrpc', PUBLIC_URL: 'https://gateway.test' }, prefix: 'odoo-mcp-connectors-' })
  policyFile = join(gateway.work, 'policy.json')
  await writeFile(policyFile, JSON.stringify(POLICY))
}, 180_000)

afterAll(async () => {
  await gateway?.stop()
}, 60_000)

describe('connectors add: what is refused before any request', () => {
  it('refuses a bad name, a missing or doubled choice of logins, bad redirect URIs and lifetimes, with the reason', async () => {
    const base = ['connectors', 'add', 'sales', '--policy']
    const cases: [string[], RegExp][] = [
      [['connectors', 'add', 'Sales_Team', '--policy', 'p.json', '--any-login'], /'Sales_Team' is not a valid connector name/],
      [[...base, 'p.json', '--logins', 'admin', '--any-login'], /either --logins LOGIN,\.\.\. or --any-login, not both/],
      [[...base, 'p.json'], /say who may sign in: --logins LOGIN,\.\.\. .* or --any-login/],
      [[...base, 'p.json', '--logins', ' , '], /--logins needs at least one Odoo login/],
      [[...base, 'p.json', '--any-login', '--redirect-uri', 'https://claude.ai/cb', '--redirect-uri', 'http://example.com/cb'], /--redirect-uri 'http:\/\/example\.com\/cb' must be https \(plain http only on localhost/],
      [[...base, 'p.json', '--any-login', '--redirect-uri', 'https://claude.ai/cb#frag'], /must not have a fragment/],
      [[...base, 'p.json', '--any-login', '--redirect-uri', 'not a url'], /spaces or control characters|is not a URL/],
      [[...base, 'p.json', '--any-login', '--token-ttl', '4m'], /--token-ttl must be from 5m to 24h \(got '4m'\)/],
      [[...base, 'p.json', '--any-login', '--token-ttl', '25h'], /--token-ttl must be from 5m to 24h/],
      [[...base, 'p.json', '--any-login', '--token-ttl', '1 hour'], /--token-ttl must be a duration such as 30m/],
      [[...base, 'p.json', '--any-login', '--connection-ttl', '30m'], /--connection-ttl must be from 1h to 365d/],
      [[...base, 'p.json', '--any-login', '--connection-ttl', '366d'], /--connection-ttl must be from 1h to 365d/],
      [['connectors', 'add', 'sales', '--any-login'], /missing --policy FILE/],
    ]
    for (const [args, message] of cases) {
      const result = await cli(args)
      expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(2)
      expect(result.stderr, args.join(' ')).toMatch(message)
    }
  })

  it('refuses an invalid policy, naming the JSON path of each problem', async () => {
    const bad = join(gateway.work, 'bad-policy.json')
    await writeFile(bad, JSON.stringify({ version: 1, models: { 'res.partner': { operations: ['read', 'frobnicate'], fields: ['name'] } } }))
    const result = await cli(['connectors', 'add', 'sales', '--policy', bad, '--any-login'])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(`${bad} is not a valid policy:`)
    expect(result.stderr).toMatch(/\$\.models\["res\.partner"\]\.operations\[1\]: /)
  })

  it('takes only a connection ID for revoke, and never echoes the secret part of a pasted token', async () => {
    const token = `con_0123456789abcdef:${'g'.repeat(16)}:${'s'.repeat(32)}`
    const pasted = await cli(['connections', 'revoke', token])
    expect(pasted.code).toBe(2)
    expect(pasted.stderr).toMatch(/that is an OAuth token, not a connection ID/)
    expect(pasted.stderr).not.toContain('s'.repeat(32))
    expect((await cli(['connections', 'revoke', 'key_0123456789abcdef'])).stderr).toMatch(/is not a connection ID/)
  })
})

interface ProfileJson {
  name: string
  logins: string[] | null
  clientName: string | null
  redirectUris: string[]
  tokenTtlSeconds: number
  connectionTtlSeconds: number
  liveConnections: number
  policy?: unknown
  connections?: { id: string }[]
}

interface ConnectionJson {
  id: string
  profile: string
  clientName: string
  odooLogin: string
  redirectUri: string
  status: string
  revokedReason: string | null
}

describe('connectors and connections', () => {
  it('adds a profile as the gateway reads it, lists and shows it, and refuses a second active one of that name', async () => {
    const added = json<ProfileJson>(
      await cli([
        'connectors', 'add', 'sales', '--policy', policyFile, '--logins', 'admin, sales_agent,admin', '--client-name', 'Claude',
        '--redirect-uri', 'https://claude.ai/api/mcp/auth_callback', '--redirect-uri', 'http://localhost/callback',
        '--token-ttl', '30m', '--connection-ttl', '7d', '--json',
      ]),
    )
    expect(added).toMatchObject({ name: 'sales', logins: ['admin', 'sales_agent'], tokenTtlSeconds: 1800, connectionTtlSeconds: 604_800 })
    const [row] = await gateway.query("SELECT * FROM connector_profiles WHERE name = 'sales'")
    expect(row).toMatchObject({
      policy: JSON.stringify(POLICY),
      logins: '["admin","sales_agent"]',
      client_name: 'Claude',
      redirect_uris: '["https://claude.ai/api/mcp/auth_callback","http://localhost/callback"]',
      token_ttl_seconds: 1800,
      connection_ttl_seconds: 604_800,
      removed_at: null,
    })
    // Recorded in the admin log, with who signed the request and the policy and settings.
    const [record] = await gateway.query("SELECT action, actor, after FROM admin_audit WHERE target = 'sales'")
    expect(record).toMatchObject({ action: 'connectors.add', actor: 'secret:cli-test' })
    expect(JSON.parse(String(record!.after))).toMatchObject({ policy: POLICY, logins: ['admin', 'sales_agent'], token_ttl_seconds: 1800 })

    const text = await cli(['connectors', 'add', 'open', '--policy', policyFile, '--any-login'])
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toMatch(/^Added connector open: any Odoo user may sign in\.\nTokens last 1h; a connection signs in again after 30d\./)
    const open = json<ProfileJson>(await cli(['connectors', 'show', 'open', '--json']))
    expect(open).toMatchObject({ logins: null, clientName: null, redirectUris: [], tokenTtlSeconds: 3600, connectionTtlSeconds: 30 * 86_400 })

    const again = await cli(['connectors', 'add', 'sales', '--policy', policyFile, '--any-login'])
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/a connector named sales already exists: remove it first/)

    const table = await cli(['connectors', 'list'])
    expect(table.stdout).toMatch(/^NAME\s+LOGINS\s+CLIENT\s+REDIRECT URIS\s+TOKEN TTL\s+LIVE\s+CREATED$/m)
    expect(table.stdout).toMatch(/^open\s+any\s+any\s+any\s+1h\s+0\s+\d{4}-/m)
    expect(table.stdout).toMatch(/^sales\s+admin,sales_agent\s+Claude\s+2\s+30m\s+0\s+\d{4}-/m)

    const shown = json<ProfileJson>(await cli(['connectors', 'show', 'sales', '--json']))
    expect(shown.policy).toEqual(POLICY)
    expect(shown.connections).toEqual([])
    const details = await cli(['connectors', 'show', 'sales'])
    expect(details.stdout).toMatch(/^Redirect URIs:\s+https:\/\/claude\.ai\/api\/mcp\/auth_callback\n\s+http:\/\/localhost\/callback$/m)
    expect(details.stdout).toContain('"res.partner"')
    expect((await cli(['connectors', 'show', 'nobody'])).stderr).toMatch(/no connector named nobody/)
  })

  it('lists live connections, all of them with --all, and revokes one, applied at once', async () => {
    await gateway.query(
      [
        connectionSql('con_00000000000000a1', 'sales', 'admin'),
        connectionSql('con_00000000000000a2', 'sales', 'sales_agent'),
        connectionSql('con_00000000000000a3', 'sales', 'admin', { expiresIn: -1000 }),
        connectionSql('con_00000000000000a4', 'sales', 'admin', { revoked: 'client' }),
        connectionSql('con_00000000000000b1', 'open', 'demo'),
      ].join(';\n'),
    )
    const live = json<ConnectionJson[]>(await cli(['connections', 'list', '--json']))
    expect(live.map((connection) => connection.id)).toEqual(['con_00000000000000a1', 'con_00000000000000a2', 'con_00000000000000b1'])
    // What an administrator needs to pin a client: its redirect URI.
    expect(live[0]).toMatchObject({ profile: 'sales', clientName: 'Claude', odooLogin: 'admin', redirectUri: 'https://claude.ai/api/mcp/auth_callback' })
    const ofSales = json<ConnectionJson[]>(await cli(['connections', 'list', '--profile', 'sales', '--all', '--json']))
    expect(ofSales.map(({ id, status, revokedReason }) => [id, status, revokedReason])).toEqual([
      ['con_00000000000000a1', 'live', null],
      ['con_00000000000000a2', 'live', null],
      ['con_00000000000000a3', 'expired', null],
      ['con_00000000000000a4', 'revoked', 'client'],
    ])
    const table = await cli(['connections', 'list', '--all'])
    expect(table.stdout).toMatch(/^ID\s+PROFILE\s+CLIENT\s+ODOO LOGIN\s+CREATED\s+EXPIRES\s+LAST USED\s+STATUS$/m)
    expect(table.stdout).toMatch(/^con_00000000000000a4\s+sales\s+Claude\s+admin\s.*revoked \(client\)$/m)
    const shown = json<ProfileJson>(await cli(['connectors', 'show', 'sales', '--json']))
    expect(shown.liveConnections).toBe(2)
    expect(shown.connections!.map((connection) => connection.id)).toEqual(['con_00000000000000a1', 'con_00000000000000a2'])

    const revoked = await cli(['connections', 'revoke', 'con_00000000000000a1', '--json'])
    expect(json<{ alreadyRevoked: boolean; revokedReason: string }>(revoked)).toMatchObject({ alreadyRevoked: false, revokedReason: 'admin' })
    expect(revoked.stderr).toBe('Applied now: the gateway reloaded the connection and dropped its OAuth grant.\n')
    const [row] = await gateway.query("SELECT revoked_at, revoked_reason FROM connections WHERE id = 'con_00000000000000a1'")
    expect(row!.revoked_reason).toBe('admin')
    expect(Number(row!.revoked_at)).toBeGreaterThan(Date.now() - 60_000)
    const [record] = await gateway.query("SELECT action, actor FROM admin_audit WHERE target = 'con_00000000000000a1'")
    expect(record).toEqual({ action: 'connections.revoke', actor: 'secret:cli-test' })

    // Again: nothing changes and nothing is recorded; the gateway applies it again all the same.
    const again = await cli(['connections', 'revoke', 'con_00000000000000a1'])
    expect(again.code).toBe(0)
    expect(again.stdout).toMatch(/^Connection con_00000000000000a1 \(Claude as admin, connector sales\) was already revoked on .* \(admin\)\.$/m)
    expect(await gateway.query("SELECT COUNT(*) AS n FROM admin_audit WHERE target = 'con_00000000000000a1'")).toEqual([{ n: 1 }])

    // A gateway that cannot be reached changes nothing: the CLI no longer writes D1 itself.
    const closed = `http://127.0.0.1:${await freePort()}`
    const unreachable = await cli(['connections', 'revoke', 'con_00000000000000a2', '--gateway', closed])
    expect(unreachable.code).toBe(1)
    expect(unreachable.stderr).toContain(`cannot reach the local gateway at ${closed}`)
    expect(await gateway.query("SELECT revoked_at FROM connections WHERE id = 'con_00000000000000a2'")).toEqual([{ revoked_at: null }])
    expect((await cli(['connections', 'revoke', 'con_ffffffffffffffff'])).stderr).toMatch(/no connection with ID con_ffffffffffffffff/)
  })

  it('removes a profile: its connections are revoked and applied at once; the name is not added again', async () => {
    const removed = await cli(['connectors', 'remove', 'sales', '--json'])
    // Every connection not yet revoked (the expired one too, so none comes back with the name); a1 and a4 already were.
    expect(json<{ revokedConnections: string[]; appliedNow: boolean }>(removed)).toEqual({
      name: 'sales',
      removedAt: expect.any(String),
      revokedConnections: ['con_00000000000000a2', 'con_00000000000000a3'],
      appliedNow: true,
    })
    expect(removed.stderr).toBe('Applied now: the gateway reloaded 2 connections and dropped their OAuth grants.\n')
    const rows = await gateway.query("SELECT id, revoked_reason FROM connections WHERE profile = 'sales' ORDER BY id")
    expect(rows.map((row) => row.revoked_reason)).toEqual(['admin', 'profile_removed', 'profile_removed', 'client'])
    const [profile] = await gateway.query("SELECT removed_at FROM connector_profiles WHERE name = 'sales'")
    expect(profile!.removed_at).not.toBeNull()
    const [record] = await gateway.query("SELECT before, after FROM admin_audit WHERE target = 'sales' AND action = 'connectors.remove'")
    expect(JSON.parse(String(record!.before))).toMatchObject({ policy: POLICY, client_name: 'Claude', removed_at: null })
    expect(JSON.parse(String(record!.after))).toMatchObject({ revoked_connections: ['con_00000000000000a2', 'con_00000000000000a3'] })
    // The other profile's connection is untouched.
    expect(json<ConnectionJson[]>(await cli(['connections', 'list', '--json'])).map((connection) => connection.id)).toEqual(['con_00000000000000b1'])
    expect((await cli(['connectors', 'remove', 'sales'])).stderr).toMatch(/no active connector named sales: it was removed on /)
    expect((await cli(['connectors', 'remove', 'nobody'])).stderr).toMatch(/no active connector named nobody/)
    expect(json<ProfileJson[]>(await cli(['connectors', 'list', '--json'])).map((item) => item.name)).toEqual(['open'])
    expect((await cli(['connectors', 'show', 'sales'])).stdout).toMatch(/^Status:\s+removed on \d{4}-/m)

    const readded = await cli(['connectors', 'add', 'sales', '--policy', policyFile, '--any-login', '--json'])
    expect(readded.code).toBe(1)
    expect(readded.stderr).toMatch(/the connector sales was removed, and a removed name is not used again .*: choose another name/)
    const [row] = await gateway.query("SELECT logins, removed_at FROM connector_profiles WHERE name = 'sales'")
    expect(row!.logins).toBe('["admin","sales_agent"]')
    expect(row!.removed_at).not.toBeNull()
    expect(json<ConnectionJson[]>(await cli(['connections', 'list', '--profile', 'sales', '--json']))).toEqual([])
  })
})
