/**
 * The key CLI end to end: the real bin/odoo-mcp.mjs against a real gateway (`wrangler dev` with its own local D1,
 * test/support/cli-gateway.ts), through the admin API. What the CLI refuses before any request is tested too; D1 is
 * read with wrangler (other code than the CLI under test) to prove what is and is not stored.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { displayPrefix, parseApiKey } from '../../src/keys/key-format'
import { importCredentialsKey, openSecret, sha256Hex } from '../../src/lib/crypto'
import { CLI_BIN as BIN, startCliGateway, type CliGateway } from '../support/cli-gateway'
import { freePort } from '../support/ports'
import { projectRoot, queryD1, runNode, type LocalD1, type ProcessResult } from '../support/wrangler'

const KEY_PATTERN = /omk_[0-9A-Za-z]{49}/g
const ID_PATTERN = /^key_[0-9a-f]{16}$/

let work: string
let gateway: CliGateway
let d1: LocalD1
let credentialsKey: CryptoKey
/** A project directory without .dev.vars, for the admin secret lookup. */
let bareProject: string

/** The inherited environment without the admin settings, so a developer's shell cannot change the results. */
function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra }
  for (const name of ['ODOO_MCP_GATEWAY_URL', 'ODOO_MCP_ADMIN_SECRET', 'CREDENTIALS_KEY']) if (!(name in extra)) delete env[name]
  return env
}

function cli(args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}) {
  return gateway.cli(args, options)
}

function json<T>(result: ProcessResult): T {
  expect(result.stderr).toBe('')
  expect(result.code).toBe(0)
  return JSON.parse(result.stdout) as T
}

/** Commands that change a key report on stderr whether the gateway applied the change; stdout is the JSON. */
function changeJson<T>(result: ProcessResult): { value: T; notice: string } {
  expect(result.code, result.stderr).toBe(0)
  return { value: JSON.parse(result.stdout) as T, notice: result.stderr }
}


async function writeSecret(name: string, content: string): Promise<string> {
  const path = join(work, name)
  await writeFile(path, content)
  return path
}

/** Every byte the local D1 keeps on disk, to prove what is not in it. */
async function d1Bytes(): Promise<string> {
  const entries = await readdir(d1.persistTo, { recursive: true, withFileTypes: true })
  const files = entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name))
  const contents = await Promise.all(files.map((file) => readFile(file, 'latin1')))
  return contents.join('\n')
}

async function row(id: string): Promise<Record<string, unknown>> {
  const [found] = await queryD1(d1, `SELECT * FROM api_keys WHERE id = '${id}'`)
  expect(found).toBeDefined()
  return found!
}

interface CreatedJson {
  id: string
  name: string
  key: string
  prefix: string
}

interface ListedJson {
  id: string
  name: string
  prefix: string
  odooLogin: string
  status: string
  expiresAt: string | null
  revokedAt: string | null
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'odoo-mcp-cli-'))
  bareProject = join(work, 'bare')
  await mkdir(bareProject)
  await writeFile(join(bareProject, 'wrangler.toml'), '# no .dev.vars next to this one\n')
  gateway = await startCliGateway({ vars: { ODOO_URL: inject('odooUrl'), ODOO_PROTOCOL: 'jsonrpc' } })
  d1 = gateway.d1
  credentialsKey = await importCredentialsKey(gateway.credentialsKey)
}, 180_000)

afterAll(async () => {
  await gateway?.stop()
  if (work) await rm(work, { recursive: true, force: true })
}, 60_000)

