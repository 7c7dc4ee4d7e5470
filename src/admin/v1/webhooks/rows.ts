/**
 * Webhook sources, subscriptions and deliveries as the admin API reads them from D1 and shows them. Never a secret:
 * a source's token is stored only as its hash, a subscription's signing secrets are sealed and never selected here.
 */
import { parseFieldsColumn } from '../../../webhooks/subscriptions'
export const SOURCE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/
export const SUBSCRIPTION_ID = /^whk_[0-9a-f]{16}$/
export const DELIVERY_ID = /^dlv_[0-9a-f]{16}$/
/** The same shapes the inbound route accepts (webhooks/inbound.ts): a subscription never waits for what cannot come. */
export const MODEL = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/
export const EVENT = /^[a-z][a-z0-9_]{0,31}$/
export const FIELD = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

export interface SourceRow {
  name: string
  created_at: number
  revoked_at: number | null
}

export const SOURCE_COLUMNS = 'name, created_at, revoked_at'

export function sourceJson(row: SourceRow) {
  return { name: row.name, status: row.revoked_at === null ? 'active' : 'revoked', created_at: iso(row.created_at), revoked_at: iso(row.revoked_at) }
}

export interface SubscriptionRow {
  id: string
  url: string
  models: string
  events: string | null
  fields: string
  previous_until: number | null
  created_at: number
  disabled_at: number | null
  disabled_reason: string | null
}

/** Every column but the sealed secrets. */
export const SUBSCRIPTION_COLUMNS = 'id, url, models, events, fields, previous_until, created_at, disabled_at, disabled_reason'

export function subscriptionJson(row: SubscriptionRow, now: number) {
  return {
    id: row.id,
    url: row.url,
    models: JSON.parse(row.models) as string[],
    events: row.events === null ? null : (JSON.parse(row.events) as string[]),
    ...(({ fields, mask }) => ({ fields, mask: mask ?? null }))(parseFieldsColumn(row.fields)),
    status: row.disabled_at === null ? 'active' : 'disabled',
    disabled_reason: row.disabled_reason,
    disabled_at: iso(row.disabled_at),
    created_at: iso(row.created_at),
    /** While a rotation's overlap lasts, the previous secret signs too; null otherwise. */
    previous_secret_until: row.previous_until !== null && row.previous_until > now ? iso(row.previous_until) : null,
  }
}

export interface DeliveryRow {
  id: string
  subscription_id: string
  event_id: string
  status: string
  attempts: number
  last_status: number | null
  last_error: string | null
  created_at: number
  updated_at: number
}

/** Every column but the payload (Odoo data, as it was signed and sent). */
export const DELIVERY_COLUMNS = 'id, subscription_id, event_id, status, attempts, last_status, last_error, created_at, updated_at'

export function deliveryJson(row: DeliveryRow) {
  return {
    id: row.id,
    subscription_id: row.subscription_id,
    event_id: row.event_id,
    status: row.status,
    attempts: row.attempts,
    last_status: row.last_status,
    last_error: row.last_error,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  }
}
