/** `odoo-mcp webhooks source add|add|list|remove|deliveries|redeliver`: webhook sources and subscriptions in D1. */
import { lookup } from 'node:dns/promises'
import { readFile } from 'node:fs/promises'
import { sealSecret, sha256Hex } from '../../src/lib/crypto'
import { bytesToHex } from '../../src/lib/encoding'
import { ALERTS_MODEL } from '../../src/alerts/rules'
import { generateWebhookSecret, isValidWebhookSecret } from '../../src/webhooks/signing'
import { checkAddress, checkWebhookUrl } from '../../src/webhooks/url-guard'
import { print, printJson, stringOption, type Command, type CommandContext } from '../command'
import { loadCredentialsKey } from '../credentials'
import { executeSql } from '../d1'
import { CliError, EXIT_OK, UsageError } from '../errors'
import { formatTable, formatTime, isoOrNull } from '../format'
import { adminPost, gatewayUrl, LOCAL_GATEWAY_URL } from '../gateway'
import { parseMoment } from '../key-input'
import { sql } from '../sql'

const SOURCE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/
const SUBSCRIPTION_ID = /^whk_[0-9a-f]{16}$/
const DELIVERY_ID = /^dlv_[0-9a-f]{16}$/
const MODEL = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/
const FIELD = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/
const EVENT = /^[a-z][a-z0-9_]{0,31}$/

const random = (bytes: number) => bytesToHex(crypto.getRandomValues(new Uint8Array(bytes)))


function list(value: string, what: string, pattern: RegExp): string[] {
  const items = value.split(',').map((item) => item.trim()).filter(Boolean)
  if (items.length === 0) throw new UsageError(`--${what} needs at least one value`)
  const bad = items.find((item) => !pattern.test(item))
  if (bad !== undefined) throw new UsageError(`--${what}: '${bad}' is not valid`)
  return [...new Set(items)]
}

function argument(context: CommandContext, pattern: RegExp, what: string): string {
  const value = context.args[0]
  if (value === undefined || !pattern.test(value)) throw new UsageError(`missing or malformed ${what}`)
  return value
}

/** Local development may deliver to loopback; a deployed gateway never does. */
const allowLoopback = (context: CommandContext) => !context.target.remote

/** The URL's host must resolve to public addresses only (checked again before every delivery). */
async function checkTarget(context: CommandContext, url: string): Promise<string> {
  const verdict = checkWebhookUrl(url, allowLoopback(context))
  if (!verdict.ok) throw new CliError(`--url refused: ${verdict.reason}`)
  const host = verdict.url.hostname.replace(/^\[|\]$/g, '')
  let addresses: { address: string }[]
  try {
    addresses = await lookup(host, { all: true })
  } catch (error) {
    throw new CliError(`--url refused: cannot resolve ${host} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`)
  }
  for (const { address } of addresses) {
    const check = checkAddress(address, allowLoopback(context))
    if (!check.ok) throw new CliError(`--url refused: ${host} resolves to ${check.reason}`)
  }
  return verdict.url.toString()
}

/** The secret from --secret-file (checked), or a freshly generated one. */
async function secretFromOption(context: CommandContext): Promise<string> {
  const file = stringOption(context, 'secret-file')
  if (file === undefined) return generateWebhookSecret()
  const secret = (
    await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new CliError(`cannot read --secret-file ${file}: ${error.code ?? error.message}`)
    })
  ).trim()
  if (!isValidWebhookSecret(secret)) throw new CliError('the secret must be whsec_ followed by base64 of 24 to 64 bytes')
  return secret
}

const sourceAdd: Command = {
  name: 'webhooks source add',
  summary: 'Create a webhook source for Odoo; prints the URL to paste into Odoo once',
  synopsis: 'NAME [--json]',
  description: [
    'Creates a source: the URL an Odoo automation rule ("Send Webhook Notification") posts to. The URL holds a',
    'secret token and is shown once (only its hash is stored). Add ?event=create (or write, unlink...) to tell',
    'subscribers which event it is; the default is "change". See README.md, "Webhooks".',
  ].join('\n'),
  options: {},
  arity: 1,
  async run(context) {
    const name = argument(context, SOURCE_NAME, 'source NAME (lowercase letters, digits and -)')
    const token = random(24)
    const [inserted = []] = await executeSql(
      context.target,
      sql`INSERT OR IGNORE INTO webhook_sources (name, token_hash, created_at) VALUES (${name}, ${await sha256Hex(token)}, ${context.now}) RETURNING name`,
    )
    if (inserted.length === 0) throw new CliError(`a source named ${name} already exists`)
    const base = gatewayUrl(context) ?? (context.target.remote ? 'https://<your gateway>' : LOCAL_GATEWAY_URL)
    const url = `${base}/hooks/odoo/${name}/${token}`
    if (context.json) printJson(context, { name, url, token })
    else print(context, [`Created webhook source ${name}. Paste this URL into Odoo (shown once):`, '', `    ${url}`, ''].join('\n'))
    return EXIT_OK
  },
}

