/** `odoo-mcp keys create|list|show|rotate|revoke|set-odoo-secret|policy set|policy show|history`, over the admin API. */
import { adminRequest, allPages, AdminApiError, orSay } from '../admin-api'
import { print, printJson, stringOption, type Command, type CommandContext } from '../command'
import { CliError, EXIT_FAILURE, EXIT_OK, UsageError } from '../errors'
import { formatTable, formatTime } from '../format'
import { gatewayUrl } from '../gateway'
import { checkLogin, checkName, parseMoment, readSecret } from '../key-input'
import { policyOptions, TEMPLATE_OPTION } from '../policy'
import { describeAdminRecord, type AdminRecordJson } from './history'

/** A key as GET /admin/v1/keys answers it (docs/ADMIN-API.md). */
interface KeyJson {
  id: string
  name: string
  prefix: string
  odoo_login: string
  odoo_uid: number | null
  status: 'active' | 'expired' | 'revoked'
  expiring_soon: boolean
  created_at: string
  expires_at: string | null
  revoked_at: string | null
  rotated_at: string | null
  last_used_at: string | null
  policy?: unknown
}

const ms = (iso: string | null) => (iso === null ? null : Date.parse(iso))

/** The --odoo-secret-file option, which create and set-odoo-secret require. */
export function requiredSecretFile(context: CommandContext): string {
  const secretFile = stringOption(context, 'odoo-secret-file')
  if (secretFile === undefined) {
    throw new UsageError('--odoo-secret-file is required: a file holding the Odoo API key or password, or - for standard input')
  }
  return secretFile
}

const KEY_ID = /^key_[0-9a-f]{16}$/

/** The ID argument, checked before any request. Never echoes a pasted API key. */
export function keyIdArgument(context: CommandContext): string {
  const id = context.args[0]
  if (id === undefined) throw new UsageError('missing key ID (key_ + 16 hex characters, see `odoo-mcp keys list`)')
  if (id.startsWith('omk_')) {
    throw new UsageError('that is an API key or its prefix, not a key ID: use the ID (key_...) shown by `odoo-mcp keys list`')
  }
  if (!KEY_ID.test(id)) throw new UsageError(`'${id}' is not a key ID (key_ + 16 hex characters, see \`odoo-mcp keys list\`)`)
  return id
}

export const noKey = (id: string) => ({ key_not_found: `no key with ID ${id}` })

const VERIFY_NOTE = [
  'Before anything is stored, the gateway checks the login and secret against its Odoo, the way the key will use',
  'them: a secret Odoo refuses is never stored. Over JSON-RPC Odoo tells only that the login or the secret is',
  'wrong, never which; over JSON-2 the API key alone identifies the user, and the gateway checks that it belongs to',
  'LOGIN. The uid Odoo answers is stored with the key. --no-verify skips the check (offline provisioning): a wrong',
  'login or secret then shows at the first tool call.',
].join('\n')

const NO_VERIFY_OPTION = {
  type: 'boolean',
  description: 'Do not check the login and secret against Odoo (offline provisioning)',
} as const

/** Odoo may take a while (ODOO_TIMEOUT_MS is 30 s by default, and a check is up to three calls). */
export const ODOO_CHECK_TIMEOUT_MS = 90_000

/** What the gateway said about Odoo's check, as the CLI's messages put it. */
export function credentialsRefused(error: unknown, login: string, secret: string, unchanged: string): never {
  if (!(error instanceof AdminApiError)) throw error
  const message = error.message.split(secret).join('[redacted]')
  switch (error.code) {
    case 'odoo_credentials_refused':
    case 'odoo_login_mismatch':
      throw new CliError(`the Odoo credentials for '${login}' were not accepted: ${message}. ${unchanged}`)
    case 'odoo_unavailable':
    case 'odoo_error':
    case 'odoo_not_configured':
      throw new CliError(`cannot check the Odoo credentials: ${message}. ${unchanged} Retry once Odoo answers, or add --no-verify to skip the check.`)
  }
  throw error
}

function describeVerification(login: string, answer: { verified: boolean; login_checked: boolean; odoo_uid: number | null }): string {
  if (!answer.verified) return 'Odoo credentials not checked (--no-verify): a wrong login or secret shows at the first tool call.'
  const uid = answer.odoo_uid === null ? '' : ` (Odoo uid ${answer.odoo_uid})`
  if (!answer.login_checked) return `Odoo accepted the secret${uid}; Odoo did not tell the user's login, so '${login}' could not be compared with it.`
  return `Odoo credentials checked: Odoo accepted '${login}' and its secret${uid}.`
}

