/**
 * The delivery queue of one webhook subscription (a Durable Object named by the subscription id). Events are
 * stored in its SQLite storage before the inbound request is answered; its alarm delivers them, signed, and tries
 * again with backoff (webhooks/retry.ts) until the receiver answers 2xx, the retry window ends (dead letter), or the
 * receiver answers 410 Gone (the subscription is disabled). Every attempt is logged in D1 (`webhook_attempts`).
 * Nothing is lost if the Worker or the object dies mid-delivery: a row leaves the queue only after its outcome is
 * known, so the worst case is one delivery sent twice, with the same `webhook-id` (at-least-once).
 */
import { DurableObject } from 'cloudflare:workers'
import type { Env } from '../env'
import { nextAttemptAt, retryPolicy } from './retry'
import { signatureHeaders } from './signing'
import { disableSubscription, loadSubscription, type Subscription } from './subscriptions'
import { checkWebhookUrl } from './url-guard'

export interface QueuedEvent {
  deliveryId: string
  eventId: string
  payload: string
}

interface QueueRow {
  delivery_id: string
  event_id: string
  payload: string
  created_at: number
  attempts: number
  next_at: number
  [key: string]: SqlStorageValue
}

/** How soon the alarm comes back when D1 could not be reached (attempt logs to write, subscription to read). */
const STORE_RETRY_MS = 5_000
/** Attempt logs written to D1 per batch. */
const LOG_BATCH = 50

/** One attempt's outcome as D1 must learn it; kept in the object until D1 has it. */
interface AttemptLog {
  deliveryId: string
  subscriptionId: string
  eventId: string
  payload: string
  createdAt: number
  attempt: number
  time: number
  statusCode: number | null
  latencyMs: number
  error: string | null
  status: 'pending' | 'delivered' | 'dead'
}

/** How long the receiver has to answer one attempt. */
const ATTEMPT_TIMEOUT_MS = 10_000
/** Deliveries attempted per alarm run, so one run stays short. */
const PER_RUN = 50

type AttemptOutcome = { kind: 'delivered' | 'gone' | 'retry' | 'refused'; status: number | null; error: string | null; latencyMs?: number }