const add: Command = {
  name: 'webhooks add',
  summary: 'Subscribe a receiver to Odoo events; prints its signing secret once',
  synopsis: '--url URL (--models M1,M2 [--events create,write] [--fields F1,F2|*] | --alerts) [--secret-file F] [--json]',
  description: [
    'Delivers events of these models to URL, signed with HMAC-SHA256 (Standard Webhooks and GitHub-style headers).',
    'URL must be https and public (plain http on loopback only for a local gateway). --fields is the payload',
    'allowlist ("*": every field Odoo sends except sensitive ones). Without --secret-file a whsec_ secret is',
    'generated; it is printed once. --alerts subscribes to the security alerts instead of Odoo events.',
  ].join('\n'),
  options: {
    url: { type: 'string', value: 'URL', description: 'Receiver URL (required)' },
    models: { type: 'string', value: 'LIST', description: 'Models whose events to deliver, comma-separated (required)' },
    events: { type: 'string', value: 'LIST', description: 'Only these events (default: all)' },
    fields: { type: 'string', value: 'LIST', description: 'Payload field allowlist, or * (default: *)' },
    'secret-file': { type: 'string', value: 'FILE', description: 'File holding a whsec_ secret to use' },
    alerts: { type: 'boolean', description: 'Deliver security alerts (rate limits, failed-auth bursts...) instead of Odoo events' },
  },
  arity: 0,
  async run(context) {
    const urlText = stringOption(context, 'url')
    if (!urlText) throw new UsageError('--url is required')
    const modelsText = stringOption(context, 'models')
    const forAlerts = context.values.alerts === true
    if (forAlerts && modelsText) throw new UsageError('give --models or --alerts, not both')
    if (!forAlerts && !modelsText) throw new UsageError('--models is required (or --alerts for security alerts)')
    const models = forAlerts ? [ALERTS_MODEL] : list(modelsText!, 'models', MODEL)
    const eventsText = stringOption(context, 'events')
    const events = eventsText === undefined ? null : list(eventsText, 'events', EVENT)
    const fieldsText = stringOption(context, 'fields') ?? '*'
    const fields = fieldsText === '*' ? '*' : list(fieldsText, 'fields', FIELD)
    const url = await checkTarget(context, urlText)
    const secret = await secretFromOption(context)
    const { key } = await loadCredentialsKey({ remote: context.target.remote, projectDir: context.projectDir, env: context.env })
    const id = `whk_${random(8)}`
    await executeSql(
      context.target,
      sql`INSERT INTO webhook_subscriptions (id, url, models, events, fields, secret, created_at)
          VALUES (${id}, ${url}, ${JSON.stringify(models)}, ${events === null ? null : JSON.stringify(events)}, ${JSON.stringify(fields)},
                  ${await sealSecret(key, secret, id)}, ${context.now})`,
    )
    if (context.json) printJson(context, { id, secret })
    else print(context, [`Created subscription ${id} → ${url}`, 'Signing secret (shown once):', '', `    ${secret}`, ''].join('\n'))
    return EXIT_OK
  },
}

const listCommand: Command = {
  name: 'webhooks list',
  summary: 'List webhook subscriptions (never their secrets)',
  synopsis: '[--json]',
  description: 'Lists subscriptions with their models, events, field allowlist and status.',
  options: {},
  arity: 0,
  async run(context) {
    const [rows = []] = await executeSql(
      context.target,
      'SELECT id, url, models, events, fields, created_at, disabled_at, disabled_reason FROM webhook_subscriptions ORDER BY created_at',
    )
    const subscriptions = rows.map((row) => ({
      id: String(row.id),
      url: String(row.url),
      models: JSON.parse(String(row.models)) as string[],
      events: row.events === null ? null : (JSON.parse(String(row.events)) as string[]),
      fields: JSON.parse(String(row.fields)) as '*' | string[],
      status: row.disabled_at === null ? 'active' : 'disabled',
      disabledReason: (row.disabled_reason as string | null) ?? null,
      createdAt: isoOrNull(Number(row.created_at)),
    }))
    if (context.json) printJson(context, subscriptions)
    else if (subscriptions.length === 0) print(context, 'No subscriptions yet. Add one with `odoo-mcp webhooks add`.')
    else {
      print(
        context,
        formatTable(
          ['ID', 'URL', 'MODELS', 'EVENTS', 'STATUS'],
          subscriptions.map((s) => [s.id, s.url, s.models.join(','), s.events?.join(',') ?? 'all', s.disabledReason ? `disabled (${s.disabledReason})` : s.status]),
          60,
        ),
      )
    }
    return EXIT_OK
  },
}

