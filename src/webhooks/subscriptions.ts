/** Webhook subscriptions in D1, as the Worker reads them (the admin API writes them: admin/v1/webhooks/). */
import type { Env } from '../env'
import { credentialsKeyRing, openSecret, SealedSecretError } from '../lib/crypto'
import { MASKS, type MaskKind } from '../policy/masks'

/** A subscription's payload settings: the field allowlist, and the fields delivered only masked. */
export interface PayloadFields {
  fields: '*' | string[]
  /** Field → mask (src/policy/masks.ts); absent: no mask. */
  mask?: Record<string, MaskKind>
}

/**
 * The `fields` column (no migration was needed for masks): JSON `"*"` or an array of field names (the allowlist alone,
 * as every row written before masks), or, for a subscription with masks, `{"fields": "*" | [...], "mask": {"email":
 * "partial"}}` (fieldsColumn writes it only when there is a mask). Read fail-closed: a mask this code does not know
 * counts as `redact`, and an object whose allowlist is not "*" or an array allows no field, so a damaged or newer row
 * never sends a clear value.
 */
export function parseFieldsColumn(text: string): PayloadFields {
  const value = JSON.parse(text) as unknown
  if (value === '*' || Array.isArray(value)) return { fields: value as '*' | string[] }
  const object = (value !== null && typeof value === 'object' ? value : {}) as { fields?: unknown; mask?: unknown }
  const fields = object.fields === '*' ? '*' : Array.isArray(object.fields) ? object.fields.filter((field): field is string => typeof field === 'string') : []
  const given = object.mask !== null && typeof object.mask === 'object' && !Array.isArray(object.mask) ? (object.mask as Record<string, unknown>) : {}
  const mask = Object.fromEntries(
    Object.entries(given).map(([field, kind]) => [field, (MASKS as readonly unknown[]).includes(kind) ? (kind as MaskKind) : 'redact']),
  ) as Record<string, MaskKind>
  return Object.keys(mask).length > 0 ? { fields, mask } : { fields }
}

/** The `fields` column for a subscription: the bare allowlist without masks (as before), else the object form. */
export function fieldsColumn(payload: PayloadFields): string {
  return JSON.stringify(payload.mask && Object.keys(payload.mask).length > 0 ? { fields: payload.fields, mask: payload.mask } : payload.fields)
}

export interface Subscription {
  id: string
  url: string
  models: string[]
  /** null: every event. */
  events: string[] | null
  fields: '*' | string[]
  mask?: Record<string, MaskKind>
  disabledAt: number | null
  /** Newest first: the current secret, then the previous one while its overlap lasts. */
  secrets: string[]
  /**
   * Set when a signing secret cannot be unsealed with the CREDENTIALS_KEY ring (then `secrets` is empty): why, naming
   * the subscription and the fix. Nothing can be signed until the secret is rotated or the key is configured again.
   */
  unreadable?: string
}

interface SubscriptionRow {
  id: string
  url: string
  models: string
  events: string | null
  fields: string
  secret: string
  previous_secret: string | null
  previous_until: number | null
  disabled_at: number | null
}

const COLUMNS = 'id, url, models, events, fields, secret, previous_secret, previous_until, disabled_at'

/** The signing secrets in use, or why one of them cannot be unsealed. */
async function openSecrets(row: SubscriptionRow, credentialsKey: CryptoKey, now: number): Promise<{ secrets: string[]; unreadable?: string }> {
  const secrets: string[] = []
  const columns: ['secret' | 'previous_secret', string][] = [['secret', row.secret]]
  if (row.previous_secret && row.previous_until !== null && row.previous_until > now) columns.push(['previous_secret', row.previous_secret])
  for (const [column, sealed] of columns) {
    try {
      secrets.push(await openSecret(credentialsKey, sealed, row.id))
    } catch (error) {
      if (!(error instanceof SealedSecretError)) throw error
      const unreadable =
        `the gateway cannot read the signing secret (${column}) of webhook subscription ${row.id}: ${error.message}; ` +
        `rotate it (\`odoo-mcp webhooks rotate-secret ${row.id}\`) or add the key it was sealed under to CREDENTIALS_KEYS_PREVIOUS`
      return { secrets: [], unreadable }
    }
  }
  return { secrets }
}

async function toSubscription(row: SubscriptionRow, credentialsKey: CryptoKey, now: number): Promise<Subscription> {
  return {
    id: row.id,
    url: row.url,
    models: JSON.parse(row.models) as string[],
    events: row.events === null ? null : (JSON.parse(row.events) as string[]),
    ...parseFieldsColumn(row.fields),
    disabledAt: row.disabled_at,
    ...(await openSecrets(row, credentialsKey, now)),
  }
}

export async function loadSubscription(
  env: Pick<Env, 'DB' | 'CREDENTIALS_KEY' | 'CREDENTIALS_KEYS_PREVIOUS'>,
  id: string,
  now = Date.now(),
): Promise<Subscription | null> {
  const row = await env.DB.prepare(`SELECT ${COLUMNS} FROM webhook_subscriptions WHERE id = ?1`).bind(id).first<SubscriptionRow>()
  return row ? toSubscription(row, await credentialsKeyRing(env), now) : null
}

/** Active subscriptions to `model` that want `event`. */
export async function subscriptionsFor(env: Pick<Env, 'DB'>, model: string, event: string): Promise<(Pick<Subscription, 'id'> & PayloadFields)[]> {
  const { results } = await env.DB.prepare(
    `SELECT id, fields FROM webhook_subscriptions
      WHERE disabled_at IS NULL
        AND EXISTS (SELECT 1 FROM json_each(models) WHERE value = ?1)
        AND (events IS NULL OR EXISTS (SELECT 1 FROM json_each(events) WHERE value = ?2))`,
  )
    .bind(model, event)
    .all<{ id: string; fields: string }>()
  return results.map((row) => ({ id: row.id, ...parseFieldsColumn(row.fields) }))
}

export async function disableSubscription(env: Pick<Env, 'DB'>, id: string, reason: string, now = Date.now()): Promise<void> {
  await env.DB.prepare('UPDATE webhook_subscriptions SET disabled_at = ?1, disabled_reason = ?2 WHERE id = ?3 AND disabled_at IS NULL')
    .bind(now, reason, id)
    .run()
}
