/** Webhook subscriptions in D1, as the Worker reads them (the CLI writes them). */
import type { Env } from '../env'
import { importCredentialsKey, openSecret } from '../lib/crypto'

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

async function toSubscription(row: SubscriptionRow, credentialsKey: CryptoKey, now: number): Promise<Subscription> {
  const secrets = [await openSecret(credentialsKey, row.secret, row.id)]
  if (row.previous_secret && row.previous_until !== null && row.previous_until > now) {
    secrets.push(await openSecret(credentialsKey, row.previous_secret, row.id))
  }
  return {
    id: row.id,
    url: row.url,
    models: JSON.parse(row.models) as string[],
    events: row.events === null ? null : (JSON.parse(row.events) as string[]),
    fields: JSON.parse(row.fields) as '*' | string[],
    disabledAt: row.disabled_at,
    secrets,
  }
}

export async function loadSubscription(env: Pick<Env, 'DB' | 'CREDENTIALS_KEY'>, id: string, now = Date.now()): Promise<Subscription | null> {
  const row = await env.DB.prepare(`SELECT ${COLUMNS} FROM webhook_subscriptions WHERE id = ?1`).bind(id).first<SubscriptionRow>()
  return row ? toSubscription(row, await importCredentialsKey(env.CREDENTIALS_KEY), now) : null
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
