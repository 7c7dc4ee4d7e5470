/**
 * Webhooks under load: Odoo's side (events posted to /hooks/odoo/<source>/<token> throughout the run, D1 outages and
 * object restarts included) and the receiver's side (every accepted event must arrive, signed, cut to the
 * subscription's fields).
 *
 * Odoo's "Send Webhook Notification" does not retry, so an event the gateway refuses is lost unless the sender tries
 * again. The poster here retries a refused event every 500 ms (as a careful sender would) and records every refusal,
 * so the checks can tell "refused with a clear 503" from "accepted and then lost".
 */
import { verifyWebhook } from '../../src/webhooks/verify'
import { isLostInWrangler, LOST_IN_WRANGLER, runClock } from './traffic'

export interface HookAttempt {
  status: number
  /** The error code of a refusal (`webhook_queue_unavailable`...). */
  code: string | null
  requestId: string | null
  retryAfter: string | null
  at: number
}

export interface PostedEvent {
  seq: number
  recordId: number
  attempts: HookAttempt[]
  /** The gateway's event id, once accepted (202). */
  eventId?: string
  acceptedAt?: number
}

const RETRY_EVERY_MS = 500
/** A sender gives up on one event after this long. */
const GIVE_UP_MS = 30_000

/** One Odoo automation-rule post: the fields Odoo sends, a sensitive one included (the subscription must drop it). */
export async function postEvent(hookUrl: string, userAgent: string, seq: number): Promise<PostedEvent> {
  const event: PostedEvent = { seq, recordId: 1 + (seq % 40), attempts: [] }
  const body = JSON.stringify({
    _model: 'sale.order',
    _id: event.recordId,
    _action: 'Send Webhook Notification(#7)',
    name: `S${String(event.recordId).padStart(5, '0')}`,
    state: seq % 2 ? 'sale' : 'draft',
    amount_total: 100 + seq,
    access_token: `load-secret-${seq}`,
  })
  const firstTry = runClock()
  for (;;) {
    const at = runClock()
    try {
      const response = await fetch(`${hookUrl}?event=write`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': userAgent },
        body,
        signal: AbortSignal.timeout(30_000),
      })
      const text = await response.text()
      let json: { eventId?: string; error?: string } = {}
      try {
        json = JSON.parse(text) as typeof json
      } catch {
        // Not the gateway's JSON (e.g. wrangler's own 503): keep its start as the code.
      }
      event.attempts.push({
        status: response.status,
        code: isLostInWrangler(response.status, response.headers.get('x-request-id'), text)
          ? LOST_IN_WRANGLER
          : (json.error ?? (response.status === 202 ? null : `non-JSON: ${text.slice(0, 80)}`)),
        requestId: response.headers.get('x-request-id'),
        retryAfter: response.headers.get('retry-after'),
        at,
      })
      if (response.status === 202 && json.eventId) {
        event.eventId = json.eventId
        event.acceptedAt = runClock()
        return event
      }
    } catch {
      event.attempts.push({ status: 0, code: 'no_answer', requestId: null, retryAfter: null, at })
    }
    if (runClock() - firstTry > GIVE_UP_MS) return event
    await new Promise((resolve) => setTimeout(resolve, RETRY_EVERY_MS))
  }
}

/** Posts one event every `everyMs` until `stop()`; each event is retried on its own, so a refusal delays no other. */
export async function postEventsUntil(options: { hookUrl: string; userAgent: string; everyMs: number; stop: () => boolean; events: PostedEvent[] }): Promise<void> {
  const pending: Promise<void>[] = []
  for (let seq = 0; !options.stop(); seq++) {
    pending.push(postEvent(options.hookUrl, options.userAgent, seq).then((event) => void options.events.push(event)))
    await new Promise((resolve) => setTimeout(resolve, options.everyMs))
  }
  await Promise.all(pending)
}

interface ReceivedRequest {
  path: string
  headers: Record<string, string>
  body: string
  time: number
}

export interface Deliveries {
  /** Requests the receiver got, in order (its first ones were answered 500 on purpose). */
  requests: number
  /** Event ids the receiver accepted (answered 2xx), with how many times each arrived. */
  delivered: Map<string, number>
  badSignatures: number
  /** Payloads carrying a field outside the subscription's allowlist, or not matching their webhook-id. */
  badPayloads: number
}

/** What the receiver holds so far, each request's signature checked with the gateway's own verifier. */
export async function readDeliveries(receiverUrl: string, box: string, secret: string, failsFirst: number): Promise<Deliveries> {
  const requests = (await (await fetch(`${receiverUrl}/__requests/${box}`)).json()) as ReceivedRequest[]
  const delivered = new Map<string, number>()
  let badSignatures = 0
  let badPayloads = 0
  for (const [index, request] of requests.entries()) {
    // At-least-once: the same id may come twice, so the verifier's replay memory is off; duplicates are counted.
    // Checked as of its arrival (the run may last longer than the 5-minute tolerance).
    const verdict = await verifyWebhook(secret, request.headers, request.body, { toleranceSeconds: 300, nowSeconds: request.time / 1000, seen: () => false })
    if (!verdict.ok) badSignatures++
    const id = request.headers['webhook-id'] ?? ''
    try {
      const payload = JSON.parse(request.body) as { id?: string; model?: string; data?: Record<string, unknown> }
      const fields = Object.keys(payload.data ?? {}).sort().join(',')
      if (payload.id !== id || payload.model !== 'sale.order' || fields !== 'name,state') badPayloads++
    } catch {
      badPayloads++
    }
    // The receiver answers 500 to its first `failsFirst` requests, 200 after.
    if (index >= failsFirst) delivered.set(id, (delivered.get(id) ?? 0) + 1)
  }
  return { requests: requests.length, delivered, badSignatures, badPayloads }
}
