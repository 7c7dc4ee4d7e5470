/**
 * Runs the alert rules inside the object that sequences an audit chain, keeps their state in its storage, and
 * sends the alerts raised — to D1 (`alerts`, for `odoo-mcp alerts list`) and as signed webhooks to every active
 * subscription to `_alerts` — from the object's alarm, like audit records: an alert that cannot be sent now stays
 * and is sent later.
 */
import type { AuditRecord } from '../audit/record'
import type { Env } from '../env'
import { bytesToHex } from '../lib/encoding'
import { subscriptionsFor } from '../webhooks/subscriptions'
import { ALERTS_MODEL, DEFAULT_ALERT_CONFIG, emptyAlertState, evaluate, type Alert, type AlertConfig, type AlertState, type WorkingHours } from './rules'

const STATE_KEY = 'alert-state'
const OUTBOX_KEY = 'alert-outbox'
/** Alerts kept waiting at most; beyond that the oldest are dropped (they are throttled, so this means a long outage). */
const MAX_PENDING = 1_000

export function alertConfig(env: Partial<Pick<Env, 'ALERT_AUTH_FAILURES' | 'ALERT_AUTH_WINDOW_MINUTES' | 'ALERT_THROTTLE_MINUTES' | 'ALERT_SPIKE_FACTOR' | 'ALERT_SPIKE_MINIMUM'>>): AlertConfig {
  const number = (value: string | undefined, fallback: number) => (value && Number(value) > 0 ? Number(value) : fallback)
  return {
    authFailures: number(env.ALERT_AUTH_FAILURES, DEFAULT_ALERT_CONFIG.authFailures),
    authWindowMs: number(env.ALERT_AUTH_WINDOW_MINUTES, DEFAULT_ALERT_CONFIG.authWindowMs / 60_000) * 60_000,
    throttleMs: number(env.ALERT_THROTTLE_MINUTES, DEFAULT_ALERT_CONFIG.throttleMs / 60_000) * 60_000,
    spikeFactor: number(env.ALERT_SPIKE_FACTOR, DEFAULT_ALERT_CONFIG.spikeFactor),
    spikeMinimum: number(env.ALERT_SPIKE_MINIMUM, DEFAULT_ALERT_CONFIG.spikeMinimum),
  }
}

interface PendingAlert extends Alert {
  id: string
}

export class AlertEngine {
  private state: AlertState
  /** The rules' counters changed since they were last stored. */
  private stateDirty = false
  /** Alerts waiting to be sent (mirrors storage). */
  private waiting: PendingAlert[]
  /** Thresholds from the vars, read once: they are fixed for the object's life. */
  private config: AlertConfig | undefined

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly env: () => Env,
  ) {
    this.state = storage.kv.get<AlertState>(STATE_KEY) ?? emptyAlertState()
    this.waiting = storage.kv.get<PendingAlert[]>(OUTBOX_KEY) ?? []
  }

  /**
   * Runs the rules on one record; returns how many alerts now wait to be sent. Synchronous, like the append.
   *
   * A raised alert is stored at once. The counters behind the rules (failures in the window, request volume) are
   * stored by `flush`, which the object's alarm runs within about a second of any record: writing them on every
   * request was one storage write per request for heuristics, and a restart inside that second only loses that
   * second's counts (the records themselves are durable in the audit outbox).
   */
  observe(record: AuditRecord, workingHours?: WorkingHours): number {
    this.config ??= alertConfig(this.env())
    const raised = evaluate(record, this.state, this.config, workingHours)
    this.stateDirty = true
    if (raised.length === 0) return this.waiting.length
    const ids = raised.map((alert) => ({ ...alert, id: `alt_${bytesToHex(crypto.getRandomValues(new Uint8Array(8)))}` }))
    this.waiting = [...this.waiting, ...ids].slice(-MAX_PENDING)
    this.storage.kv.put(OUTBOX_KEY, this.waiting)
    this.saveState()
    return this.waiting.length
  }

  pending(): PendingAlert[] {
    return this.waiting
  }

  private saveState(): void {
    this.storage.kv.put(STATE_KEY, this.state)
    this.stateDirty = false
  }

  /** Stores the rules' counters, then sends waiting alerts; keeps them on failure. */
  async flush(): Promise<{ sent: number; error?: string }> {
    if (this.stateDirty) this.saveState()
    const pending = this.waiting
    if (pending.length === 0) return { sent: 0 }
    const env = this.env()
    try {
      await env.DB.batch(
        pending.map((alert) =>
          env.DB.prepare('INSERT OR IGNORE INTO alerts (id, time, rule, subject, key_id, message, request_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)').bind(
            alert.id, alert.time, alert.rule, alert.subject, alert.keyId, alert.message, alert.requestId,
          ),
        ),
      )
      const subscribers = await subscriptionsFor(env, ALERTS_MODEL, 'alert')
      for (const subscriber of subscribers) {
        const deliveries = pending.map((alert) => ({
          deliveryId: `dlv_${bytesToHex(crypto.getRandomValues(new Uint8Array(8)))}`,
          eventId: `evt_${alert.id.slice(4)}`,
          payload: JSON.stringify({ id: `evt_${alert.id.slice(4)}`, type: `alert.${alert.rule}`, time: new Date(alert.time).toISOString(), alert }),
        }))
        const now = Date.now()
        await env.DB.batch(
          deliveries.map((delivery) =>
            env.DB.prepare(
              `INSERT INTO webhook_deliveries (id, subscription_id, event_id, payload, status, attempts, created_at, updated_at)
               VALUES (?1, ?2, ?3, ?4, 'pending', 0, ?5, ?5)`,
            ).bind(delivery.deliveryId, subscriber.id, delivery.eventId, delivery.payload, now),
          ),
        )
        await env.WEBHOOK_DISPATCHERS.get(env.WEBHOOK_DISPATCHERS.idFromName(subscriber.id)).enqueue(subscriber.id, deliveries)
      }
    } catch (error) {
      return { sent: 0, error: error instanceof Error ? error.message : String(error) }
    }
    // Alerts raised while sending are kept.
    this.waiting = this.waiting.filter((alert) => !pending.some((sent) => sent.id === alert.id))
    this.storage.kv.put(OUTBOX_KEY, this.waiting)
    return { sent: pending.length }
  }
}
