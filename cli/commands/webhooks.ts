/**
 * `odoo-mcp webhooks source add|list|revoke`, `webhooks add|list|show|remove|rotate-secret|deliveries|redeliver`: webhook
 * sources, subscriptions and deliveries, over the admin API (/admin/v1/webhooks, docs/ADMIN-API.md). The gateway
 * makes the secrets (a source's URL token, a subscription's signing secret), keeps them hashed or sealed, and answers
 * them once; the CLI prints them once.
 */
import { readFile } from 'node:fs/promises'
import { adminRequest, allPages, AdminApiError, orSay } from '../admin-api'
import { isValidWebhookSecret } from '../../src/webhooks/signing'
import { checkWebhookUrl } from '../../src/webhooks/url-guard'
import { print, printJson, stringOption, type Command, type CommandContext } from '../command'
import { CliError, EXIT_OK, UsageError } from '../errors'
import { formatTable, formatTime } from '../format'
import { gatewayUrl } from '../gateway'
import { parseMoment } from '../key-input'
import { MASKS, type MaskKind } from '../../src/policy/masks'

const SOURCE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/
const SUBSCRIPTION_ID = /^whk_[0-9a-f]{16}$/
const DELIVERY_ID = /^dlv_[0-9a-f]{16}$/
const MODEL = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/
const FIELD = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/
const EVENT = /^[a-z][a-z0-9_]{0,31}$/

/** A subscription as GET /admin/v1/webhooks/subscriptions answers it. */
interface SubscriptionJson {
  id: string
  url: string
  models: string[]
  events: string[] | null
  fields: '*' | string[]
  mask: Record<string, string> | null
  status: 'active' | 'disabled'
  disabled_reason: string | null
  created_at: string
}

/** A delivery as GET /admin/v1/webhooks/deliveries answers it. */
interface DeliveryJson {
  id: string
  event_id: string
  status: string
  attempts: number
  last_status: number | null
  last_error: string | null
  created_at: string
  updated_at: string
}

interface SourceJson {
  name: string
  status: 'active' | 'revoked'
  created_at: string
  revoked_at: string | null
}

/** How many deliveries `webhooks deliveries` shows: the most recent ones. */
const RECENT_DELIVERIES = 50

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

/**
 * The URL rules the gateway applies, checked before asking it (no DNS here: the gateway resolves the host). Local
 * development may deliver to loopback; a deployed gateway never does.
 */
function precheckUrl(context: CommandContext, url: string): void {
  const verdict = checkWebhookUrl(url, !context.target.remote)
  if (!verdict.ok) throw new CliError(`--url refused: ${verdict.reason}`)
}

/** The gateway's refusal of a URL (its rules, or where the host resolves), as the CLI has always said it. */
function urlRefused(error: unknown): never {
  if (error instanceof AdminApiError && error.code === 'webhook_url_refused') throw new CliError(`--url refused: ${error.details[0] ?? error.message}`)
  throw error
}

/** The secret from --secret-file (checked), or undefined: the gateway generates one. */
async function secretFromOption(context: CommandContext): Promise<string | undefined> {
  const file = stringOption(context, 'secret-file')
  if (file === undefined) return undefined
  const secret = (
    await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new CliError(`cannot read --secret-file ${file}: ${error.code ?? error.message}`)
    })
  ).trim()
  if (!isValidWebhookSecret(secret)) throw new CliError('the secret must be whsec_ followed by base64 of 24 to 64 bytes')
  return secret
}

const ms = (iso: string | null) => (iso === null ? null : Date.parse(iso))

// Requests whose body or answer holds a secret (a URL token, a signing secret) are marked secretPayload: never over
// plain http to anything but loopback.

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
    const created = await orSay(adminRequest<{ name: string; token: string; path: string }>(context, 'POST', '/webhooks/sources', { body: { name }, secretPayload: true }), {
      source_exists: `a source named ${name} already exists`,
    })
    const url = `${gatewayUrl(context)}${created.path}`
    if (context.json) printJson(context, { name, url, token: created.token })
    else print(context, [`Created webhook source ${name}. Paste this URL into Odoo (shown once):`, '', `    ${url}`, ''].join('\n'))
    return EXIT_OK
  },
}

const sourceList: Command = {
  name: 'webhooks source list',
  summary: 'List webhook sources (never their tokens)',
  synopsis: '[--json]',
  description: 'Lists the sources Odoo may post to, with their status (active, revoked). Their URL tokens are never shown again.',
  options: {},
  arity: 0,
  async run(context) {
    const sources = await allPages<SourceJson>(context, '/webhooks/sources')
    if (context.json) printJson(context, sources.map((s) => ({ name: s.name, status: s.status, createdAt: s.created_at, revokedAt: s.revoked_at })))
    else if (sources.length === 0) print(context, 'No sources yet. Add one with `odoo-mcp webhooks source add NAME`.')
    else print(context, formatTable(['NAME', 'CREATED', 'STATUS'], sources.map((s) => [s.name, formatTime(ms(s.created_at)), s.status === 'revoked' ? `revoked ${formatTime(ms(s.revoked_at))}` : s.status])))
    return EXIT_OK
  },
}