/** stderr, --json or not (stdout keeps exactly the documented output): whether the change is live yet. */
function sayApplied(context: CommandContext, applied: boolean): void {
  context.io.stderr.write(
    applied
      ? `Applied now: the gateway at ${gatewayUrl(context)} reloaded the key.\n`
      : "Recorded, but the key's object could not reload it at once: the change applies within KEY_CACHE_TTL_SECONDS (30 s by default).\n",
  )
}

const create: Command = {
  name: 'keys create',
  summary: 'Create a key acting as one Odoo user; prints the key once',
  synopsis: '--name NAME --odoo-login LOGIN --odoo-secret-file FILE [options]',
  description: [
    'Creates an API key for MCP clients. Every call made with it runs as the Odoo user LOGIN.',
    'The key is printed once and never stored: only its SHA-256 hash is kept.',
    "The Odoo secret (that user's API key, or password) is read from FILE, or from standard input with",
    '`--odoo-secret-file -`; it is never accepted on the command line. The gateway stores it sealed with',
    'CREDENTIALS_KEY. The creation is recorded in the admin log (`odoo-mcp keys history ID`).',
    VERIFY_NOTE,
  ].join('\n'),
  options: {
    name: { type: 'string', value: 'NAME', description: 'What the key is for, 1-100 characters (required)' },
    'odoo-login': { type: 'string', value: 'LOGIN', description: 'Odoo user the key acts as (required)' },
    'odoo-secret-file': {
      type: 'string',
      value: 'FILE',
      description: "File holding that user's Odoo API key or password; - reads standard input (required)",
    },
    expires: {
      type: 'string',
      value: 'WHEN',
      description: 'Expiry: a duration from now (90d, 12h, 30m, 45s) or an ISO 8601 date/date-time (2026-12-31, 2026-12-31T18:00:00Z)',
    },
    policy: { type: 'string', value: 'FILE', description: 'JSON policy document; without one (or a --template) the key may use nothing' },
    template: TEMPLATE_OPTION,
    'no-verify': NO_VERIFY_OPTION,
  },
  arity: 0,
  async run(context) {
    const name = checkName(stringOption(context, 'name'))
    const odooLogin = checkLogin(stringOption(context, 'odoo-login'))
    const expires = stringOption(context, 'expires')
    const expiresAt = expires === undefined ? null : parseMoment('expires', expires, context.now)
    const secretFile = requiredSecretFile(context)
    // Everything the user could get wrong on the command line is checked before reading stdin or files.
    const policy = await policyOptions(context)
    const odooSecret = await readSecret(secretFile, context.io)
    const created = await adminRequest<{ id: string; name: string; key: string; prefix: string; odoo_uid: number | null; verified: boolean; login_checked: boolean }>(
      context,
      'POST',
      '/keys',
      {
        body: {
          name,
          odoo_login: odooLogin,
          odoo_secret: odooSecret,
          policy: policy === null ? null : (JSON.parse(policy) as unknown),
          expires_at: expiresAt === null ? null : new Date(expiresAt).toISOString(),
          verify: context.values['no-verify'] !== true,
        },
        secretPayload: true,
        timeoutMs: ODOO_CHECK_TIMEOUT_MS,
      },
    ).catch((error: unknown) => credentialsRefused(error, odooLogin, odooSecret, 'No key was created.'))
    if (context.json) {
      printJson(context, { id: created.id, name: created.name, key: created.key, prefix: created.prefix, odooUid: created.odoo_uid, verified: created.verified })
      return EXIT_OK
    }
    print(
      context,
      [
        `Created key ${created.id} (${created.name}) for Odoo user ${odooLogin}${context.target.remote ? ' on the deployed gateway' : ''}.`,
        '',
        `    ${created.key}`,
        '',
        'This is the only time the key is shown: store it now. Only its hash is kept, it cannot be recovered.',
        describeVerification(odooLogin, created),
        `Expires: ${formatTime(expiresAt, 'never')}`,
        ...(policy === null ? ['No policy: the key may not use any tool until it has one (--policy FILE).'] : []),
      ].join('\n'),
    )
    return EXIT_OK
  },
}