const remove: Command = {
  name: 'webhooks remove',
  summary: 'Stop delivering to a subscription',
  synopsis: 'ID',
  description: 'Disables the subscription: nothing more is queued for it, and queued deliveries are dropped.',
  options: {},
  arity: 1,
  async run(context) {
    const id = argument(context, SUBSCRIPTION_ID, 'subscription ID (whk_...)')
    const [updated = []] = await executeSql(
      context.target,
      sql`UPDATE webhook_subscriptions SET disabled_at = ${context.now}, disabled_reason = 'removed' WHERE id = ${id} AND disabled_at IS NULL RETURNING id`,
    )
    if (updated.length === 0) throw new CliError(`no active subscription with ID ${id}`)
    print(context, `Removed subscription ${id}.`)
    return EXIT_OK
  },
}

const deliveries: Command = {
  name: 'webhooks deliveries',
  summary: "A subscription's recent deliveries and their attempts",
  synopsis: 'ID [--json]',
  description: 'Shows the last 50 deliveries of a subscription: status (pending, delivered, dead), attempts, last answer.',
  options: {},
  arity: 1,
  async run(context) {
    const id = argument(context, SUBSCRIPTION_ID, 'subscription ID (whk_...)')
    const [rows = []] = await executeSql(
      context.target,
      sql`SELECT id, event_id, status, attempts, last_status, last_error, created_at, updated_at FROM webhook_deliveries
          WHERE subscription_id = ${id} ORDER BY created_at DESC LIMIT 50`,
    )
    const list = rows.map((row) => ({
      id: String(row.id),
      eventId: String(row.event_id),
      status: String(row.status),
      attempts: Number(row.attempts),
      lastStatus: (row.last_status as number | null) ?? null,
      lastError: (row.last_error as string | null) ?? null,
      createdAt: isoOrNull(Number(row.created_at)),
      updatedAt: isoOrNull(Number(row.updated_at)),
    }))
    if (context.json) printJson(context, list)
    else if (list.length === 0) print(context, `No deliveries for ${id} yet.`)
    else {
      print(
        context,
        formatTable(
          ['DELIVERY', 'EVENT', 'CREATED', 'STATUS', 'ATTEMPTS', 'LAST'],
          list.map((d) => [d.id, d.eventId, formatTime(Date.parse(d.createdAt!)), d.status, String(d.attempts), d.lastError ?? String(d.lastStatus ?? '-')]),
          60,
        ),
      )
    }
    return EXIT_OK
  },
}

const redeliver: Command = {
  name: 'webhooks redeliver',
  summary: 'Send a delivery again (e.g. from the dead letters)',
  synopsis: 'DELIVERY_ID',
  description: 'Queues the delivery again with the same event id, through the gateway (--gateway, ODOO_MCP_GATEWAY_URL).',
  options: {},
  arity: 1,
  async run(context) {
    const id = argument(context, DELIVERY_ID, 'delivery ID (dlv_...)')
    const result = await adminPost<{ id: string }>(context, `/admin/webhooks/deliveries/${id}/redeliver`)
    if (!result.ok) throw new CliError(`could not ask the gateway to redeliver: ${result.reason}`)
    print(context, `Delivery ${id} queued again.`)
    return EXIT_OK
  },
}

const rotateSecret: Command = {
  name: 'webhooks rotate-secret',
  summary: "Replace a subscription's signing secret, both signing during an overlap",
  synopsis: 'ID [--overlap 24h] [--secret-file F] [--json]',
  description: [
    'Issues a new signing secret (or uses --secret-file). Until the overlap ends, deliveries carry signatures made',
    'with both secrets (two v1, entries; X-Odoo-MCP-Signature-Previous), so the receiver can switch at any moment.',
  ].join('\n'),
  options: {
    overlap: { type: 'string', value: 'WHEN', description: 'How long the old secret keeps signing: 24h, 30m, 0s, or a date (default 24h)' },
    'secret-file': { type: 'string', value: 'FILE', description: 'File holding the new whsec_ secret' },
  },
  arity: 1,
  async run(context) {
    const id = argument(context, SUBSCRIPTION_ID, 'subscription ID (whk_...)')
    const overlapEndsAt = parseMoment('overlap', stringOption(context, 'overlap') ?? '24h', context.now, true)
    const secret = await secretFromOption(context)
    const { key } = await loadCredentialsKey({ remote: context.target.remote, projectDir: context.projectDir, env: context.env })
    // The sealed current secret moves to previous_secret as is: it is bound to the same subscription id.
    const [updated = []] = await executeSql(
      context.target,
      sql`UPDATE webhook_subscriptions SET previous_secret = secret, previous_until = ${overlapEndsAt},
            secret = ${await sealSecret(key, secret, id)} WHERE id = ${id} AND disabled_at IS NULL RETURNING id`,
    )
    if (updated.length === 0) throw new CliError(`no active subscription with ID ${id}`)
    const overlapEnds = new Date(overlapEndsAt).toISOString()
    if (context.json) printJson(context, { id, secret, overlapEndsAt: overlapEnds })
    else print(context, [`New signing secret for ${id} (shown once):`, '', `    ${secret}`, '', `Both secrets sign until ${overlapEnds}.`].join('\n'))
    return EXIT_OK
  },
}

export const webhookCommands: Command[] = [sourceAdd, add, listCommand, remove, rotateSecret, deliveries, redeliver]