const sourceRevoke: Command = {
  name: 'webhooks source revoke',
  summary: "Revoke a webhook source: Odoo's posts to its URL are refused from now on",
  synopsis: 'NAME [--json]',
  description: 'Revokes a source for good (a leaked URL, an Odoo that is gone): its URL answers 401. The name is not reused.',
  options: {},
  arity: 1,
  async run(context) {
    const name = argument(context, SOURCE_NAME, 'source NAME (lowercase letters, digits and -)')
    const result = await orSay(
      adminRequest<{ revoked_at: string; already_revoked: boolean }>(context, 'POST', `/webhooks/sources/${name}/revoke`, { body: {} }),
      { source_not_found: `no source named ${name}` },
    )
    if (context.json) printJson(context, { name, revokedAt: result.revoked_at, alreadyRevoked: result.already_revoked })
    else if (result.already_revoked) print(context, `Source ${name} was already revoked on ${formatTime(ms(result.revoked_at))}.`)
    else print(context, `Revoked source ${name}.`)
    return EXIT_OK
  },
}

/**
 * `--mask email=partial --mask vat=last4` or `--mask email=partial,vat=last4` (repeatable, comma lists allowed, like
 * --redirect-uri of connectors add) → {email: 'partial', vat: 'last4'}, each part checked before anything is sent. A
 * field given two different masks is refused rather than one of them silently winning.
 */
function parseMasks(given: string[]): Record<string, MaskKind> {
  const mask: Record<string, MaskKind> = {}
  for (const part of given.flatMap((text) => text.split(',')).map((item) => item.trim()).filter(Boolean)) {
    const [field, kind, ...rest] = part.split('=')
    if (!field || !FIELD.test(field) || !kind || rest.length > 0 || !(MASKS as readonly string[]).includes(kind)) {
      throw new UsageError(`--mask '${part.slice(0, 80)}' must be FIELD=MASK, MASK one of ${MASKS.join(', ')} (e.g. email=partial)`)
    }
    if (mask[field] !== undefined && mask[field] !== kind) throw new UsageError(`--mask gives ${field} two masks (${mask[field]} and ${kind}): give one`)
    mask[field] = kind as MaskKind
  }
  if (Object.keys(mask).length === 0) throw new UsageError('--mask needs at least one FIELD=MASK')
  return mask
}

/** A subscription's masks as the table shows them: `email=partial,vat=last4`, or - without masks. */
const maskText = (mask: Record<string, string> | null) => (mask && Object.keys(mask).length > 0 ? Object.entries(mask).map(([field, kind]) => `${field}=${kind}`).join(',') : '-')

const add: Command = {
  name: 'webhooks add',
  summary: 'Subscribe a receiver to Odoo events; prints its signing secret once',
  synopsis: '--url URL (--models M1,M2 [--events create,write] [--fields F1,F2|*] [--mask F=MASK]... | --alerts) [--secret-file F] [--json]',
  description: [
    'Delivers events of these models to URL, signed with HMAC-SHA256 (Standard Webhooks and GitHub-style headers).',
    'URL must be https and public (plain http on loopback only for a local gateway); the gateway checks every',
    'address its host resolves to. --fields is the payload allowlist ("*": every field Odoo sends except sensitive',
    'ones). --mask FIELD=MASK (repeatable, or comma-separated) delivers a field masked: partial, last4, hash (keyed',
    'per subscription: equal values match, not reversible) or redact, as in key policies; the field must be in',
    '--fields (or --fields is *), and its clear value is never stored nor sent. Without --secret-file the gateway',
    'generates a whsec_ secret; it is printed once. --alerts subscribes to the security alerts instead of Odoo events.',
  ].join('\n'),
  options: {
    url: { type: 'string', value: 'URL', description: 'Receiver URL (required)' },
    models: { type: 'string', value: 'LIST', description: 'Models whose events to deliver, comma-separated (required)' },
    events: { type: 'string', value: 'LIST', description: 'Only these events (default: all)' },
    fields: { type: 'string', value: 'LIST', description: 'Payload field allowlist, or * (default: *)' },
    mask: {
      type: 'string',
      value: 'F=MASK',
      multiple: true,
      description: `A field delivered masked, e.g. email=partial (repeatable, or a comma list; ${MASKS.join(', ')})`,
    },
    'secret-file': { type: 'string', value: 'FILE', description: 'File holding a whsec_ secret to use' },
    alerts: { type: 'boolean', description: 'Deliver security alerts (rate limits, failed-auth bursts...) instead of Odoo events' },
  },
  arity: 0,
  async run(context) {
    const url = stringOption(context, 'url')
    if (!url) throw new UsageError('--url is required')
    const modelsText = stringOption(context, 'models')
    const forAlerts = context.values.alerts === true
    if (forAlerts && modelsText) throw new UsageError('give --models or --alerts, not both')
    if (!forAlerts && !modelsText) throw new UsageError('--models is required (or --alerts for security alerts)')
    const models = forAlerts ? undefined : list(modelsText!, 'models', MODEL)
    const eventsText = stringOption(context, 'events')
    const events = eventsText === undefined ? null : list(eventsText, 'events', EVENT)
    const fieldsText = stringOption(context, 'fields') ?? '*'
    const fields = fieldsText === '*' ? '*' : list(fieldsText, 'fields', FIELD)
    const maskGiven = context.values.mask
    const mask = Array.isArray(maskGiven) ? parseMasks(maskGiven) : undefined
    if (forAlerts && mask) throw new UsageError('--mask applies to Odoo fields: give it with --models, not --alerts')
    precheckUrl(context, url)
    const secret = await secretFromOption(context)
    const created = await adminRequest<{ id: string; secret: string; url: string }>(context, 'POST', '/webhooks/subscriptions', {
      body: { url, ...(forAlerts ? { alerts: true } : { models }), events, fields, ...(mask ? { mask } : {}), ...(secret === undefined ? {} : { secret }) },
      secretPayload: true,
    }).catch(urlRefused)
    if (context.json) printJson(context, { id: created.id, secret: created.secret })
    else print(context, [`Created subscription ${created.id} → ${created.url}`, 'Signing secret (shown once):', '', `    ${created.secret}`, ''].join('\n'))
    return EXIT_OK
  },
}