describe('keys create', () => {
  it('prints the key once and stores only its hash, its prefix and the sealed secret', async () => {
    const secret = `odoo-secret-${crypto.randomUUID()}`
    const secretFile = await writeSecret('secret.txt', `${secret}\n`)
    const policyFile = await writeSecret('policy.json', '{\n  "version": 1,\n  "models": {"sale.order": {"operations": ["read"], "fields": ["name"]}}\n}\n')
    const result = await cli([
      'keys', 'create', '--name', 'n8n sales sync', '--odoo-login', 'sales_agent',
      '--odoo-secret-file', secretFile, '--policy', policyFile, '--no-verify',
    ])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const keys = result.stdout.match(KEY_PATTERN) ?? []
    expect(keys).toHaveLength(1)
    const key = keys[0]!
    expect(parseApiKey(key)).toEqual({ ok: true, key })
    expect(result.stdout).toMatch(/only time the key is shown/)
    expect(result.stdout).not.toContain(secret)
    const id = /key_[0-9a-f]{16}/.exec(result.stdout)![0]

    const stored = await row(id)
    expect(stored).toMatchObject({
      name: 'n8n sales sync',
      odoo_login: 'sales_agent',
      prefix: displayPrefix(key),
      policy: '{"version":1,"models":{"sale.order":{"operations":["read"],"fields":["name"]}}}',
      expires_at: null,
      revoked_at: null,
    })
    expect(Math.abs((stored.created_at as number) - Date.now())).toBeLessThan(60_000)
    expect(await queryD1(d1, `SELECT key_hash, prefix, retires_at FROM api_key_secrets WHERE key_id = '${id}'`)).toEqual([
      { key_hash: await sha256Hex(key), prefix: displayPrefix(key), retires_at: null },
    ])
    // One trailing newline is dropped, the rest is the secret; the key id is bound as associated data.
    expect(await openSecret(credentialsKey, stored.odoo_secret as string, id)).toBe(secret)
    await expect(openSecret(credentialsKey, stored.odoo_secret as string, 'key_0000000000000000')).rejects.toThrow()

    const onDisk = await d1Bytes()
    expect(onDisk).toContain(await sha256Hex(key))
    expect(onDisk).not.toContain(key)
    expect(onDisk).not.toContain(secret)
  })

  it('--json prints exactly id, name, key, prefix, odooUid and verified; the secret can come from stdin', async () => {
    const created = json<CreatedJson>(
      await cli(['keys', 'create', '--json', '--name', 'stdin key', '--odoo-login', 'demo', '--odoo-secret-file', '-', '--no-verify'], {
        input: 'odoo-apikey-demo\n',
      }),
    )
    expect(Object.keys(created).sort()).toEqual(['id', 'key', 'name', 'odooUid', 'prefix', 'verified'])
    expect(created).toMatchObject({ odooUid: null, verified: false })
    expect(created.id).toMatch(ID_PATTERN)
    expect(created.name).toBe('stdin key')
    expect(parseApiKey(created.key).ok).toBe(true)
    expect(created.prefix).toBe(displayPrefix(created.key))
    const stored = await row(created.id)
    expect(await openSecret(credentialsKey, stored.odoo_secret as string, created.id)).toBe('odoo-apikey-demo')
  })

  it('stores SQL in --name verbatim and harmlessly, and sets --expires as a duration', async () => {
    const name = `x'); DROP TABLE api_keys; -- "; SELECT 1 /* '' \\ %`
    const secretFile = await writeSecret('secret2.txt', 'pw')
    const created = json<CreatedJson>(
      await cli(['keys', 'create', '--json', '--name', name, '--odoo-login', "o'brien", '--odoo-secret-file', secretFile,
        '--expires', '30d', '--no-verify']),
    )
    const shown = json<ListedJson>(await cli(['keys', 'show', created.id, '--json']))
    expect(shown.name).toBe(name)
    expect(shown.odooLogin).toBe("o'brien")
    expect(shown.status).toBe('active')
    const expiresIn = Date.parse(shown.expiresAt!) - Date.now()
    expect(expiresIn).toBeGreaterThan(29.9 * 86_400_000)
    expect(expiresIn).toBeLessThanOrEqual(30 * 86_400_000)
  })

  it('refuses a secret on the command line: there is no option for it', async () => {
    for (const flag of [['--odoo-secret', 'hunter2'], ['--odoo-secret=hunter2'], ['--password', 'hunter2']]) {
      const result = await cli(['keys', 'create', '--name', 'n', '--odoo-login', 'admin', ...flag])
      expect(result.code).toBe(2)
      expect(result.stderr).toMatch(/never accepted on the command line/)
      expect(result.stderr + result.stdout).not.toContain('hunter2')
    }
  })

  it('refuses bad values before touching D1', async () => {
    const secretFile = await writeSecret('secret3.txt', 'pw')
    const base = ['keys', 'create', '--odoo-login', 'admin', '--odoo-secret-file', secretFile]
    const cases: [string[], RegExp][] = [
      [['--name', 'n', '--expires', '30'], /--expires must be a duration such as 90d/],
      [['--name', 'n', '--expires', '0d'], /--expires must be in the future/],
      [['--name', 'n', '--expires', '3 days'], /--expires must be a duration/],
      [['--name', 'n', '--expires', '8w'], /--expires must be a duration/],
      [['--name', 'n', '--expires', '2001-01-01'], /in the past/],
      [['--name', 'n', '--expires', 'next week'], /ISO 8601/],
      [['--name', 'n', '--expires', '2099-01-01T10:00'], /needs a time zone/],
      [['--name', 'a\u001b[31mb'], /control characters/],
      [['--name', 'x'.repeat(101)], /1 to 100/],
      [['--name', ''], /1 to 100/],
    ]
    for (const [args, message] of cases) {
      const result = await cli([...base, ...args])
      expect(result.stderr, args.join(' ')).toMatch(message)
      expect(result.code, args.join(' ')).toBe(2)
      expect(result.stderr).not.toMatch(/\n\s+at /)
    }
  })

  it('refuses an empty secret and an invalid policy file', async () => {
    const empty = await writeSecret('empty.txt', '\n')
    const badPolicy = await writeSecret('bad-policy.json', '{ nope')
    const pw = await writeSecret('pw.txt', 'pw')
    const base = ['keys', 'create', '--name', 'n', '--odoo-login', 'admin']
    const emptySecret = await cli([...base, '--odoo-secret-file', empty])
    expect(emptySecret.code).toBe(1)
    expect(emptySecret.stderr).toMatch(/secret is empty/)
    const emptyStdin = await cli([...base, '--odoo-secret-file', '-'], { input: '' })
    expect(emptyStdin.code).toBe(1)
    const policy = await cli([...base, '--odoo-secret-file', pw, '--policy', badPolicy])
    expect(policy.code).toBe(1)
    expect(policy.stderr).toMatch(/not valid JSON/)
    const missing = await cli([...base, '--odoo-secret-file', join(work, 'does-not-exist')])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/cannot read --odoo-secret-file .*ENOENT/)
  })

  it('needs the admin secret: ODOO_MCP_ADMIN_SECRET, --admin-secret-file, or .dev.vars when local', async () => {
    const pw = await writeSecret('pw2.txt', 'pw')
    const config = join(bareProject, 'wrangler.toml')
    const args = ['keys', 'create', '--name', 'n', '--odoo-login', 'admin', '--odoo-secret-file', pw, '--config', config, '--gateway', gateway.url]
    const local = await runNode(BIN, args, { env: cliEnv() })
    expect(local.code).toBe(1)
    expect(local.stderr).toMatch(/no ADMIN_SECRET in .*\.dev\.vars/)
    expect(local.stderr).toContain(bareProject)
    const remote = await runNode(BIN, [...args, '--remote'], { env: cliEnv() })
    expect(remote.code).toBe(1)
    expect(remote.stderr).toMatch(/ODOO_MCP_ADMIN_SECRET or pass --admin-secret-file/)
    const noUrl = await runNode(BIN, ['keys', 'list', '--remote', '--config', config], { env: cliEnv({ ODOO_MCP_ADMIN_SECRET: gateway.adminSecret }) })
    expect(noUrl.code).toBe(1)
    expect(noUrl.stderr).toMatch(/--remote needs the deployed gateway's URL/)
    const wrong = await runNode(BIN, ['keys', 'list', '--config', config, '--gateway', gateway.url], { env: cliEnv({ ODOO_MCP_ADMIN_SECRET: 'w'.repeat(40) }) })
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toMatch(/refused the request: The admin signature does not match/)
    const secretFile = await writeSecret('admin.secret', `ADMIN_SECRET=${gateway.adminSecret}\n`)
    const listed = await runNode(BIN, ['keys', 'list', '--json', '--config', config, '--gateway', gateway.url, '--admin-secret-file', secretFile], { env: cliEnv() })
    expect(listed.code, listed.stderr).toBe(0)
    expect(Array.isArray(JSON.parse(listed.stdout))).toBe(true)
  })
})

