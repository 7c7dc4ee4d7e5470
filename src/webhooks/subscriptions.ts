/** Webhook subscriptions in D1, as the Worker reads them (the admin API writes them: admin/v1/webhooks/). */
import type { Env } from '../env'
import { credentialsKeyRing, openSecret, SealedSecretError } from '../lib/crypto'

export interface Subscription {
  id: string
  url: string
  models: string[]
  /** null: every event. */
  events: string[] | null
  fields: '*' | string[]
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
    fields: JSON.parse(row.fields) as '*' | string[],
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
export async function subscriptionsFor(env: Pick<Env, 'DB'>, model: string, event: string): Promise<Pick<Subscription, 'id' | 'fields'>[]> {
  const { results } = await env.DB.prepare(
    `SELECT id, fields FROM webhook_subscriptions
      WHERE disabled_at IS NULL
        AND EXISTS (SELECT 1 FROM json_each(models) WHERE value = ?1)
        AND (events IS NULL OR EXISTS (SELECT 1 FROM json_each(events) WHERE value = ?2))`,
  )
    .bind(model, event)
    .all<{ id: string; fields: string }>()
  return results.map((row) => ({ id: row.id, fields: JSON.parse(row.fields) as '*' | string[] }))
}

export async function disableSubscription(env: Pick<Env, 'DB'>, id: string, reason: string, now = Date.now()): Promise<void> {
  await env.DB.prepare('UPDATE webhook_subscriptions SET disabled_at = ?1, disabled_reason = ?2 WHERE id = ?3 AND disabled_at IS NULL')
    .bind(now, reason, id)
    .run()
}
