/** `odoo-mcp keys create|list|show|rotate|revoke|policy set|policy show`. */
import { readFile } from 'node:fs/promises'
import { print, printJson, stringOption, type Command, type CommandContext } from '../command'
import { loadCredentialsKey } from '../credentials'
import { CliError, EXIT_OK, UsageError } from '../errors'
import { formatTable, formatTime, isoOrNull } from '../format'
import { describeNotification, notifyGateway, type Notification } from '../gateway'
import { checkLogin, checkName, parseMoment, readSecret } from '../key-input'
import { createKey, expiresSoon, getKey, listKeys, revokeKey, rotateKey, setPolicy, statusOf, type KeyRecord } from '../keys-store'
import { PolicyError, preparePolicy } from '../policy'

const KEY_ID = /^key_[0-9a-f]{16}$/

/** The ID argument of show/revoke, checked before any wrangler call. Never echoes a pasted API key. */
function keyIdArgument(context: CommandContext): string {
  const id = context.args[0]
  if (id === undefined) throw new UsageError('missing key ID (key_ + 16 hex characters, see `odoo-mcp keys list`)')
  if (id.startsWith('omk_')) {
    throw new UsageError('that is an API key or its prefix, not a key ID: use the ID (key_...) shown by `odoo-mcp keys list`')
  }
  if (!KEY_ID.test(id)) throw new UsageError(`'${id}' is not a key ID (key_ + 16 hex characters, see \`odoo-mcp keys list\`)`)
  return id
}