/** The JSON `keys list` / `keys show` print (camelCase, stable since the first release). */
function recordJson(key: KeyJson) {
  return {
    id: key.id,
    name: key.name,
    prefix: key.prefix,
    odooLogin: key.odoo_login,
    status: key.status,
    expiringSoon: key.expiring_soon,
    createdAt: key.created_at,
    expiresAt: key.expires_at,
    revokedAt: key.revoked_at,
    rotatedAt: key.rotated_at,
    lastUsedAt: key.last_used_at,
  }
}

/** The STATUS column: "active", "expired", "revoked", or "active, EXPIRES IN 3d" within a week of expiry. */
function statusText(key: KeyJson, now: number): string {
  if (!key.expiring_soon) return key.status
  const left = ms(key.expires_at)! - now
  const inWords =
    left >= 86_400_000 ? `${Math.floor(left / 86_400_000)}d` : left >= 3_600_000 ? `${Math.floor(left / 3_600_000)}h` : `${Math.max(1, Math.floor(left / 60_000))}m`
  return `active, EXPIRES IN ${inWords}`
}

const APPLY_NOTE =
  'The gateway makes the change in D1 and reloads the key at once, and records it in the admin log ' +
  '(`odoo-mcp keys history ID`).'

const list: Command = {
  name: 'keys list',
  summary: 'List keys (never secrets)',
  synopsis: '[--status active|expired|revoked] [--json]',
  description:
    'Lists the keys with their status (active, expired, revoked); keys expiring within 7 days are flagged. ' +
    'Keys and Odoo secrets are never shown. LAST USED is copied from the gateway at most once a minute.',
  options: { status: { type: 'string', value: 'STATUS', description: 'Only keys in this status: active, expired or revoked' } },
  arity: 0,
  async run(context) {
    const status = stringOption(context, 'status')
    if (status !== undefined && !['active', 'expired', 'revoked'].includes(status)) throw new UsageError('--status must be active, expired or revoked')
    const keys = await allPages<KeyJson>(context, '/keys', { status })
    if (context.json) {
      printJson(context, keys.map(recordJson))
      return EXIT_OK
    }
    if (keys.length === 0) {
      print(context, status ? `No ${status} keys.` : 'No keys yet. Create one with `odoo-mcp keys create` (see --help).')
      return EXIT_OK
    }
    const rows = keys.map((key) => [
      key.id,
      key.name,
      key.prefix,
      key.odoo_login,
      formatTime(ms(key.created_at)),
      formatTime(ms(key.expires_at), 'never'),
      statusText(key, context.now),
      formatTime(ms(key.last_used_at), 'never'),
    ])
    print(context, formatTable(['ID', 'NAME', 'PREFIX', 'ODOO LOGIN', 'CREATED', 'EXPIRES', 'STATUS', 'LAST USED'], rows))
    return EXIT_OK
  },
}

async function fetchKey(context: CommandContext, id: string): Promise<KeyJson> {
  return orSay(adminRequest<KeyJson>(context, 'GET', `/keys/${id}`), noKey(id))
}

/**
 * `keys create` and `keys set-odoo-secret` store the uid Odoo answered when they checked the credentials. Without the
 * check (--no-verify, or keys made before it existed) it is unknown: the gateway fills it in at the first use only
 * over JSON-RPC (`common.authenticate`); JSON-2 never tells it.
 */
const UID_NOT_KNOWN =
  'not known (the credentials were not checked against Odoo: over JSON-RPC the gateway records it at first use, ' +
  'over JSON-2 it never learns it; `keys set-odoo-secret` checks them and records it)'

const show: Command = {
  name: 'keys show',
  summary: 'Show one key',
  synopsis: 'ID [--json]',
  description: 'Shows the details of one key, its policy included. The key and the Odoo secret are never shown.',
  options: {},
  arity: 1,
  async run(context) {
    const key = await fetchKey(context, keyIdArgument(context))
    if (context.json) {
      printJson(context, { ...recordJson(key), odooUid: key.odoo_uid, policy: key.policy ?? null })
      return EXIT_OK
    }
    const policyText = key.policy === null || key.policy === undefined ? 'none (the key may not use any tool)' : JSON.stringify(key.policy, null, 2)
    const lines: [string, string][] = [
      ['ID', key.id],
      ['Name', key.name],
      ['Prefix', key.prefix],
      ['Odoo login', key.odoo_login],
      ['Odoo uid', key.odoo_uid === null ? UID_NOT_KNOWN : String(key.odoo_uid)],
      ['Status', statusText(key, context.now)],
      ['Created', formatTime(ms(key.created_at))],
      ['Expires', formatTime(ms(key.expires_at), 'never')],
      ['Revoked', formatTime(ms(key.revoked_at))],
      ['Rotated', formatTime(ms(key.rotated_at), 'never')],
      ['Last used', formatTime(ms(key.last_used_at), 'never')],
      ['Policy', policyText],
    ]
    print(context, lines.map(([label, value]) => `${(label + ':').padEnd(12)}${value.replaceAll('\n', '\n' + ' '.repeat(12))}`).join('\n'))
    return EXIT_OK
  },
}

