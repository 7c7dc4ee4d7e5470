/** `odoo-mcp keys create|list|show|rotate|revoke|set-odoo-secret|policy set|policy show`. */
import { print, printJson, stringOption, type Command, type CommandContext } from '../command'
import { loadCredentialsKey } from '../credentials'
import { CliError, EXIT_OK, UsageError } from '../errors'
import { formatTable, formatTime, isoOrNull } from '../format'
import { adminPost, describeNotification, notifyGateway, type Notification } from '../gateway'
import { checkLogin, checkName, parseMoment, readSecret } from '../key-input'
import {
  createKey,
  expiresSoon,
  getKey,
  listKeys,
  replaceOdooSecret,
  revokeKey,
  rotateKey,
  setPolicy,
  statusOf,
  type KeyRecord,
} from '../keys-store'
import { describeVerification, verifyOdooCredentials, type VerifiedCredentials } from '../odoo-verify'
import { readPolicyFile } from '../policy'


/** The --odoo-secret-file option, which create and set-odoo-secret require. */
function requiredSecretFile(context: CommandContext): string {
  const secretFile = stringOption(context, 'odoo-secret-file')
  if (secretFile === undefined) {
    throw new UsageError('--odoo-secret-file is required: a file holding the Odoo API key or password, or - for standard input')
  }
  return secretFile
}

/** CREDENTIALS_KEY, which seals Odoo secrets: --credentials-key-file, the environment, or .dev.vars locally. */
async function credentialsKeyOf(context: CommandContext): Promise<CryptoKey> {
  const { key } = await loadCredentialsKey({
    remote: context.target.remote,
    keyFile: stringOption(context, 'credentials-key-file'),
    projectDir: context.projectDir,
    env: context.env,
  })
  return key
}

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


const VERIFY_NOTE = [
  'Before anything is stored, the gateway checks the login and secret against its Odoo, the way the key will use',
  'them (signed admin call; --gateway, ODOO_MCP_GATEWAY_URL, local default http://127.0.0.1:8787 or the URL',
  '`npm start` wrote): a secret Odoo refuses is never stored. Over JSON-RPC Odoo tells only that the login or the',
  'secret is wrong, never which; over JSON-2 the API key alone identifies the user, and the gateway checks that it',
  'belongs to LOGIN. The uid Odoo answers is stored with the key. --no-verify skips the check (offline provisioning,',
  'no gateway running): a wrong login or secret then shows at the first tool call.',
].join('\n')

const NO_VERIFY_OPTION = {
  type: 'boolean',
  description: 'Do not check the login and secret against Odoo through the gateway (offline provisioning)',
} as const

const CREDENTIALS_KEY_FILE_OPTION = {
  type: 'string',
  value: 'FILE',
  description: 'File holding CREDENTIALS_KEY (for --remote, unless the env variable is set)',
} as const

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
    policy: { type: 'string', value: 'FILE', description: 'JSON policy document; without one the key may use nothing' },
    'credentials-key-file': CREDENTIALS_KEY_FILE_OPTION,
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
    const credentialsKey = await credentialsKeyOf(context)
    const policy = await readPolicyFile(stringOption(context, 'policy'))
    const odooSecret = await readSecret(secretFile, context.io)
    const verified = await verifyUnlessAsked(context, odooLogin, odooSecret, 'No key was created.')
    const created = await createKey(context.target, credentialsKey, {
      name,
      odooLogin,
      odooSecret,
      odooUid: verified?.uid ?? null,
      policy,
      expiresAt,
      now: context.now,
    })
    if (context.json) {
      printJson(context, {
        id: created.id,
        name: created.name,
        key: created.key,
        prefix: created.prefix,
        odooUid: verified?.uid ?? null,
        verified: verified !== undefined,
      })
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
        describeVerification(odooLogin, verified),
        `Expires: ${formatTime(expiresAt, 'never')}`,
        ...(policy === null ? ['No policy: the key may not use any tool until it has one (--policy FILE).'] : []),
      ].join('\n'),
    )
    return EXIT_OK
  },
}

