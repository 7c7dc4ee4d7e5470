/**
 * The webhooks changes of the admin API as plans (admin/v1/plan.ts; keys/plans.ts is the pattern). Secrets never
 * reach the admin log: a source's URL token is stored only as its SHA-256 (the log says "set"), a signing secret is
 * sealed under CREDENTIALS_KEY with the subscription id as associated data (the log says "set" / "rotated").
 */
import type { Env } from '../../../env'
import { credentialsKeyRing, openSecret, SealedSecretError, sealSecret, sha256Hex } from '../../../lib/crypto'
import { bytesToHex } from '../../../lib/encoding'
import { generateWebhookSecret } from '../../../webhooks/signing'
import { fieldsColumn } from '../../../webhooks/subscriptions'
import type { MaskKind } from '../../../policy/masks'
import { refused, type Plan } from '../plan'
import { statement } from '../statement'

const random = (bytes: number) => bytesToHex(crypto.getRandomValues(new Uint8Array(bytes)))
const iso = (ms: number) => new Date(ms).toISOString()

/** Sources are named by their name; the admin log's target says which kind of thing it is. */
export const sourceTarget = (name: string) => `source:${name}`

const noSubscription = (id: string) => refused(404, 'subscription_not_found', `No subscription ${id}`)

// Sources ---------------------------------------------------------------------------------------------------------

/** 24 random bytes as hex: 48 characters, within what the inbound route accepts (webhooks/inbound.ts). */
const SOURCE_TOKEN_BYTES = 24

export async function planAddSource(env: Env, input: { name: string }, now: number): Promise<Plan<{ name: string; token: string }>> {
  const row = await env.DB.prepare('SELECT revoked_at FROM webhook_sources WHERE name = ?1').bind(input.name).first<{ revoked_at: number | null }>()
  if (row) {
    const state = row.revoked_at === null ? '' : ' (revoked; a name is never reused, so old URLs cannot come back)'
    return refused(409, 'source_exists', `A source named ${input.name} already exists${state}: choose another name`)
  }
  const token = random(SOURCE_TOKEN_BYTES)
  return {
    kind: 'change',
    target: sourceTarget(input.name),
    before: null,
    after: { name: input.name, token: 'set' },
    statements: [statement('INSERT INTO webhook_sources (name, token_hash, created_at) VALUES (?1, ?2, ?3)', input.name, await sha256Hex(token), now)],
    result: { name: input.name, token },
  }
}

export async function planRevokeSource(env: Env, input: { name: string }, now: number): Promise<Plan<{ revokedAt: number; alreadyRevoked: boolean }>> {
  const row = await env.DB.prepare('SELECT revoked_at FROM webhook_sources WHERE name = ?1').bind(input.name).first<{ revoked_at: number | null }>()
  if (!row) return refused(404, 'source_not_found', `No source named ${input.name}`)
  if (row.revoked_at !== null) return { kind: 'unchanged', result: { revokedAt: row.revoked_at, alreadyRevoked: true } }
  return {
    kind: 'change',
    target: sourceTarget(input.name),
    before: { revoked_at: null },
    after: { revoked_at: iso(now) },
    statements: [statement('UPDATE webhook_sources SET revoked_at = ?1 WHERE name = ?2 AND revoked_at IS NULL', now, input.name)],
    result: { revokedAt: now, alreadyRevoked: false },
  }
}

// Subscriptions ---------------------------------------------------------------------------------------------------

export interface AddSubscriptionInput {
  /** Checked already (admin/v1/webhooks/target.ts), as it will be stored. */
  url: string
  models: string[]
  /** null: every event. */
  events: string[] | null
  fields: '*' | string[]
  /** Fields delivered only masked. */
  mask: Record<string, MaskKind> | null
  /** A whsec_ secret the administrator chose (checked), or null: the gateway generates one. */
  secret: string | null
}

export async function planAddSubscription(env: Env, input: AddSubscriptionInput, now: number): Promise<Plan<{ id: string; secret: string; createdAt: number }>> {
  const id = `whk_${random(8)}`
  const secret = input.secret ?? generateWebhookSecret()
  // The subscription id is the associated data: a sealed secret copied onto another row does not open.
  const sealed = await sealSecret(await credentialsKeyRing(env), secret, id)
  const models = JSON.stringify(input.models)
  const events = input.events === null ? null : JSON.stringify(input.events)
  const fields = fieldsColumn({ fields: input.fields, ...(input.mask ? { mask: input.mask } : {}) })
  return {
    kind: 'change',
    target: id,
    before: null,
    after: { url: input.url, models: input.models, events: input.events, fields: input.fields, ...(input.mask ? { mask: input.mask } : {}), secret: 'set' },
    statements: [
      statement(
        `INSERT INTO webhook_subscriptions (id, url, models, events, fields, secret, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)`,
        id, input.url, models, events, fields, sealed, now,
      ),
    ],
    result: { id, secret, createdAt: now },
  }
}

interface SubscriptionState {
  disabled_at: number | null
  disabled_reason: string | null
  secret: string
  previous_until: number | null
}

async function subscriptionState(env: Env, id: string): Promise<SubscriptionState | null> {
  return env.DB.prepare('SELECT disabled_at, disabled_reason, secret, previous_until FROM webhook_subscriptions WHERE id = ?1').bind(id).first<SubscriptionState>()
}