const revoke: Command = {
  name: 'keys revoke',
  summary: 'Revoke a key',
  synopsis: 'ID',
  description: `Revokes a key for good: requests made with it are refused. Revoking a revoked key changes nothing.\n${APPLY_NOTE}`,
  options: {},
  arity: 1,
  async run(context) {
    const id = keyIdArgument(context)
    const result = await orSay(
      adminRequest<{ id: string; revoked_at: string; already_revoked: boolean; applied: boolean }>(context, 'POST', `/keys/${id}/revoke`, { body: {} }),
      noKey(id),
    )
    sayApplied(context, result.applied)
    if (context.json) printJson(context, { id, revokedAt: result.revoked_at, alreadyRevoked: result.already_revoked })
    else if (result.already_revoked) print(context, `Key ${id} was already revoked on ${formatTime(ms(result.revoked_at))}.`)
    else print(context, `Revoked key ${id}.`)
    return EXIT_OK
  },
}

const policySet: Command = {
  name: 'keys policy set',
  summary: "Replace a key's policy (models, operations, fields, client IPs)",
  synopsis: 'ID --policy FILE | --template NAME [--policy FILE]',
  description: [
    'Validates the policy in FILE (the same schema the gateway enforces; every problem is listed with its JSON path)',
    'and stores it on the key. See README.md, "Key policies". The admin log keeps the policy before and after.',
    APPLY_NOTE,
  ].join('\n'),
  options: {
    policy: { type: 'string', value: 'FILE', description: 'JSON policy document (this or --template is required)' },
    template: TEMPLATE_OPTION,
  },
  arity: 1,
  async run(context) {
    const id = keyIdArgument(context)
    const text = await policyOptions(context)
    if (text === null) throw new UsageError('missing --policy FILE (or --template NAME)', true)
    const policy = JSON.parse(text) as unknown
    const result = await orSay(adminRequest<{ applied: boolean }>(context, 'PUT', `/keys/${id}/policy`, { body: { policy } }), noKey(id))
    sayApplied(context, result.applied)
    if (context.json) printJson(context, { id, policy })
    else print(context, `Policy of key ${id} replaced.`)
    return EXIT_OK
  },
}

const policyShow: Command = {
  name: 'keys policy show',
  summary: "Print a key's policy as JSON",
  synopsis: 'ID',
  description: 'Prints the policy stored on a key (null when it has none: the key may use nothing).',
  options: {},
  arity: 1,
  async run(context) {
    printJson(context, (await fetchKey(context, keyIdArgument(context))).policy ?? null)
    return EXIT_OK
  },
}