/** A subscription as `webhooks list` and `webhooks show` print it with --json (camelCase). */
function subscriptionOut(s: SubscriptionJson) {
  return {
    id: s.id,
    url: s.url,
    models: s.models,
    events: s.events,
    fields: s.fields,
    mask: s.mask ?? null,
    status: s.status,
    disabledReason: s.disabled_reason,
    createdAt: s.created_at,
  }
}

const statusText = (s: ReturnType<typeof subscriptionOut>) => (s.disabledReason ? `disabled (${s.disabledReason})` : s.status)

const listCommand: Command = {
  name: 'webhooks list',
  summary: 'List webhook subscriptions (never their secrets)',
  synopsis: '[--json]',
  description: 'Lists subscriptions with their models, events, field allowlist, masks and status.',
  options: {},
  arity: 0,
  async run(context) {
    const subscriptions = (await allPages<SubscriptionJson>(context, '/webhooks/subscriptions')).map(subscriptionOut)
    if (context.json) printJson(context, subscriptions)
    else if (subscriptions.length === 0) print(context, 'No subscriptions yet. Add one with `odoo-mcp webhooks add`.')
    else {
      print(
        context,
        formatTable(
          ['ID', 'URL', 'MODELS', 'EVENTS', 'MASK', 'STATUS'],
          subscriptions.map((s) => [s.id, s.url, s.models.join(','), s.events?.join(',') ?? 'all', maskText(s.mask), statusText(s)]),
          60,
        ),
      )
    }
    return EXIT_OK
  },
}

const show: Command = {
  name: 'webhooks show',
  summary: 'One webhook subscription: its models, events, fields and masks (never its secret)',
  synopsis: 'ID [--json]',
  description: 'Shows one subscription in full, the field allowlist and masks included (the table of `webhooks list` cuts long cells).',
  options: {},
  arity: 1,
  async run(context) {
    const id = argument(context, SUBSCRIPTION_ID, 'subscription ID (whk_...)')
    const s = subscriptionOut(
      await orSay(adminRequest<SubscriptionJson>(context, 'GET', `/webhooks/subscriptions/${id}`), { subscription_not_found: `no subscription with ID ${id}` }),
    )
    if (context.json) printJson(context, s)
    else {
      print(
        context,
        [
          `Subscription ${s.id}`,
          `  url:      ${s.url}`,
          `  models:   ${s.models.join(', ')}`,
          `  events:   ${s.events?.join(', ') ?? 'all'}`,
          `  fields:   ${s.fields === '*' ? '* (every field Odoo sends except sensitive ones)' : s.fields.join(', ')}`,
          `  mask:     ${s.mask ? Object.entries(s.mask).map(([field, kind]) => `${field}=${kind}`).join(', ') : '-'}`,
          `  status:   ${statusText(s)}`,
          `  created:  ${s.createdAt}`,
        ].join('\n'),
      )
    }
    return EXIT_OK
  },
}

const noActive = (id: string) => `no active subscription with ID ${id}`