export class WebhookDispatcher extends DurableObject<Env> {
  /** The subscription as D1 last described it, for runs while D1 cannot be read. */
  private lastSubscription: Subscription | null | undefined
  /** Why its signing secret cannot be unsealed, as last logged: logged once per object, not on every run. */
  private unreadableLogged: string | undefined

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    ctx.storage.sql.exec(
      `CREATE TABLE IF NOT EXISTS queue (delivery_id TEXT PRIMARY KEY, event_id TEXT NOT NULL, payload TEXT NOT NULL,
         created_at INTEGER NOT NULL, attempts INTEGER NOT NULL, next_at INTEGER NOT NULL)`,
    )
    // Attempt outcomes waiting for D1: a delivery's status there must not stay 'pending' because one write failed.
    ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS attempt_log (id INTEGER PRIMARY KEY AUTOINCREMENT, entry TEXT NOT NULL)')
  }

  /** Queues events for delivery; durable when this returns. */
  enqueue(subscriptionId: string, events: QueuedEvent[]): number {
    this.ctx.storage.kv.put('subscription', subscriptionId)
    const now = Date.now()
    for (const event of events) {
      this.ctx.storage.sql.exec(
        'INSERT OR IGNORE INTO queue (delivery_id, event_id, payload, created_at, attempts, next_at) VALUES (?, ?, ?, ?, 0, ?)',
        event.deliveryId, event.eventId, event.payload, now, now,
      )
    }
    void this.ctx.storage.setAlarm(now)
    return this.pending()
  }

  pending(): number {
    return this.ctx.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM queue').one().n
  }

  override async alarm(): Promise<void> {
    const subscriptionId = this.ctx.storage.kv.get<string>('subscription')
    if (!subscriptionId) return
    await this.writeLogs()
    let subscription: Subscription | null
    try {
      subscription = await loadSubscription(this.env, subscriptionId)
      this.lastSubscription = subscription
    } catch (error) {
      console.error(JSON.stringify({ level: 'error', where: 'webhook subscription read', subscription: subscriptionId, message: String(error) }))
      if (this.lastSubscription === undefined) {
        await this.ctx.storage.setAlarm(Date.now() + STORE_RETRY_MS)
        return
      }
      subscription = this.lastSubscription
    }
    if (subscription?.unreadable !== undefined && subscription.unreadable !== this.unreadableLogged) {
      console.error(JSON.stringify({ level: 'error', where: 'webhook signing secret', subscription: subscriptionId, message: subscription.unreadable }))
    }
    this.unreadableLogged = subscription?.unreadable
    const now = Date.now()
    const due = this.ctx.storage.sql
      .exec<QueueRow>('SELECT * FROM queue WHERE next_at <= ? ORDER BY created_at LIMIT ?', now, PER_RUN)
      .toArray()
    for (const row of due) {
      const started = performance.now()
      const outcome = await this.attempt(subscription, row)
      outcome.latencyMs = Math.round(performance.now() - started)
      await this.record(subscription?.id ?? subscriptionId, row, outcome)
      if (outcome.kind === 'gone') break
    }
    let next = this.ctx.storage.sql.exec<{ at: number | null }>('SELECT MIN(next_at) AS at FROM queue').one().at
    if (this.logsWaiting() > 0) next = Math.min(next ?? Infinity, Date.now() + STORE_RETRY_MS)
    if (next !== null) await this.ctx.storage.setAlarm(Math.max(next, Date.now()))
  }

  private logsWaiting(): number {
    return this.ctx.storage.sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM attempt_log').one().n
  }

  /** Writes waiting attempt logs to D1, oldest first; what fails stays for the next run. */
  private async writeLogs(): Promise<void> {
    for (;;) {
      const rows = this.ctx.storage.sql.exec<{ id: number; entry: string }>('SELECT id, entry FROM attempt_log ORDER BY id LIMIT ?', LOG_BATCH).toArray()
      if (rows.length === 0) return
      const statements = rows.flatMap((row) => {
        const log = JSON.parse(row.entry) as AttemptLog
        return [
          // The inbound request writes this row; if D1 failed then, the first attempt's log does.
          this.env.DB.prepare(
            `INSERT OR IGNORE INTO webhook_deliveries (id, subscription_id, event_id, payload, status, attempts, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'pending', 0, ?5, ?5)`,
          ).bind(log.deliveryId, log.subscriptionId, log.eventId, log.payload, log.createdAt),
          this.env.DB.prepare(
            'INSERT OR IGNORE INTO webhook_attempts (delivery_id, attempt, time, status_code, latency_ms, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6)',
          ).bind(log.deliveryId, log.attempt, log.time, log.statusCode, log.latencyMs, log.error),
          this.env.DB.prepare(
            'UPDATE webhook_deliveries SET status = ?1, attempts = ?2, last_status = ?3, last_error = ?4, updated_at = ?5 WHERE id = ?6',
          ).bind(log.status, log.attempt, log.statusCode, log.error, log.time, log.deliveryId),
        ]
      })
      try {
        await this.env.DB.batch(statements)
      } catch (error) {
        console.error(JSON.stringify({ level: 'error', where: 'webhook attempt log', waiting: this.logsWaiting(), message: String(error) }))
        return
      }
      this.ctx.storage.sql.exec('DELETE FROM attempt_log WHERE id <= ?', rows[rows.length - 1]!.id)
    }
  }

  private async attempt(subscription: Subscription | null, row: QueueRow): Promise<AttemptOutcome> {
    if (!subscription || subscription.disabledAt !== null) return { kind: 'refused', status: null, error: 'subscription removed or disabled' }
    // Checked before every attempt, not only when subscribing: the rules may have changed since.
    const verdict = checkWebhookUrl(subscription.url, this.env.WEBHOOK_ALLOW_LOOPBACK === 'true')
    if (!verdict.ok) return { kind: 'refused', status: null, error: `URL refused: ${verdict.reason}` }
    // Nothing can be signed: retried like an unreachable receiver (the attempt log says why), so deliveries survive
    // a fix within the retry window, and dead ones can be redelivered after it.
    if (subscription.unreadable !== undefined) return { kind: 'retry', status: null, error: subscription.unreadable }
    const headers = await signatureHeaders(subscription.secrets, row.event_id, Math.floor(Date.now() / 1000), row.payload)
    try {
      const response = await fetch(verdict.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'odoo-mcp-edge-webhooks/1', ...headers },
        body: row.payload,
        redirect: 'manual',
        signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
      })
      await response.body?.cancel()
      if (response.status >= 200 && response.status < 300) return { kind: 'delivered', status: response.status, error: null }
      if (response.status === 410) return { kind: 'gone', status: 410, error: 'receiver answered 410 Gone' }
      return { kind: 'retry', status: response.status, error: response.status >= 300 && response.status < 400 ? 'redirects are not followed' : null }
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError'
      return { kind: 'retry', status: null, error: timedOut ? `no answer within ${ATTEMPT_TIMEOUT_MS / 1000} s` : `connection failed: ${(error as Error).message}` }
    }
  }

  /** Applies an attempt's outcome to the queue, then logs it in D1 (a log failure never loses the delivery). */
  private async record(subscriptionId: string, row: QueueRow, outcome: AttemptOutcome): Promise<void> {
    const attempt = row.attempts + 1
    const now = Date.now()
    let status: 'pending' | 'delivered' | 'dead' = 'pending'
    if (outcome.kind === 'delivered') status = 'delivered'
    else if (outcome.kind === 'gone' || outcome.kind === 'refused') status = 'dead'
    else {
      const next = nextAttemptAt(retryPolicy(this.env), row.created_at, attempt, now)
      if (next === null) status = 'dead'
      else this.ctx.storage.sql.exec('UPDATE queue SET attempts = ?, next_at = ? WHERE delivery_id = ?', attempt, next, row.delivery_id)
    }
    if (status !== 'pending') this.ctx.storage.sql.exec('DELETE FROM queue WHERE delivery_id = ?', row.delivery_id)
    // Stored with the queue change (same turn, no await), so the outcome reaches D1 even if this write fails.
    const log: AttemptLog = {
      deliveryId: row.delivery_id, subscriptionId, eventId: row.event_id, payload: row.payload, createdAt: row.created_at,
      attempt, time: now, statusCode: outcome.status, latencyMs: outcome.latencyMs ?? 0, error: outcome.error, status,
    }
    this.ctx.storage.sql.exec('INSERT INTO attempt_log (entry) VALUES (?)', JSON.stringify(log))
    await this.writeLogs()
    try {
      const statements: D1PreparedStatement[] = []
      if (outcome.kind === 'gone') {
        // Everything else queued for this receiver is dead too; the subscription is disabled.
        const rest = this.ctx.storage.sql.exec<{ delivery_id: string }>('SELECT delivery_id FROM queue').toArray()
        this.ctx.storage.sql.exec('DELETE FROM queue')
        for (const other of rest) {
          statements.push(
            this.env.DB.prepare("UPDATE webhook_deliveries SET status = 'dead', last_error = ?1, updated_at = ?2 WHERE id = ?3").bind(
              'subscription disabled: receiver answered 410 Gone', now, other.delivery_id,
            ),
          )
        }
        await disableSubscription(this.env, subscriptionId, 'receiver answered 410 Gone', now)
      }
      if (statements.length > 0) await this.env.DB.batch(statements)
    } catch (error) {
      console.error(JSON.stringify({ level: 'error', where: 'webhook subscription disable', delivery: row.delivery_id, message: String(error) }))
    }
  }
}