describe('checking the Odoo credentials (JSON-2 cases: test/node/cli-odoo-credentials.test.ts)', () => {
  async function keyCount(): Promise<number> {
    const [{ n }] = (await queryD1(d1, 'SELECT COUNT(*) AS n FROM api_keys')) as [{ n: number }]
    return n
  }

  it('keys create fails clearly when the gateway cannot check them, and creates nothing; --no-verify skips the check', async () => {
    const secret = `unchecked-${crypto.randomUUID()}`
    const secretFile = await writeSecret('unchecked.txt', secret)
    const before = await keyCount()
    const base = ['keys', 'create', '--name', 'unchecked', '--odoo-login', 'admin', '--odoo-secret-file', secretFile]
    const refused = await cli(base)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/^odoo-mcp: the Odoo credentials for 'admin' were not accepted: Odoo refused the login or the secret/)
    expect(refused.stderr).toContain('No key was created.')
    const port = await freePort()
    const unreachable = await cli([...base, '--gateway', `http://127.0.0.1:${port}`])
    expect(unreachable.code).toBe(1)
    expect(unreachable.stderr).toContain(`cannot reach the local gateway at http://127.0.0.1:${port} (ECONNREFUSED). Start it with \`npm start\``)
    // A secret is never sent over plain http to another machine.
    const plain = await cli([...base, '--gateway', 'http://gateway.example.com'])
    expect(plain.code).toBe(1)
    expect(plain.stderr).toContain('refusing to send a secret to http://gateway.example.com over plain http')
    const noSecret = refused
    for (const result of [noSecret, unreachable, plain]) expect(result.stdout + result.stderr).not.toContain(secret)
    expect(await keyCount()).toBe(before)

    const created = await cli([...base, '--no-verify'])
    expect(created.code, created.stderr).toBe(0)
    expect(created.stdout).toContain('Odoo credentials not checked (--no-verify)')
    const id = /key_[0-9a-f]{16}/.exec(created.stdout)![0]
    expect((await row(id)).odoo_uid).toBeNull()
    const shown = await cli(['keys', 'show', id])
    expect(shown.stdout).toMatch(/Odoo uid:\s+not known \(the credentials were not checked against Odoo/)
    expect(shown.stdout).not.toContain('resolved at first use')
  })

  it('keys set-odoo-secret replaces the sealed secret and clears the uid; refused secrets change nothing; --no-verify skips the check', async () => {
    const first = await writeSecret('first-secret.txt', 'first-secret')
    const created = json<CreatedJson>(
      await cli(['keys', 'create', '--json', '--name', 'secret to fix', '--odoo-login', 'admin', '--odoo-secret-file', first, '--no-verify']),
    )
    await queryD1(d1, `UPDATE api_keys SET odoo_uid = 5 WHERE id = '${created.id}'`)
    const newSecret = `fixed-${crypto.randomUUID()}`

    const unchecked = await cli(['keys', 'set-odoo-secret', created.id, '--odoo-secret-file', '-'], { input: `${newSecret}\n` })
    expect(unchecked.code).toBe(1)
    expect(unchecked.stderr).toContain('The key was not changed.')
    expect(unchecked.stdout + unchecked.stderr).not.toContain(newSecret)
    expect(await openSecret(credentialsKey, (await row(created.id)).odoo_secret as string, created.id)).toBe('first-secret')

    const replaced = await cli(['keys', 'set-odoo-secret', created.id, '--odoo-secret-file', '-', '--no-verify', '--json'], { input: `${newSecret}\n` })
    expect(replaced.code, replaced.stderr).toBe(0)
    expect(JSON.parse(replaced.stdout)).toEqual({ id: created.id, odooLogin: 'admin', odooUid: null, verified: false, audited: true })
    expect(replaced.stderr).toBe(`Applied now: the gateway at ${gateway.url} reloaded the key and recorded the change in its audit chain.\n`)
    expect(replaced.stdout + replaced.stderr).not.toContain(newSecret)
    const stored = await row(created.id)
    expect(await openSecret(credentialsKey, stored.odoo_secret as string, created.id)).toBe(newSecret)
    expect(stored.odoo_uid).toBeNull()
    expect(await d1Bytes()).not.toContain(newSecret)

    const missing = await cli(['keys', 'set-odoo-secret', created.id, '--no-verify'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/--odoo-secret-file is required/)
    const onCommandLine = await cli(['keys', 'set-odoo-secret', created.id, '--odoo-secret', 'hunter2'])
    expect(onCommandLine.code).toBe(2)
    expect(onCommandLine.stderr).toMatch(/never accepted on the command line/)
    const unknown = await cli(['keys', 'set-odoo-secret', 'key_0123456789abcdef', '--odoo-secret-file', first, '--no-verify'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/no key with ID key_0123456789abcdef/)
    expect((await cli(['keys', 'revoke', created.id])).code).toBe(0)
    const revoked = await cli(['keys', 'set-odoo-secret', created.id, '--odoo-secret-file', first, '--no-verify'])
    expect(revoked.code).toBe(1)
    expect(revoked.stderr).toMatch(/is revoked: a new Odoo secret would not make it usable/)
  })
})

describe('keys list, show, revoke', () => {
  it('lists and shows keys with their status, never secrets, then revokes', async () => {
    const listed = json<ListedJson[]>(await cli(['keys', 'list', '--json']))
    expect(listed.length).toBeGreaterThanOrEqual(4)
    const first = listed.find((key) => key.name === 'n8n sales sync')!
    expect(first).toMatchObject({ odooLogin: 'sales_agent', status: 'active', revokedAt: null })
    for (const key of listed) expect(Object.keys(key)).not.toEqual(expect.arrayContaining(['key_hash']))
    const listJson = JSON.stringify(listed)
    expect(listJson).not.toMatch(/omk_[0-9A-Za-z]{49}|odoo_secret|key_hash|v[12]\./)

    const table = await cli(['keys', 'list'])
    expect(table.code).toBe(0)
    expect(table.stdout).toMatch(/^ID\s+NAME\s+PREFIX\s+ODOO LOGIN\s+CREATED\s+EXPIRES\s+STATUS\s+LAST USED$/m)
    expect(table.stdout).toContain(first.id)
    expect(table.stdout).toContain(first.prefix)
    expect(table.stdout).not.toMatch(KEY_PATTERN)

    const shown = await cli(['keys', 'show', first.id])
    expect(shown.code).toBe(0)
    expect(shown.stdout).toMatch(/Name:\s+n8n sales sync/)
    expect(shown.stdout).toMatch(/Status:\s+active/)
    expect(shown.stdout).toContain('"sale.order"')

    const revoked = await cli(['keys', 'revoke', first.id])
    expect(revoked.code).toBe(0)
    expect(revoked.stdout).toMatch(/Revoked key/)
    const again = await cli(['keys', 'revoke', first.id])
    expect(again.code).toBe(0)
    expect(again.stdout).toMatch(/already revoked/)

    // Expire another key behind the CLI's back: the status is computed at read time.
    const other = listed.find((key) => key.name === 'stdin key')!
    await queryD1(d1, `UPDATE api_keys SET expires_at = ${Date.now() - 1000} WHERE id = '${other.id}'`)
    const after = json<ListedJson[]>(await cli(['keys', 'list', '--json']))
    const statusOf = (id: string) => after.find((key) => key.id === id)?.status
    expect(statusOf(first.id)).toBe('revoked')
    expect(statusOf(other.id)).toBe('expired')
    expect(after.find((key) => key.id === first.id)?.revokedAt).toMatch(/^\d{4}-/)
  })

  it('revoke and show of an unknown id fail clearly', async () => {
    const unknown = await cli(['keys', 'revoke', 'key_0123456789abcdef'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/no key with ID key_0123456789abcdef/)
    const malformed = await cli(['keys', 'show', 'banana'])
    expect(malformed.code).toBe(2)
    expect(malformed.stderr).toMatch(/not a key ID/)
    const pasted = await cli(['keys', 'revoke', 'omk_secretsecret'])
    expect(pasted.code).toBe(2)
    expect(pasted.stderr).not.toContain('omk_secretsecret')
  })
})

describe('keys policy', () => {
  it('refuses an invalid policy with the JSON path of each problem, before touching D1', async () => {
    const pw = await writeSecret('pw-policy.txt', 'pw')
    const bad = await writeSecret(
      'invalid-policy.json',
      JSON.stringify({
        version: 1,
        models: { 'sale.order': { operations: ['read', 'drop'], fields: ['name', 'bad field'] } },
        ip: { allow: ['012.0.0.1', 'fe80::1%eth0', '10.0.0.0/33'] },
      }),
    )
    const result = await cli(['keys', 'create', '--name', 'p', '--odoo-login', 'admin', '--odoo-secret-file', pw, '--policy', bad])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('is not a valid policy')
    for (const path of [
      '$.models["sale.order"].operations[1]',
      '$.models["sale.order"].fields[1]',
      '$.ip.allow[0]',
      '$.ip.allow[1]',
      '$.ip.allow[2]',
    ]) {
      expect(result.stderr).toContain(path)
    }
  })

  it('sets and shows a policy, and refuses an invalid replacement', async () => {
    const pw = await writeSecret('pw-policy2.txt', 'pw')
    const { id } = json<CreatedJson>(await cli(['keys', 'create', '--name', 'policy target', '--odoo-login', 'admin', '--odoo-secret-file', pw, '--json', '--no-verify']))
    expect(JSON.parse((await cli(['keys', 'policy', 'show', id])).stdout)).toBeNull()
    const policy = { version: 1, models: { 'res.partner': { operations: ['read'], fields: ['name'] } }, ip: { deny: ['2001:db8::/32'] } }
    const file = await writeSecret('good-policy.json', JSON.stringify(policy, null, 2))
    const set = await cli(['keys', 'policy', 'set', id, '--policy', file])
    expect(set.code, set.stderr).toBe(0)
    expect(JSON.parse((await cli(['keys', 'policy', 'show', id])).stdout)).toEqual(policy)
    const bad = await writeSecret('bad-replacement.json', JSON.stringify({ version: 1, models: { '*': { operations: [], fields: '*' } } }))
    const refused = await cli(['keys', 'policy', 'set', id, '--policy', bad])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/\$\.models\["\*"\]\.operations: list at least one operation/)
    // The stored policy is unchanged.
    expect(JSON.parse((await cli(['keys', 'policy', 'show', id])).stdout)).toEqual(policy)
    const missing = await cli(['keys', 'policy', 'set', id])
    expect(missing.code).toBe(2)
  })

  it('creates a key from a shipped template, with a policy file adding models and replacing one, and names the templates it knows', async () => {
    const pw = await writeSecret('pw-template.txt', 'pw')
    const template = JSON.parse(await readFile(join(projectRoot, 'docs', 'policy-templates', 'read-only-sales.json'), 'utf8')) as { models: Record<string, unknown> }
    const extra = {
      version: 1,
      models: { 'res.partner': { operations: ['read'], fields: ['name'] }, 'stock.picking': { operations: ['read'], fields: ['name', 'state'] } },
      ip: { allow: ['203.0.113.0/24'] },
    }
    const file = await writeSecret('template-extra.json', JSON.stringify(extra))
    const { id } = json<CreatedJson>(
      await cli(['keys', 'create', '--name', 'from template', '--odoo-login', 'admin', '--odoo-secret-file', pw, '--template', 'read-only-sales', '--policy', file, '--json', '--no-verify']),
    )
    const stored = JSON.parse((await cli(['keys', 'policy', 'show', id])).stdout) as { models: Record<string, unknown>; ip: unknown; rateLimit: unknown }
    expect(stored.models).toEqual({ ...template.models, ...extra.models })
    expect(stored.models['res.partner']).toEqual(extra.models['res.partner'])
    expect(stored.ip).toEqual(extra.ip)
    expect(stored.rateLimit).toEqual({ perMinute: 60 })
    // A template alone replaces a policy too.
    expect((await cli(['keys', 'policy', 'set', id, '--template', 'accounting-read'])).code).toBe(0)
    expect(Object.keys((JSON.parse((await cli(['keys', 'policy', 'show', id])).stdout) as { models: object }).models)).toContain('account.move')
    // An unknown name is refused before anything is sent, naming the templates there are.
    const unknown = await cli(['keys', 'policy', 'set', id, '--template', 'read-everything'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/unknown --template 'read-everything': the templates are accounting-read, crm-read, helpdesk, read-only-sales/)
    // A file that breaks the combination is reported with its JSON path, under both names.
    const broken = await writeSecret('template-broken.json', JSON.stringify({ version: 1, models: { 'sale.order': { operations: ['read'], fields: 'all' } } }))
    const refused = await cli(['keys', 'policy', 'set', id, '--template', 'read-only-sales', '--policy', broken])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/--template read-only-sales with --policy .*template-broken\.json is not a valid policy:\n {2}\$\.models\["sale\.order"\]\.fields: fields must be "\*"/)
  })

  it('keys try says whether a call would be allowed, what Odoo would be asked, or why not', async () => {
    const pw = await writeSecret('pw-try.txt', 'admin')
    const { id } = json<CreatedJson>(
      await cli(['keys', 'create', '--name', 'try me', '--odoo-login', 'admin', '--odoo-secret-file', pw, '--template', 'read-only-sales', '--json', '--no-verify']),
    )
    const allowed = await cli(['keys', 'try', id, '--tool', 'search_records', '--args', '{"model": "sale.order", "fields": ["name", "amount_total"]}'])
    expect(allowed.code, allowed.stderr).toBe(0)
    expect(allowed.stdout).toMatch(/^Allowed: search_records for key key_[0-9a-f]{16}\. The gateway would ask Odoo for:\n {2}model: sale\.order\n {2}operation: read\n {2}fields: name, amount_total\n {2}order: date_order desc, id desc\n {2}limit: 50\n/)
    const refused = await cli(['keys', 'try', id, '--tool', 'delete_records', '--args', '{"model": "sale.order", "ids": [1]}', '--json'])
    expect(refused.code).toBe(1)
    expect(JSON.parse(refused.stdout)).toMatchObject({ allowed: false, tool: 'delete_records', stage: 'tool', reason: expect.stringMatching(/delete_records is not available/) })
    const hidden = await cli(['keys', 'try', id, '--tool', 'search_records', '--args', '{"model": "hr.employee"}'])
    expect(hidden.code).toBe(1)
    expect(hidden.stdout).toMatch(/^Refused \(policy\): .*hr\.employee/)
    expect((await cli(['keys', 'try', id, '--tool', 'search_records', '--args', '[1]'])).code).toBe(2)
    expect((await cli(['keys', 'try', id])).code).toBe(2)
  })

  it('keys explain and policy explain print what a key may do, as Markdown or JSON, the dry run storing nothing', async () => {
    const pw = await writeSecret('pw-explain.txt', 'sales_agent')
    const policyFile = await writeSecret('explain-policy.json', JSON.stringify({
      version: 2,
      models: { 'sale.order': { operations: ['read', 'unlink'], fields: ['name', 'amount_total'], filter: [['user_id', '=', '$uid']] }, 'res.partner': { operations: ['read'], fields: ['name', 'email'], mask: { email: 'partial' } } },
    }))
    const { id } = json<CreatedJson>(await cli(['keys', 'create', '--name', 'explain me', '--odoo-login', 'sales_agent', '--odoo-secret-file', pw, '--policy', policyFile, '--json']))
    const text = await cli(['keys', 'explain', id])
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toMatch(new RegExp(`^# API key ${id} "explain me"\n`))
    expect(text.stdout).toContain("- Acts as: Odoo user 'sales_agent' (uid 8)")
    expect(text.stdout).toMatch(/## sale\.order\n\n- Operations: read \(the policy also allows unlink, which Odoo refuses this user\)\n- Records: only those matching \[\["user_id","=","\$uid"\]\], for this user today \[\["user_id","=",8\]\]/)
    expect(text.stdout).toContain('- Masked fields (readable masked only; never filtered, sorted, grouped or written): email (partial)')
    const one = json<{ models: { model: string }[] }>(await cli(['keys', 'explain', id, '--model', 'res.partner', '--json']))
    expect(one.models.map((model) => model.model)).toEqual(['res.partner'])
    expect((await cli(['keys', 'explain', id, '--model', 'Bad Model'])).code).toBe(2)

    const keysBefore = await queryD1(d1, 'SELECT id, policy FROM api_keys ORDER BY id')
    const dry = await cli(['policy', 'explain', '--policy', policyFile, '--odoo-login', 'sales_agent', '--odoo-secret-file', '-'], { input: 'sales_agent' })
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.stdout).toMatch(/^# Policy \(dry run, not stored\)\n/)
    expect(dry.stdout.slice(dry.stdout.indexOf('## '))).toBe(text.stdout.slice(text.stdout.indexOf('## ')))
    // Nothing stored: no key made or changed, and the secret nowhere in the database.
    expect(await queryD1(d1, 'SELECT id, policy FROM api_keys ORDER BY id')).toEqual(keysBefore)
    const wrong = await cli(['policy', 'explain', '--policy', policyFile, '--odoo-login', 'sales_agent', '--odoo-secret-file', '-'], { input: 'not-the-password' })
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).not.toContain('not-the-password')
    expect(await d1Bytes()).not.toContain('not-the-password')
    expect((await cli(['policy', 'explain', '--odoo-login', 'sales_agent', '--odoo-secret-file', pw])).code).toBe(2)
  })
})

describe('keys rotate, expiry flags, telling the gateway', () => {
  interface RotatedJson {
    id: string
    key: string
    prefix: string
    graceEndsAt: string
  }

  it('rotates: a new secret for the same id, the old one retiring when the grace period ends', async () => {
    const pw = await writeSecret('pw-rotate.txt', 'pw')
    const created = json<CreatedJson>(
      await cli(['keys', 'create', '--json', '--name', 'rotating', '--odoo-login', 'admin', '--odoo-secret-file', pw, '--no-verify']),
    )
    const before = Date.now()
    const { value: rotated, notice } = changeJson<RotatedJson>(await cli(['keys', 'rotate', created.id, '--grace', '2h', '--json']))
    expect(Object.keys(rotated).sort()).toEqual(['graceEndsAt', 'id', 'key', 'prefix'])
    expect(rotated.id).toBe(created.id)
    expect(rotated.key).not.toBe(created.key)
    expect(parseApiKey(rotated.key).ok).toBe(true)
    expect(rotated.prefix).toBe(displayPrefix(rotated.key))
    expect(notice).toBe(`Applied now: the gateway at ${gateway.url} reloaded the key.\n`)
    const graceEndsAt = Date.parse(rotated.graceEndsAt)
    expect(graceEndsAt - before).toBeGreaterThan(2 * 3_600_000 - 60_000)
    expect(graceEndsAt - before).toBeLessThanOrEqual(2 * 3_600_000 + 60_000)

    const secrets = await queryD1(d1, `SELECT key_hash, retires_at FROM api_key_secrets WHERE key_id = '${created.id}' ORDER BY created_at, retires_at`)
    expect(secrets).toHaveLength(2)
    const byHash = Object.fromEntries(secrets.map((secret) => [secret.key_hash, secret.retires_at]))
    expect(byHash[await sha256Hex(created.key)]).toBe(graceEndsAt)
    expect(byHash[await sha256Hex(rotated.key)]).toBeNull()
    const stored = await row(created.id)
    expect(stored.prefix).toBe(rotated.prefix)
    expect(typeof stored.rotated_at).toBe('number')

    // A second rotation with no grace ends every older secret now; the earlier grace is never extended.
    const { value: second } = changeJson<RotatedJson>(await cli(['keys', 'rotate', created.id, '--grace', '0s', '--json']))
    const after = await queryD1(d1, `SELECT key_hash, retires_at FROM api_key_secrets WHERE key_id = '${created.id}'`)
    expect(after).toHaveLength(3)
    const newest = await sha256Hex(second.key)
    for (const secret of after) {
      if (secret.key_hash === newest) expect(secret.retires_at).toBeNull()
      else expect(secret.retires_at as number).toBeLessThanOrEqual(Date.now())
    }

    const text = await cli(['keys', 'rotate', created.id, '--grace', '2099-01-01'])
    expect(text.code).toBe(0)
    expect(text.stdout.match(KEY_PATTERN)).toHaveLength(1)
    expect(text.stdout).toMatch(/previous secret keeps working until 2099-01-01/)
    expect(text.stderr).toBe(`Applied now: the gateway at ${gateway.url} reloaded the key.\n`)
  })

  it('refuses to rotate a revoked or unknown key, and bad --grace values', async () => {
    const pw = await writeSecret('pw-rotate2.txt', 'pw')
    const created = json<CreatedJson>(
      await cli(['keys', 'create', '--json', '--name', 'to revoke', '--odoo-login', 'admin', '--odoo-secret-file', pw, '--no-verify']),
    )
    expect((await cli(['keys', 'revoke', created.id])).code).toBe(0)
    const refused = await cli(['keys', 'rotate', created.id])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/is revoked: rotating it would not make it usable/)
    const unknown = await cli(['keys', 'rotate', 'key_0123456789abcdef'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/no key with ID/)
    for (const grace of ['24', '1y', 'soon', '1.5h']) {
      const result = await cli(['keys', 'rotate', created.id, '--grace', grace])
      expect(result.code, grace).toBe(2)
      expect(result.stderr, grace).toMatch(/--grace must be a duration/)
    }
  })

  it('flags keys expiring within 7 days in list and show', async () => {
    const pw = await writeSecret('pw-expiring.txt', 'pw')
    const soon = json<CreatedJson>(
      await cli(['keys', 'create', '--json', '--name', 'expiring soon', '--odoo-login', 'admin', '--odoo-secret-file', pw, '--expires', '3d', '--no-verify']),
    )
    const later = json<CreatedJson>(
      await cli(['keys', 'create', '--json', '--name', 'expiring later', '--odoo-login', 'admin', '--odoo-secret-file', pw, '--expires', '30d', '--no-verify']),
    )
    const listed = json<(ListedJson & { expiringSoon: boolean })[]>(await cli(['keys', 'list', '--json']))
    expect(listed.find((key) => key.id === soon.id)?.expiringSoon).toBe(true)
    expect(listed.find((key) => key.id === later.id)?.expiringSoon).toBe(false)
    const table = await cli(['keys', 'list'])
    const line = (id: string) => table.stdout.split('\n').find((text) => text.startsWith(id)) ?? ''
    expect(line(soon.id)).toMatch(/active, EXPIRES IN (2|3)d/)
    expect(line(later.id)).not.toMatch(/EXPIRES IN/)
  })

  it('changes nothing when the gateway cannot be reached, and says where it tried', async () => {
    const pw = await writeSecret('pw-notify.txt', 'pw')
    const created = json<CreatedJson>(
      await cli(['keys', 'create', '--json', '--name', 'notify', '--odoo-login', 'admin', '--odoo-secret-file', pw, '--no-verify']),
    )
    // A loopback port nobody listens on: the connection is refused at once.
    const port = await freePort()
    const result = await cli(['keys', 'revoke', created.id, '--gateway', `http://127.0.0.1:${port}`])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(`cannot reach the local gateway at http://127.0.0.1:${port} (ECONNREFUSED). Start it with \`npm start\``)
    expect(result.stderr).not.toContain(gateway.adminSecret)
    const remote = await runNode(BIN, ['keys', 'revoke', created.id, '--remote', '--gateway', `http://127.0.0.1:${port}`], {
      env: cliEnv({ ODOO_MCP_ADMIN_SECRET: gateway.adminSecret }),
    })
    expect(remote.stderr).toContain(`cannot reach the gateway at http://127.0.0.1:${port} (ECONNREFUSED). Check --gateway / ODOO_MCP_GATEWAY_URL`)
    expect(json<ListedJson>(await cli(['keys', 'show', created.id, '--json'])).status).toBe('active')
    const bad = await cli(['keys', 'revoke', created.id, '--gateway', 'ftp://example'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/must be an http\(s\) URL/)
  })

  it('keys history shows every change with who made it, before and after', async () => {
    const pw = await writeSecret('pw-history.txt', 'pw')
    const created = json<CreatedJson>(await cli(['keys', 'create', '--json', '--name', 'audited', '--odoo-login', 'admin', '--odoo-secret-file', pw, '--no-verify']))
    const policyFile = await writeSecret('history-policy.json', JSON.stringify({ version: 1, models: { 'res.partner': { operations: ['read'], fields: ['name'] } } }))
    expect((await cli(['keys', 'policy', 'set', created.id, '--policy', policyFile])).code).toBe(0)
    expect((await cli(['keys', 'rotate', created.id, '--grace', '0s'])).code).toBe(0)
    expect((await cli(['keys', 'revoke', created.id], { env: { ODOO_MCP_ACTOR: 'bob' } })).code).toBe(0)
    const history = json<{ action: string; actor: string; before: unknown; after: unknown }[]>(await cli(['keys', 'history', created.id, '--json']))
    expect(history.map((record) => record.action)).toEqual(['keys.create', 'keys.policy.set', 'keys.rotate', 'keys.revoke'])
    expect(history.map((record) => record.actor)).toEqual(['secret:cli-test', 'secret:cli-test', 'secret:cli-test', 'secret:bob'])
    expect(history[1]).toMatchObject({ before: { policy: null }, after: { policy: { models: { 'res.partner': { fields: ['name'] } } } } })
    expect(JSON.stringify(history)).not.toMatch(KEY_PATTERN)
    const text = await cli(['keys', 'history', created.id])
    expect(text.stdout).toMatch(/^#\d+ +\S+ \S+ UTC +keys\.create +key_/m)
    expect(text.stdout).toContain('by secret:bob (signature)')
    const unknown = await cli(['keys', 'history', 'key_0123456789abcdef'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/no key with ID key_0123456789abcdef/)
  })
})

describe('usage', () => {
  it('prints help, and refuses unknown commands and options with exit code 2', async () => {
    const help = await runNode(BIN, ['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/Usage: odoo-mcp <command>/)
    const createHelp = await runNode(BIN, ['keys', 'create', '--help'])
    expect(createHelp.code).toBe(0)
    expect(createHelp.stdout).toMatch(/--odoo-secret-file FILE/)
    for (const args of [[], ['keys'], ['keys', 'delete', 'x'], ['frobnicate'], ['keys', 'list', '--verbose']]) {
      const result = await runNode(BIN, args)
      expect(result.code, args.join(' ')).toBe(2)
      expect(result.stderr, args.join(' ')).toMatch(/Usage: odoo-mcp/)
      expect(result.stderr).not.toMatch(/\n\s+at /)
    }
    const both = await runNode(BIN, ['keys', 'list', '--local', '--remote'])
    expect(both.code).toBe(2)
  })

  it('refuses an unknown command of every group with exit code 2, --help or not, naming the unknown word', async () => {
    const cases: [string[], string, RegExp][] = [
      [['keys', 'no-such-command', '--help'], 'keys no-such-command', /Usage: odoo-mcp keys <command>/],
      [['keys', 'policy', 'frob', '--help'], 'keys policy frob', /Usage: odoo-mcp keys policy <command>/],
      [['audit', 'serch', '-h'], 'audit serch', /Usage: odoo-mcp audit <command>/],
      [['webhooks', 'ad', '--help'], 'webhooks ad', /Usage: odoo-mcp webhooks <command>/],
      [['webhooks', 'source', 'remove', '--help'], 'webhooks source remove', /Usage: odoo-mcp webhooks source <command>/],
      [['alerts', 'show', '--help'], 'alerts show', /Usage: odoo-mcp alerts <command>/],
      [['frobnicate', '--help'], 'frobnicate', /Usage: odoo-mcp <command>/],
      [['help', 'keys', 'delete'], 'keys delete', /Usage: odoo-mcp keys <command>/],
    ]
    for (const [args, named, usage] of cases) {
      const result = await runNode(BIN, args)
      expect(result.code, args.join(' ')).toBe(2)
      expect(result.stderr, args.join(' ')).toContain(`odoo-mcp: unknown command '${named}'`)
      expect(result.stderr, args.join(' ')).toMatch(usage)
      expect(result.stdout, args.join(' ')).toBe('')
    }
    // Extra words after a complete command are refused too, even with --help.
    const extra = await runNode(BIN, ['keys', 'list', 'everything', '--help'])
    expect(extra.code).toBe(2)
    expect(extra.stderr).toMatch(/unexpected argument 'everything'/)
    // A group alone: its commands (exit 0 with --help, 2 without).
    for (const group of ['keys', 'keys policy', 'audit', 'webhooks', 'webhooks source', 'alerts']) {
      const help = await runNode(BIN, [...group.split(' '), '--help'])
      expect(help.code, group).toBe(0)
      expect(help.stdout, group).toContain(`Usage: odoo-mcp ${group} <command>`)
      const bare = await runNode(BIN, group.split(' '))
      expect(bare.code, group).toBe(2)
      expect(bare.stderr, group).toContain(`missing command after '${group}'`)
    }
    const setSecretHelp = await runNode(BIN, ['keys', 'set-odoo-secret', '--help'])
    expect(setSecretHelp.code).toBe(0)
    expect(setSecretHelp.stdout).toMatch(/--no-verify/)
  })
})