const remove: Command = {
  name: 'webhooks remove',
  summary: 'Stop delivering to a subscription',
  synopsis: 'ID',
  description: 'Disables the subscription: nothing more is queued for it, and queued deliveries are dropped.',
  options: {},
  arity: 1,
  async run(context) {
    const id = argument(context, SUBSCRIPTION_ID, 'subscription ID (whk_...)')
    const result = await orSay(
      adminRequest<{ disabled_at: string; already_disabled: boolean }>(context, 'POST', `/webhooks/subscriptions/${id}/remove`, { body: {} }),
      { subscription_not_found: noActive(id) },
    )
    if (result.already_disabled) throw new CliError(noActive(id))
    if (context.json) printJson(context, { id, disabledAt: result.disabled_at })
    else print(context, `Removed subscription ${id}.`)
    return EXIT_OK
  },
}

const deliveries: Command = {
  name: 'webhooks deliveries',
  summary: "A subscription's recent deliveries and their attempts",
  synopsis: 'ID [--json]',
  description: `Shows the last ${RECENT_DELIVERIES} deliveries of a subscription: status (pending, delivered, dead), attempts, last answer.`,
  options: {},
  arity: 1,
  async run(context) {
    const id = argument(context, SUBSCRIPTION_ID, 'subscription ID (whk_...)')
    const rows = await orSay(allPages<DeliveryJson>(context, '/webhooks/deliveries', { subscription_id: id }, { max: RECENT_DELIVERIES }), {
      subscription_not_found: `no subscription with ID ${id}`,
    })
    const list = rows.map((row) => ({
      id: row.id,
      eventId: row.event_id,
      status: row.status,
      attempts: row.attempts,
      lastStatus: row.last_status,
      lastError: row.last_error,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    }))
    if (context.json) printJson(context, list)
    else if (list.length === 0) print(context, `No deliveries for ${id} yet.`)
    else {
      print(
        context,
        formatTable(
          ['DELIVERY', 'EVENT', 'CREATED', 'STATUS', 'ATTEMPTS', 'LAST'],
          list.map((d) => [d.id, d.eventId, formatTime(ms(d.createdAt)), d.status, String(d.attempts), d.lastError ?? String(d.lastStatus ?? '-')]),
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
  synopsis: 'DELIVERY_ID [--json]',
  description: 'Queues the delivery again with the same event id (receivers de-duplicate on it). Recorded in the admin log.',
  options: {},
  arity: 1,
  async run(context) {
    const id = argument(context, DELIVERY_ID, 'delivery ID (dlv_...)')
    const result = await orSay(
      adminRequest<{ previous_status: string; subscription_id: string; event_id: string }>(context, 'POST', `/webhooks/deliveries/${id}/redeliver`, { body: {} }),
      {
        delivery_not_found: `no delivery with ID ${id}`,
        subscription_disabled: `the subscription of delivery ${id} is disabled; add a new one to deliver again`,
      },
    )
    if (context.json) printJson(context, { id, status: 'pending', previousStatus: result.previous_status, subscriptionId: result.subscription_id, eventId: result.event_id })
    else print(context, `Delivery ${id} queued again.`)
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
    'A current secret the gateway cannot open (CREDENTIALS_KEY changed) could not sign anyway: it is dropped at once.',
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
    const rotated = await orSay(
      adminRequest<{ secret: string; previous_secret_until: string | null; previous_secret_readable: boolean }>(context, 'POST', `/webhooks/subscriptions/${id}/rotate-secret`, {
        body: { overlap_seconds: Math.ceil((overlapEndsAt - context.now) / 1000), ...(secret === undefined ? {} : { secret }) },
        secretPayload: true,
      }),
      { subscription_not_found: noActive(id), subscription_disabled: noActive(id) },
    ).catch((error: unknown) => {
      if (error instanceof AdminApiError && error.code === 'invalid_body') throw new UsageError('--overlap may be at most 100 years')
      throw error
    })
    const overlapEnds = rotated.previous_secret_until
    if (context.json) {
      printJson(context, { id, secret: rotated.secret, overlapEndsAt: overlapEnds ?? new Date(context.now).toISOString(), previousSecretReadable: rotated.previous_secret_readable })
      return EXIT_OK
    }
    const after = overlapEnds
      ? `Both secrets sign until ${overlapEnds}.`
      : rotated.previous_secret_readable
        ? 'The previous secret no longer signs.'
        : 'The previous secret could not be opened with CREDENTIALS_KEY (it could not sign): only the new one signs.'
    print(context, [`New signing secret for ${id} (shown once):`, '', `    ${rotated.secret}`, '', after].join('\n'))
    return EXIT_OK
  },
}

export const webhookCommands: Command[] = [sourceAdd, sourceList, sourceRevoke, add, listCommand, show, remove, rotateSecret, deliveries, redeliver]