const setOdooSecret: Command = {
  name: 'keys set-odoo-secret',
  summary: 'Replace the Odoo secret a key uses (checked against Odoo first); applies at once',
  synopsis: 'ID --odoo-secret-file FILE [--no-verify]',
  description: [
    "Replaces the Odoo secret (the Odoo user's API key, or password) of a key: same key, ID, policy and Odoo login.",
    'The secret is read from FILE, or from standard input with `--odoo-secret-file -`; never from the command line.',
    "Unless --no-verify, the gateway first checks it with the key's Odoo login against its Odoo, as `keys create`",
    'does: a secret Odoo refuses is not stored. The uid Odoo answers replaces the stored one (with --no-verify it is',
    'cleared: not known until checked). The gateway reloads the key, so the next request uses the new secret, and',
    "records the change in the admin log and in the key's audit chain (`odoo-mcp audit search --key ID`:",
    'admin/set-odoo-secret); never the secret.',
  ].join('\n'),
  options: {
    'odoo-secret-file': {
      type: 'string',
      value: 'FILE',
      description: "File holding the Odoo user's new API key or password; - reads standard input (required)",
    },
    'no-verify': NO_VERIFY_OPTION,
  },
  arity: 1,
  async run(context) {
    const id = keyIdArgument(context)
    const secretFile = requiredSecretFile(context)
    const key = await fetchKey(context, id)
    if (key.status !== 'active') throw new CliError(`key ${id} is ${key.status}: a new Odoo secret would not make it usable; create a new key instead`)
    const odooSecret = await readSecret(secretFile, context.io)
    const result = await orSay(
      adminRequest<{ odoo_uid: number | null; verified: boolean; login_checked: boolean; applied: boolean; in_key_audit_chain: boolean }>(
        context,
        'PUT',
        `/keys/${id}/odoo-secret`,
        { body: { odoo_secret: odooSecret, verify: context.values['no-verify'] !== true }, secretPayload: true, timeoutMs: ODOO_CHECK_TIMEOUT_MS },
      ).catch((error: unknown) => credentialsRefused(error, key.odoo_login, odooSecret, 'The key was not changed.')),
      { ...noKey(id), key_revoked: `key ${id} was revoked meanwhile: its Odoo secret was not replaced` },
    )
    context.io.stderr.write(
      result.applied
        ? `Applied now: the gateway at ${gatewayUrl(context)} reloaded the key and recorded the change in its audit chain.\n`
        : "Recorded, but the key's object could not reload it at once: the change applies within KEY_CACHE_TTL_SECONDS (30 s by default).\n",
    )
    if (context.json) {
      printJson(context, { id, odooLogin: key.odoo_login, odooUid: result.odoo_uid, verified: result.verified, audited: result.in_key_audit_chain })
    } else {
      print(context, [`Odoo secret of key ${id} (${key.name}) replaced.`, describeVerification(key.odoo_login, result)].join('\n'))
    }
    return EXIT_OK
  },
}

const DEFAULT_GRACE = '24h'

const rotate: Command = {
  name: 'keys rotate',
  summary: 'Issue a new secret for a key; the old one works until the grace period ends',
  synopsis: 'ID [--grace 24h] [--json]',
  description: [
    'Issues a new secret for the same key: same ID, policy, Odoo user, rate limit and audit identity. The new key is',
    'printed once. The previous secret keeps working until the grace period ends (default 24h; 0s ends it now), so',
    'clients can switch without a failed request.',
    APPLY_NOTE,
  ].join('\n'),
  options: {
    grace: {
      type: 'string',
      value: 'WHEN',
      description: `How long the old secret keeps working: 24h, 30m, 0s, or an ISO 8601 date/date-time (default ${DEFAULT_GRACE})`,
    },
  },
  arity: 1,
  async run(context) {
    const id = keyIdArgument(context)
    const graceEndsAt = parseMoment('grace', stringOption(context, 'grace') ?? DEFAULT_GRACE, context.now, true)
    const rotated = await orSay(
      adminRequest<{ key: string; prefix: string; grace_ends_at: string; applied: boolean }>(context, 'POST', `/keys/${id}/rotate`, {
        body: { grace_seconds: Math.ceil((graceEndsAt - context.now) / 1000) },
      }),
      {
        ...noKey(id),
        key_revoked: `key ${id} is revoked: rotating it would not make it usable; create a new key instead`,
        key_expired: `key ${id} is expired: rotating it would not make it usable; create a new key instead`,
      },
    ).catch((error: unknown) => {
      if (error instanceof AdminApiError && error.code === 'invalid_body') throw new UsageError('--grace may be at most 100 years')
      throw error
    })
    sayApplied(context, rotated.applied)
    if (context.json) {
      printJson(context, { id, key: rotated.key, prefix: rotated.prefix, graceEndsAt: rotated.grace_ends_at })
      return EXIT_OK
    }
    const ends = ms(rotated.grace_ends_at)!
    print(
      context,
      [
        `Rotated key ${id}. Its new secret:`,
        '',
        `    ${rotated.key}`,
        '',
        'This is the only time it is shown: store it now.',
        ends <= Date.now() ? 'The previous secret no longer works.' : `The previous secret keeps working until ${formatTime(ends)}.`,
      ].join('\n'),
    )
    return EXIT_OK
  },
}