async function readPolicy(file: string | undefined): Promise<string | null> {
  if (file === undefined) return null
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw new CliError(`cannot read --policy ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  try {
    return preparePolicy(text, file)
  } catch (error) {
    if (error instanceof PolicyError) throw new CliError(error.message)
    throw error
  }
}

const create: Command = {
  name: 'keys create',
  summary: 'Create a key acting as one Odoo user; prints the key once',
  synopsis: '--name NAME --odoo-login LOGIN --odoo-secret-file FILE [options]',
  description: [
    'Creates an API key for MCP clients. Every call made with it runs as the Odoo user LOGIN.',
    'The key is printed once and never stored: only its SHA-256 hash is kept.',
    "The Odoo secret (that user's API key, or password) is read from FILE, or from standard input with",
    '`--odoo-secret-file -`; it is never accepted on the command line. It is stored encrypted with CREDENTIALS_KEY',
    '(from the environment variable, --credentials-key-file, or .dev.vars next to the wrangler config when local).',
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
    policy: { type: 'string', value: 'FILE', description: 'JSON policy document; without one the key may use nothing' },
    'credentials-key-file': {
      type: 'string',
      value: 'FILE',
      description: 'File holding CREDENTIALS_KEY (for --remote, unless the env variable is set)',
    },
  },
  arity: 0,
  async run(context) {
    const name = checkName(stringOption(context, 'name'))
    const odooLogin = checkLogin(stringOption(context, 'odoo-login'))
    const expires = stringOption(context, 'expires')
    const expiresAt = expires === undefined ? null : parseMoment('expires', expires, context.now)
    const secretFile = stringOption(context, 'odoo-secret-file')
    if (secretFile === undefined) {
      throw new UsageError('--odoo-secret-file is required: a file holding the Odoo API key or password, or - for standard input')
    }
    // Everything the user could get wrong on the command line is checked before reading stdin or files.
    const { key: credentialsKey } = await loadCredentialsKey({
      remote: context.target.remote,
      keyFile: stringOption(context, 'credentials-key-file'),
      projectDir: context.projectDir,
      env: context.env,
    })
    const policy = await readPolicy(stringOption(context, 'policy'))
    const odooSecret = await readSecret(secretFile, context.io)
    const created = await createKey(context.target, credentialsKey, {
      name,
      odooLogin,
      odooSecret,
      policy,
      expiresAt,
      now: context.now,
    })
    if (context.json) {
      printJson(context, { id: created.id, name: created.name, key: created.key, prefix: created.prefix })
      return EXIT_OK
    }
    print(
      context,
      [
        `Created key ${created.id} (${created.name}) for Odoo user ${odooLogin}${context.target.remote ? ' in the deployed database' : ''}.`,
        '',
        `    ${created.key}`,
        '',
        'This is the only time the key is shown: store it now. Only its hash is kept, it cannot be recovered.',
        `Expires: ${formatTime(expiresAt, 'never')}`,
        ...(policy === null ? ['No policy: the key may not use any tool until it has one (--policy FILE).'] : []),
      ].join('\n'),
    )
    return EXIT_OK
  },
}

function recordJson(record: KeyRecord, now: number) {
  return {
    id: record.id,
    name: record.name,
    prefix: record.prefix,
    odooLogin: record.odooLogin,
    status: statusOf(record, now),
    expiringSoon: expiresSoon(record, now),
    createdAt: isoOrNull(record.createdAt),
    expiresAt: isoOrNull(record.expiresAt),
    revokedAt: isoOrNull(record.revokedAt),
    rotatedAt: isoOrNull(record.rotatedAt),
    lastUsedAt: isoOrNull(record.lastUsedAt),
  }
}

/** The STATUS column: "active", "expired", "revoked", or "active, EXPIRES IN 3d" within a week of expiry. */
function statusText(record: KeyRecord, now: number): string {
  if (!expiresSoon(record, now)) return statusOf(record, now)
  const left = record.expiresAt! - now
  const inWords =
    left >= 86_400_000 ? `${Math.floor(left / 86_400_000)}d` : left >= 3_600_000 ? `${Math.floor(left / 3_600_000)}h` : `${Math.max(1, Math.floor(left / 60_000))}m`
  return `active, EXPIRES IN ${inWords}`
}

/**
 * Tells the gateway about a change and says on stderr when it applies, --json or not: stdout keeps exactly the
 * documented JSON, and a script still sees in its log whether the change is live yet.
 */
async function applyNow(context: CommandContext, id: string): Promise<Notification> {
  const notification = await notifyGateway(context, id)
  context.io.stderr.write(describeNotification(notification) + '\n')
  return notification
}

const GATEWAY_NOTE =
  'The change is written to D1, then the gateway is told to apply it at once (--gateway, ODOO_MCP_GATEWAY_URL; ' +
  'local default http://127.0.0.1:8787). If it cannot be reached, the change applies within KEY_CACHE_TTL_SECONDS.'

const list: Command = {
  name: 'keys list',
  summary: 'List keys (never secrets)',
  synopsis: '[--json]',
  description:
    'Lists the keys with their status (active, expired, revoked); keys expiring within 7 days are flagged. ' +
    'Keys and Odoo secrets are never shown. LAST USED is copied from the gateway at most once a minute.',
  options: {},
  arity: 0,
  async run(context) {
    const records = await listKeys(context.target)
    if (context.json) {
      printJson(context, records.map((record) => recordJson(record, context.now)))
      return EXIT_OK
    }
    if (records.length === 0) {
      print(context, 'No keys yet. Create one with `odoo-mcp keys create` (see --help).')
      return EXIT_OK
    }
    const rows = records.map((record) => [
      record.id,
      record.name,
      record.prefix,
      record.odooLogin,
      formatTime(record.createdAt),
      formatTime(record.expiresAt, 'never'),
      statusText(record, context.now),
      formatTime(record.lastUsedAt, 'never'),
    ])
    print(context, formatTable(['ID', 'NAME', 'PREFIX', 'ODOO LOGIN', 'CREATED', 'EXPIRES', 'STATUS', 'LAST USED'], rows))
    return EXIT_OK
  },
}

function parsedPolicy(policy: string | null): unknown {
  if (policy === null) return null
  try {
    return JSON.parse(policy)
  } catch {
    return policy
  }
}

/** The key named by the ID argument; a clear error when there is none. */
async function keyArgument(context: CommandContext): Promise<KeyRecord> {
  const id = keyIdArgument(context)
  const record = await getKey(context.target, id)
  if (!record) throw new CliError(`no key with ID ${id}`)
  return record
}

const show: Command = {
  name: 'keys show',
  summary: 'Show one key',
  synopsis: 'ID [--json]',
  description: 'Shows the details of one key, its policy included. The key and the Odoo secret are never shown.',
  options: {},
  arity: 1,
  async run(context) {
    const record = await keyArgument(context)
    const policy = parsedPolicy(record.policy)
    if (context.json) {
      printJson(context, { ...recordJson(record, context.now), odooUid: record.odooUid, policy })
      return EXIT_OK
    }
    const policyText = policy === null ? 'none (the key may not use any tool)' : JSON.stringify(policy, null, 2)
    const lines: [string, string][] = [
      ['ID', record.id],
      ['Name', record.name],
      ['Prefix', record.prefix],
      ['Odoo login', record.odooLogin],
      ['Odoo uid', record.odooUid === null ? '- (resolved at first use)' : String(record.odooUid)],
      ['Status', statusText(record, context.now)],
      ['Created', formatTime(record.createdAt)],
      ['Expires', formatTime(record.expiresAt, 'never')],
      ['Revoked', formatTime(record.revokedAt)],
      ['Rotated', formatTime(record.rotatedAt, 'never')],
      ['Last used', formatTime(record.lastUsedAt, 'never')],
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
  description: `Revokes a key for good: requests made with it are refused. Revoking a revoked key changes nothing.\n${GATEWAY_NOTE}`,
  options: {},
  arity: 1,
  async run(context) {
    const id = keyIdArgument(context)
    const result = await revokeKey(context.target, id, context.now)
    if (!result.found) throw new CliError(`no key with ID ${id}`)
    const { record, alreadyRevoked } = result
    await applyNow(context, id)
    if (context.json) {
      printJson(context, { id: record.id, revokedAt: isoOrNull(record.revokedAt), alreadyRevoked })
    } else if (alreadyRevoked) {
      print(context, `Key ${record.id} (${record.name}) was already revoked on ${formatTime(record.revokedAt)}.`)
    } else {
      print(context, `Revoked key ${record.id} (${record.name}).`)
    }
    return EXIT_OK
  },
}

const policySet: Command = {
  name: 'keys policy set',
  summary: "Replace a key's policy (models, operations, fields, client IPs)",
  synopsis: 'ID --policy FILE',
  description: [
    "Validates the policy in FILE (the same schema the gateway enforces; every problem is listed with its JSON path)",
    'and stores it on the key. See README.md, "Key policies".',
    GATEWAY_NOTE,
  ].join('\n'),
  options: {
    policy: { type: 'string', value: 'FILE', description: 'JSON policy document (required)' },
  },
  arity: 1,
  async run(context) {
    const id = keyIdArgument(context)
    const file = stringOption(context, 'policy')
    if (file === undefined) throw new UsageError('missing --policy FILE', true)
    const policy = await readPolicy(file)
    const { found } = await setPolicy(context.target, id, policy!)
    if (!found) throw new CliError(`no key with ID ${id}`)
    await applyNow(context, id)
    if (context.json) printJson(context, { id, policy: JSON.parse(policy!) })
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
    printJson(context, parsedPolicy((await keyArgument(context)).policy))
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
    GATEWAY_NOTE,
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
    const rotated = await rotateKey(context.target, id, context.now, graceEndsAt)
    await applyNow(context, id)
    if (context.json) {
      printJson(context, { id: rotated.id, key: rotated.key, prefix: rotated.prefix, graceEndsAt: new Date(rotated.graceEndsAt).toISOString() })
      return EXIT_OK
    }
    print(
      context,
      [
        `Rotated key ${id}. Its new secret:`,
        '',
        `    ${rotated.key}`,
        '',
        'This is the only time it is shown: store it now.',
        rotated.graceEndsAt <= context.now
          ? 'The previous secret no longer works.'
          : `The previous secret keeps working until ${formatTime(rotated.graceEndsAt)}.`,
      ].join('\n'),
    )
    return EXIT_OK
  },
}

export const keyCommands: Command[] = [create, list, show, rotate, revoke, policySet, policyShow]