/** The Odoo credentials checked through the gateway, or undefined with --no-verify. @throws CliError */
async function verifyUnlessAsked(
  context: CommandContext,
  login: string,
  secret: string,
  unchanged: string,
): Promise<VerifiedCredentials | undefined> {
  if (context.values['no-verify'] === true) return undefined
  return verifyOdooCredentials(context, login, secret, unchanged)
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
      ['Odoo uid', record.odooUid === null ? UID_NOT_KNOWN : String(record.odooUid)],
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
    const policy = await readPolicyFile(file)
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

const setOdooSecret: Command = {
  name: 'keys set-odoo-secret',
  summary: "Replace the Odoo secret a key uses (checked against Odoo first); applies at once",
  synopsis: 'ID --odoo-secret-file FILE [--no-verify]',
  description: [
    "Replaces the Odoo secret (the Odoo user's API key, or password) of a key: same key, ID, policy and Odoo login.",
    'The secret is read from FILE, or from standard input with `--odoo-secret-file -`; never from the command line.',
    "Unless --no-verify, the gateway first checks it with the key's Odoo login against its Odoo, as `keys create`",
    'does: a secret Odoo refuses is not stored. The uid Odoo answers replaces the stored one (with --no-verify it is',
    'cleared: not known until checked). Then the gateway reloads the key, so the next request uses the new secret,',
    "and records the change in the key's audit chain (`odoo-mcp audit search --key ID`: admin/set-odoo-secret, never",
    'the secret). If the gateway cannot be reached, the change applies within KEY_CACHE_TTL_SECONDS and is not',
    'recorded in the audit log; the CLI says so.',
  ].join('\n'),
  options: {
    'odoo-secret-file': {
      type: 'string',
      value: 'FILE',
      description: "File holding the Odoo user's new API key or password; - reads standard input (required)",
    },
    'credentials-key-file': CREDENTIALS_KEY_FILE_OPTION,
    'no-verify': NO_VERIFY_OPTION,
  },
  arity: 1,
  async run(context) {
    const id = keyIdArgument(context)
    const secretFile = requiredSecretFile(context)
    const credentialsKey = await credentialsKeyOf(context)
    const record = await getKey(context.target, id)
    if (!record) throw new CliError(`no key with ID ${id}`)
    const status = statusOf(record, context.now)
    if (status !== 'active') {
      throw new CliError(`key ${id} is ${status}: a new Odoo secret would not make it usable; create a new key instead`)
    }
    const odooSecret = await readSecret(secretFile, context.io)
    const verified = await verifyUnlessAsked(context, record.odooLogin, odooSecret, 'The key was not changed.')
    const odooUid = verified?.uid ?? null
    const { found } = await replaceOdooSecret(context.target, credentialsKey, id, odooSecret, odooUid)
    if (!found) throw new CliError(`key ${id} was revoked meanwhile: its Odoo secret was not replaced`)
    const recorded = await adminPost<{ audit_seq?: number }>(context, `/admin/keys/${id}/odoo-secret-replaced`, {
      verified: verified !== undefined,
      odoo_uid: odooUid,
    })
    context.io.stderr.write(
      (recorded.ok
        ? `Applied now: the gateway at ${recorded.gateway} reloaded the key and recorded the change in its audit chain.`
        : `Could not tell the gateway${recorded.gateway ? ` at ${recorded.gateway}` : ''} (${recorded.reason}): the change applies ` +
          'within the key cache time (KEY_CACHE_TTL_SECONDS, 30 s by default), and it is NOT recorded in the audit log.') + '\n',
    )
    if (context.json) {
      printJson(context, { id, odooLogin: record.odooLogin, odooUid, verified: verified !== undefined, audited: recorded.ok })
    } else {
      print(context, [`Odoo secret of key ${id} (${record.name}) replaced.`, describeVerification(record.odooLogin, verified)].join('\n'))
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

export const keyCommands: Command[] = [create, list, show, rotate, revoke, setOdooSecret, policySet, policyShow]