export async function planRemoveSubscription(
  env: Env,
  input: { id: string },
  now: number,
): Promise<Plan<{ disabledAt: number; disabledReason: string; alreadyDisabled: boolean }>> {
  const row = await subscriptionState(env, input.id)
  if (!row) return noSubscription(input.id)
  if (row.disabled_at !== null) {
    return { kind: 'unchanged', result: { disabledAt: row.disabled_at, disabledReason: row.disabled_reason ?? 'disabled', alreadyDisabled: true } }
  }
  return {
    kind: 'change',
    target: input.id,
    before: { disabled_at: null },
    after: { disabled_at: iso(now), disabled_reason: 'removed' },
    // The dispatcher drops what is queued at its next attempt (the subscription is disabled).
    statements: [statement("UPDATE webhook_subscriptions SET disabled_at = ?1, disabled_reason = 'removed' WHERE id = ?2 AND disabled_at IS NULL", now, input.id)],
    result: { disabledAt: now, disabledReason: 'removed', alreadyDisabled: false },
    // The dispatcher may disable it first (webhooks/subscriptions.ts): then it was not "removed" by this request.
    guarded: true,
  }
}

export interface RotatedSecret {
  secret: string
  /** When the previous secret stops signing; null: it stopped now (no overlap, or it could not be opened). */
  overlapEndsAt: number | null
  /** false when the current secret could not be opened with the CREDENTIALS_KEY ring: it could not sign anyway. */
  previousReadable: boolean
}

export async function planRotateSecret(
  env: Env,
  input: { id: string; overlapSeconds: number; secret: string | null },
  now: number,
): Promise<Plan<RotatedSecret>> {
  const row = await subscriptionState(env, input.id)
  if (!row) return noSubscription(input.id)
  if (row.disabled_at !== null) {
    return refused(409, 'subscription_disabled', `Subscription ${input.id} is disabled (${row.disabled_reason ?? 'disabled'}): add a new one instead`)
  }
  const ring = await credentialsKeyRing(env)
  // An unreadable current secret is not carried over: as the previous secret it would keep the subscription from
  // signing anything until the overlap ends (webhooks/subscriptions.ts).
  let previousReadable = true
  try {
    await openSecret(ring, row.secret, input.id)
  } catch (error) {
    if (!(error instanceof SealedSecretError)) throw error
    previousReadable = false
  }
  const secret = input.secret ?? generateWebhookSecret()
  const sealed = await sealSecret(ring, secret, input.id)
  const overlapEndsAt = previousReadable && input.overlapSeconds > 0 ? now + input.overlapSeconds * 1000 : null
  const activeOverlap = row.previous_until !== null && row.previous_until > now ? iso(row.previous_until) : null
  return {
    kind: 'change',
    target: input.id,
    before: { secret: 'set', previous_secret_until: activeOverlap },
    after: {
      secret: 'rotated',
      previous_secret_until: overlapEndsAt === null ? null : iso(overlapEndsAt),
      ...(previousReadable ? {} : { previous_secret: 'dropped: it could not be opened with CREDENTIALS_KEY' }),
    },
    // The sealed current secret moves to previous_secret as is: it is bound to the same subscription id.
    statements: [
      overlapEndsAt === null
        ? statement('UPDATE webhook_subscriptions SET secret = ?1, previous_secret = NULL, previous_until = NULL WHERE id = ?2 AND disabled_at IS NULL', sealed, input.id)
        : statement(
            'UPDATE webhook_subscriptions SET previous_secret = secret, previous_until = ?1, secret = ?2 WHERE id = ?3 AND disabled_at IS NULL',
            overlapEndsAt, sealed, input.id,
          ),
    ],
    result: { secret, overlapEndsAt, previousReadable },
    // The dispatcher may disable the subscription meanwhile (webhooks/subscriptions.ts).
    guarded: true,
  }
}

// Deliveries ------------------------------------------------------------------------------------------------------

export interface Redelivery {
  subscriptionId: string
  eventId: string
  payload: string
  previousStatus: string
}

export async function planRedeliver(env: Env, input: { id: string }, now: number): Promise<Plan<Redelivery>> {
  const row = await env.DB.prepare(
    `SELECT d.subscription_id, d.event_id, d.payload, d.status, d.attempts, s.disabled_at, s.disabled_reason
       FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id WHERE d.id = ?1`,
  )
    .bind(input.id)
    .first<{ subscription_id: string; event_id: string; payload: string; status: string; attempts: number; disabled_at: number | null; disabled_reason: string | null }>()
  if (!row) return refused(404, 'delivery_not_found', `No delivery ${input.id}`)
  if (row.disabled_at !== null) {
    return refused(409, 'subscription_disabled', `Subscription ${row.subscription_id} is disabled (${row.disabled_reason ?? 'disabled'}): add a new one to deliver again`)
  }
  return {
    kind: 'change',
    target: input.id,
    before: { status: row.status, attempts: row.attempts },
    after: { status: 'pending', subscription_id: row.subscription_id, event_id: row.event_id },
    statements: [statement("UPDATE webhook_deliveries SET status = 'pending', updated_at = ?1 WHERE id = ?2", now, input.id)],
    result: { subscriptionId: row.subscription_id, eventId: row.event_id, payload: row.payload, previousStatus: row.status },
  }
}

export const webhooksPlanners = {
  'webhooks.source.add': planAddSource,
  'webhooks.source.revoke': planRevokeSource,
  'webhooks.add': planAddSubscription,
  'webhooks.remove': planRemoveSubscription,
  'webhooks.rotate_secret': planRotateSecret,
  'webhooks.redeliver': planRedeliver,
} as const