const history: Command = {
  name: 'keys history',
  summary: "A key's changes: who, when, what, before and after (the admin log)",
  synopsis: 'ID [--json]',
  description: [
    'Lists every change made to a key through the admin API, oldest first: creation, policy changes (before and',
    'after), rotations, Odoo secret replacements (never the secret), revocation; with who made it (the name the CLI',
    'signed as, or the Cloudflare Access identity), from which address, and the request id. The admin log is',
    'hash-chained (`odoo-mcp audit verify` checks it). For SOC 2 change management and "document your API key',
    'permissions".',
  ].join('\n'),
  options: {},
  arity: 1,
  async run(context) {
    const id = keyIdArgument(context)
    const records = await orSay(allPages<AdminRecordJson>(context, `/keys/${id}/history`), noKey(id))
    if (context.json) {
      printJson(context, records)
      return EXIT_OK
    }
    if (records.length === 0) {
      print(context, `No recorded changes for key ${id} (it was made before the admin log existed).`)
      return EXIT_OK
    }
    print(context, records.map(describeAdminRecord).join('\n\n'))
    return EXIT_OK
  },
}

interface TryJson {
  allowed: boolean
  tool: string
  stage?: string
  reason?: string
  details?: string[]
  odoo_request?: Record<string, unknown>
  checked_when_run?: string[]
}

const tryCall: Command = {
  name: 'keys try',
  summary: 'Would this tool call be allowed for the key, and why not (reads no Odoo data)',
  synopsis: "ID --tool NAME [--args JSON] [--ip ADDRESS] [--json]",
  description: [
    'Runs a tool call through everything a real call goes through, and stops before Odoo is asked for data: the',
    "key's state, its IP rules (for --ip), the tool's availability under the policy, the tool's arguments, and the",
    "policy's guard, which may read field metadata from Odoo as the key's user. Prints what the gateway would ask",
    'Odoo for (model, operation, fields, order), or where and why the call would be refused, in the words the agent',
    'would read. Rate limits are not judged. Exit code 0 when allowed, 1 when refused.',
  ].join('\n'),
  options: {
    tool: { type: 'string', value: 'NAME', description: 'The tool (search_records, read_records, count_records, aggregate_records, describe_model, list_models, create_record, update_records, delete_records)' },
    args: { type: 'string', value: 'JSON', description: 'The tool\'s arguments as a JSON object (default {})' },
    ip: { type: 'string', value: 'ADDRESS', description: "Judge the key's IP rules for this client address" },
  },
  arity: 1,
  async run(context) {
    const id = keyIdArgument(context)
    const tool = stringOption(context, 'tool')
    if (tool === undefined) throw new UsageError('missing --tool NAME', true)
    const argsText = stringOption(context, 'args') ?? '{}'
    let args: unknown
    try {
      args = JSON.parse(argsText)
    } catch (error) {
      throw new UsageError(`--args is not valid JSON: ${(error as Error).message}`)
    }
    if (args === null || typeof args !== 'object' || Array.isArray(args)) throw new UsageError('--args must be a JSON object, such as \'{"model": "res.partner"}\'')
    const ip = stringOption(context, 'ip')
    const verdict = await orSay(
      adminRequest<TryJson>(context, 'POST', `/keys/${id}/try`, { body: { tool, arguments: args, ...(ip === undefined ? {} : { ip }) }, timeoutMs: ODOO_CHECK_TIMEOUT_MS }),
      noKey(id),
    )
    if (context.json) printJson(context, verdict)
    else if (verdict.allowed) {
      const request = verdict.odoo_request ?? {}
      const lines = [`Allowed: ${verdict.tool} for key ${id}. The gateway would ask Odoo for:`]
      for (const [name, value] of Object.entries(request)) {
        const flat = Array.isArray(value) && value.every((item) => typeof item !== 'object' || item === null)
        lines.push(`  ${name}: ${typeof value === 'string' ? value : flat ? (value as unknown[]).join(', ') : JSON.stringify(value)}`)
      }
      if (verdict.checked_when_run?.length) lines.push('Checked when the call runs (it depends on data):', ...verdict.checked_when_run.map((check) => `  ${check}`))
      print(context, lines.join('\n'))
    } else {
      const details = (verdict.details ?? []).map((line) => `\n  ${line}`).join('')
      print(context, `Refused (${verdict.stage}): ${verdict.reason}${details}`)
    }
    return verdict.allowed ? EXIT_OK : EXIT_FAILURE
  },
}

export const keyCommands: Command[] = [create, list, show, rotate, revoke, setOdooSecret, policySet, policyShow, history, tryCall]
