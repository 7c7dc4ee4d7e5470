/**
 * The verdicts of a load run: each requirement of issue 7 becomes one or more named checks with the figures behind
 * them. Pure functions of what the run recorded (client side) and what the gateway stored (audit log, receiver).
 */
import type { AuditRow, ChainVerification } from './control'
import { faultExpectation, LEAK_MARKERS, type FaultResult } from './faults'
import type { KeyChange, Revocation } from './key-changes'
import { asExpected, LOST_IN_WRANGLER, type CallRecord } from './traffic'
import type { Deliveries, PostedEvent } from './webhooks'

export interface Check {
  name: string
  ok: boolean
  /** Passed, but with something to look at that is not the gateway's doing (printed WARN). */
  warning?: boolean
  detail: string
}

export class Checks {
  readonly list: Check[] = []
  add(name: string, ok: boolean, detail: string): void {
    this.list.push({ name, ok, detail })
  }
  warn(name: string, detail: string): void {
    this.list.push({ name, ok: true, warning: true, detail })
  }
  get passed(): boolean {
    return this.list.every((check) => check.ok)
  }
}

const lostInWrangler = (record: { code: string | null }) => record.code === LOST_IN_WRANGLER

/** A window of the run (run-clock ms) during which a fault was injected. */
export interface Window {
  from: number
  to: number
}

export interface ObjectRestart {
  kind: 'key' | 'dispatcher'
  label: string
  /** Run-clock times around the restart call. */
  at: number
  endedAt: number
  restarted: boolean
  duringOutage: boolean
}

/**
 * Requests wrangler dev's proxy answered itself because the Worker's side of the request broke (see
 * LOST_IN_WRANGLER): the gateway never finished them (no X-Request-Id, no audit record), so they are kept out of the
 * gateway's figures and reported on their own, as a warning.
 */
export function wranglerProxyCheck(checks: Checks, lost: { what: string; at: number }[], cliWindows: Window[]): void {
  if (lost.length === 0) {
    checks.add('wrangler dev: every request reached the Worker', true, 'none lost in wrangler dev\'s proxy')
    return
  }
  const duringCli = lost.filter((item) => cliWindows.some((window) => item.at >= window.from && item.at <= window.to + 500))
  checks.warn(
    'wrangler dev: every request reached the Worker',
    `${lost.length} answered by wrangler dev's proxy with 503 "Your worker restarted mid-request" (no X-Request-Id, no audit record; ` +
      `${duringCli.length} while the CLI's wrangler d1 execute held the local D1 file): ${lost.map((item) => `${item.what} at ${Math.round(item.at / 100) / 10} s`).join(', ')}`,
  )
}

const inFlightDuring = (record: CallRecord, window: Window) => record.sentAt <= window.to + 50 && record.sentAt + record.ms >= window.from - 50

/**
 * A 503 the gateway documents for a key object that cannot answer (`key_service_unavailable`), a record that cannot
 * be stored (`audit_unavailable`), or an answer lost on its way back from a restarting object (`answer_lost`: the
 * edge's retry found the first call served, src/keys/key-object.ts), for a request that was in flight while its key
 * object was restarted.
 */
export function isRestartRefusal(record: CallRecord, restarts: ObjectRestart[]): boolean {
  if (record.status !== 503 || !['key_service_unavailable', 'audit_unavailable', 'answer_lost'].includes(record.code ?? '')) return false
  return restarts.some((restart) => restart.kind === 'key' && restart.label === record.key && inFlightDuring(record, { from: restart.at, to: restart.endedAt }))
}

const describe = (record: CallRecord) => `${record.key} ${record.call.tool} → ${record.status} ${record.kind}${record.code ? ` ${record.code}` : ''} at ${Math.round(record.sentAt)} ms${record.text ? `: ${record.text.slice(0, 120)}` : ''}`

const examples = (records: CallRecord[], count = 3) => records.slice(0, count).map(describe).join('; ')

export interface TrafficInput {
  expectedCalls: number
  traffic: CallRecord[]
  /** Per rate-limited key: its burst, and the key's records. */
  limited: { label: string; burst: number; perMinute: number; records: CallRecord[] }[]
  restarts: ObjectRestart[]
  outages: Window[]
}

export function trafficChecks(checks: Checks, input: TrafficInput): void {
  const everything = [...input.traffic, ...input.limited.flatMap((key) => key.records)]
  // Counted as made, then left to wranglerProxyCheck.
  const all = everything.filter((record) => !lostInWrangler(record))
  input = { ...input, traffic: input.traffic.filter((record) => !lostInWrangler(record)), limited: input.limited.map((key) => ({ ...key, records: key.records.filter((record) => !lostInWrangler(record)) })) }
  checks.add('10k: calls made', everything.length === input.expectedCalls, `${everything.length} tool calls from ${new Set(everything.map((r) => r.key)).size} keys (expected ${input.expectedCalls})`)

  const unanswered = all.filter((record) => record.kind === 'no_answer')
  checks.add('10k: every call answered', unanswered.length === 0, unanswered.length ? `${unanswered.length} without an answer: ${examples(unanswered)}` : `${all.length} of ${all.length}`)

  const serverErrors = all.filter((record) => record.status >= 500)
  const restartRefusals = serverErrors.filter((record) => isRestartRefusal(record, input.restarts))
  const gatewayErrors = serverErrors.filter((record) => !isRestartRefusal(record, input.restarts))
  checks.add(
    '10k: no 5xx from the gateway',
    gatewayErrors.length === 0,
    `${gatewayErrors.length} 5xx outside restart windows${gatewayErrors.length ? ` (${examples(gatewayErrors)})` : ''}; ` +
      `${restartRefusals.length} documented 503s (key_service_unavailable / audit_unavailable / answer_lost) for requests in flight while their key object restarted`,
  )

  // Keys without a tight limit: each call succeeds, or fails exactly as the tool error it was meant to be.
  const unexpected = input.traffic.filter((record) => !asExpected(record) && !isRestartRefusal(record, input.restarts))
  const toolErrors = input.traffic.filter((record) => record.call.expect === 'tool_error')
  checks.add(
    '10k: answers as expected',
    unexpected.length === 0,
    `${input.traffic.length - unexpected.length} of ${input.traffic.length} calls of the unlimited keys as expected ` +
      `(${toolErrors.length} tool errors on purpose)${unexpected.length ? `; unexpected: ${examples(unexpected)}` : ''}`,
  )

  const outageCalls = input.traffic.filter((record) => input.outages.some((window) => inFlightDuring(record, window)))
  const outageBad = outageCalls.filter((record) => !asExpected(record) && !isRestartRefusal(record, input.restarts))
  checks.add(
    'D1 outage: calls keep succeeding',
    outageCalls.length > 0 && outageBad.length === 0,
    `${outageCalls.length} calls in flight during ${input.outages.length} D1 outages (${input.outages.map((w) => `${Math.round((w.to - w.from) / 100) / 10} s`).join(', ')}), ` +
      `${outageBad.length} not as expected${outageBad.length ? `: ${examples(outageBad)}` : ''}`,
  )

  for (const key of input.limited) {
    const admitted = key.records.filter((record) => record.kind === 'ok' || record.kind === 'tool_error')
    const refused = key.records.filter((record) => record.kind === 'rate_limited')
    // Caught in a restart of the key's object: the token may have been taken before the object went away.
    const lost = key.records.filter((record) => isRestartRefusal(record, input.restarts))
    const other = key.records.filter((record) => !admitted.includes(record) && !refused.includes(record) && !lost.includes(record))
    const first = Math.min(...key.records.map((record) => record.sentAt))
    const last = Math.max(...key.records.map((record) => record.sentAt + record.ms))
    // GCRA: a full bucket of `burst`, then one more token every 60 000 / perMinute ms.
    const refill = Math.floor(((last - first) * key.perMinute) / 60_000)
    const bad = admitted.filter((record) => !asExpected(record))
    const low = Math.min(key.burst, key.records.length) - lost.length
    const ok = admitted.length >= low && admitted.length <= key.burst + refill && bad.length === 0 && other.length === 0
    checks.add(
      `rate limit exact: ${key.label}`,
      ok,
      `${admitted.length} admitted, ${refused.length} refused (429) of ${key.records.length}; limit ${key.burst} + ${refill} refilled over ` +
        `${Math.round((last - first) / 100) / 10} s${lost.length ? `; ${lost.length} caught in an object restart (503)` : ''}` +
        `${bad.length ? `; admitted calls not as expected: ${examples(bad)}` : ''}${other.length ? `; other answers: ${examples(other)}` : ''}`,
    )
  }
  const limitedElsewhere = input.traffic.filter((record) => record.kind === 'rate_limited')
  checks.add('rate limit: no refusal under a high limit', limitedElsewhere.length === 0, `${limitedElsewhere.length} calls of the unlimited keys refused with 429`)
}

export interface AuditInput {
  userAgent: string
  /** Every request the run sent to /mcp and /hooks, with the key id it used (null for webhooks). */
  requests: { record: Pick<CallRecord, 'requestId' | 'status' | 'code' | 'key' | 'kind' | 'sentAt'>; keyId: string | null }[]
  rows: AuditRow[]
  chains: ChainVerification[]
}

export interface AuditFigures {
  requests: number
  rows: number
  missing: number
  duplicated: number
  unknown: number
  statusMismatch: number
  keyMismatch: number
  chainsVerified: number
  chainProblems: number
  pendingAfterFlush: number
  /** Up to 20 requests of each kind of discrepancy, for the report. */
  examples: Record<'missing' | 'unanswered' | 'statusMismatch' | 'duplicated' | 'unknown', string[]>
}

export function auditChecks(checks: Checks, input: AuditInput): AuditFigures {
  input = { ...input, requests: input.requests.filter((request) => !lostInWrangler(request.record)) }
  const rowsById = new Map<string, AuditRow[]>()
  for (const row of input.rows) rowsById.set(row[0], [...(rowsById.get(row[0]) ?? []), row])
  const answered = input.requests.filter((request) => request.record.requestId)
  const missing = answered.filter((request) => !rowsById.has(request.record.requestId!))
  const duplicated = [...rowsById.values()].filter((rows) => rows.length > 1)
  const known = new Set(answered.map((request) => request.record.requestId!))
  const unknown = input.rows.filter((row) => !known.has(row[0]))
  // An `answer_lost` 503's record is the first call's, whose answer left the object and was lost on the way.
  const statusMismatch = answered.filter((request) => {
    const row = rowsById.get(request.record.requestId!)?.[0]
    return row && row[6] !== request.record.status && request.record.code !== 'answer_lost'
  })
  // A request admitted or refused by its key's object lands on the key's chain; one the object could not answer
  // (503 key_service_unavailable) has no key identity and lands on an unauthenticated chain.
  const keyMismatch = answered.filter((request) => {
    const row = rowsById.get(request.record.requestId!)?.[0]
    if (!row || request.keyId === null || request.record.code === 'key_service_unavailable') return false
    return row[3] !== request.keyId
  })
  const describeRequest = (request: AuditInput['requests'][number]) =>
    `${request.record.key} ${request.record.status}${request.record.code ? ` ${request.record.code}` : ''} at ${Math.round(request.record.sentAt)} ms (${request.record.requestId})`
  checks.add(
    'audit: one record per request',
    missing.length === 0 && duplicated.length === 0 && unknown.length === 0 && input.requests.length === answered.length,
    `${input.rows.length} records for ${input.requests.length} requests (${input.requests.length - answered.length} without an answer); ` +
      `${missing.length} missing${missing.length ? ` [${missing.slice(0, 4).map(describeRequest).join('; ')}]` : ''}, ${duplicated.length} duplicated, ${unknown.length} unknown`,
  )
  checks.add(
    'audit: records match the answers',
    statusMismatch.length === 0 && keyMismatch.length === 0,
    `${statusMismatch.length} with another HTTP status, ${keyMismatch.length} on another key's chain`,
  )
  const problems = input.chains.flatMap((chain) => chain.problems)
  const pending = input.chains.reduce((sum, chain) => sum + chain.pending, 0)
  checks.add(
    'audit: chains intact, outboxes flushed',
    problems.length === 0 && pending === 0,
    `${input.chains.length} chains, ${input.chains.reduce((sum, chain) => sum + chain.records, 0)} records verified (hashes, links, heads); ` +
      `${problems.length} problems${problems.length ? ` ${JSON.stringify(problems.slice(0, 3))}` : ''}; ${pending} records still in outboxes`,
  )
  const unanswered = input.requests.filter((request) => !request.record.requestId)
  const statusOf = (request: AuditInput['requests'][number]) => `audit ${rowsById.get(request.record.requestId!)?.[0]?.[6]}`
  return {
    examples: {
      missing: missing.slice(0, 20).map(describeRequest),
      unanswered: unanswered.slice(0, 20).map(describeRequest),
      statusMismatch: statusMismatch.slice(0, 20).map((request) => `${describeRequest(request)}: ${statusOf(request)}`),
      duplicated: duplicated.slice(0, 20).map((rows) => rows.map((row) => `${row[0]} ${row[1]}#${row[2]} ${row[6]}`).join(' + ')),
      unknown: unknown.slice(0, 20).map((row) => `${row[0]} ${row[1]}#${row[2]} ${row[8]} ${row[6]} ${row[5] ?? ''}`),
    },
    requests: input.requests.length,
    rows: input.rows.length,
    missing: missing.length,
    duplicated: duplicated.length,
    unknown: unknown.length,
    statusMismatch: statusMismatch.length,
    keyMismatch: keyMismatch.length,
    chainsVerified: input.chains.length,
    chainProblems: problems.length,
    pendingAfterFlush: pending,
  }
}

export function faultChecks(checks: Checks, faults: FaultResult[], rows: AuditRow[], timeoutMs: number, idleMarginMs: number, loadMarginMs: number): void {
  const rowById = new Map(rows.map((row) => [row[0], row]))
  for (const underLoad of [false, true]) {
    for (const mode of new Set(faults.filter((fault) => fault.underLoad === underLoad).map((fault) => fault.mode))) {
      const calls = faults.filter((fault) => fault.mode === mode && fault.underLoad === underLoad)
      const expected = faultExpectation(mode, timeoutMs)
      const problems: string[] = []
      for (const call of calls) {
        if (call.kind !== 'tool_error' || !expected.text.test(call.text)) problems.push(`answer ${call.status} ${call.kind}: ${call.text.slice(0, 100)}`)
        const leaked = LEAK_MARKERS.filter((marker) => call.text.includes(marker))
        if (leaked.length) problems.push(`leaks ${leaked.join(', ')}`)
        const row = call.requestId ? rowById.get(call.requestId) : undefined
        if (!row) problems.push('no audit record')
        else if (row[4] !== 'error' || row[5] !== expected.auditCode) problems.push(`audited as ${row[4]}/${row[5]}, expected error/${expected.auditCode}`)
        // Idle: what the agent waits, end to end. Under load the client's wait includes queueing behind thousands of
        // other calls, so the gateway's own time (audit latency_ms) is held to the bound instead.
        const waited = underLoad ? row?.[9] : call.ms
        const bound = timeoutMs + (underLoad ? loadMarginMs : idleMarginMs)
        if (waited === undefined || waited > bound) problems.push(`took ${waited ?? '?'} ms (bound ${bound} ms)`)
      }
      const waits = calls.map((call) => Math.round(call.ms))
      checks.add(
        `Odoo fault${underLoad ? ' under load' : ''}: ${mode}`,
        calls.length > 0 && problems.length === 0,
        `${calls.length} calls, agent waited ${waits.join('/')} ms${calls[0] ? `, said "${calls[0].text.slice(0, 90)}"` : ''}${problems.length ? `; ${problems.slice(0, 3).join('; ')}` : ''}`,
      )
    }
  }
}

const busy = (change: KeyChange) => (change.busyRetries ? ` (wrangler d1 execute tried ${change.busyRetries + 1} times: local D1 file busy)` : '')

export function keyChangeChecks(checks: Checks, changes: KeyChange[], recordsOf: (label: string) => CallRecord[], restarts: ObjectRestart[]): void {
  for (const change of changes.filter((c) => c.kind !== 'revoke')) {
    const records = recordsOf(change.label)
    const during = records.filter((record) => record.sentAt + record.ms >= change.startedAt)
    const failed = records.filter((record) => !asExpected(record) && !isRestartRefusal(record, restarts))
    const bySecret = change.kind === 'rotate' ? ` (${records.filter((r) => r.secret === 'old').length} with the old secret, ${records.filter((r) => r.secret === 'new').length} with the new)` : ''
    checks.add(
      `${change.kind === 'rotate' ? 'rotation' : 'policy change'} under load: ${change.label}`,
      failed.length === 0 && change.appliedNow && during.length > 0,
      `${records.length} calls${bySecret}, ${failed.length} failed${failed.length ? ` (${examples(failed)})` : ''}; CLI took ` +
        `${Math.round(change.endedAt - change.startedAt)} ms${busy(change)}, ${change.appliedNow ? 'applied at once' : `not applied at once: ${change.stderr}`}`,
    )
  }
}

/**
 * "A revoked key refused within one second", in two parts:
 * - end to end, from the moment the revocation is in D1 (the source of truth): every request sent more than
 *   `boundMs` later must be refused. The time the CLI needs between its D1 write and its admin call counts: that is
 *   the operator's path;
 * - the gateway's own part: once the CLI's admin call has been answered, no request may be let through (the key
 *   object reloads before it answers), and none after the first refusal.
 */
export function revocationCheck(checks: Checks, revocation: Revocation, boundMs: number) {
  const since = (at: number | null) => (revocation.committedAt !== null && at !== null ? Math.round(at - revocation.committedAt) : null)
  const figures = {
    commitToFirstRefusalMs: since(revocation.firstRefusedAt),
    commitToFirstRefusedSendMs: since(revocation.firstRefusedSentAt),
    commitToCliReturnMs: since(revocation.endedAt),
    commitToAdminCallMs: since(revocation.adminCall?.startedAt ?? null),
    adminCallMs: revocation.adminCall ? Math.round(revocation.adminCall.endedAt - revocation.adminCall.startedAt) : null,
    lastAdmittedSentAfterCommitMs: revocation.lastAdmittedSentAfterCommitMs,
  }
  const other = revocation.records.filter((record) => record.status !== 200 && record.status !== 401)
  const late = revocation.records.filter((record) => record.status === 200 && revocation.committedAt !== null && record.sentAt >= revocation.committedAt + boundMs)
  checks.add(
    'revocation: refused within 1 s of reaching D1',
    revocation.committedAt !== null && revocation.firstRefusedAt !== null && late.length === 0 && other.length === 0,
    `last request let through was sent at +${figures.lastAdmittedSentAfterCommitMs ?? '?'} ms, ${late.length} of them later than +${boundMs} ms; ` +
      `the CLI sent its admin request (which writes D1, then reloads the key object) at +${figures.commitToAdminCallMs ?? '?'} ms (CLI ran ` +
      `${Math.round(revocation.endedAt - revocation.startedAt)} ms${busy(revocation)}), the call took ${figures.adminCallMs ?? '?'} ms; ` +
      `first 401 received at +${figures.commitToFirstRefusalMs ?? '?'} ms; ${revocation.records.length} polls` +
      (other.length ? `; other answers: ${examples(other)}` : ''),
  )
  const applied = revocation.adminCall?.endedAt ?? null
  const afterAdmin = revocation.records.filter((record) => record.status === 200 && applied !== null && record.sentAt >= applied)
  checks.add(
    'revocation: applied by the gateway at once',
    revocation.appliedNow && applied !== null && afterAdmin.length === 0 && revocation.admittedAfterRefusal === 0,
    `${revocation.appliedNow ? 'the CLI said "Applied now"' : `not applied at once: ${revocation.stderr}`}; ${afterAdmin.length} requests let through ` +
      `after the admin call was answered, ${revocation.admittedAfterRefusal} after the first 401`,
  )
  return figures
}

export interface WebhookFigures {
  posted: number
  accepted: number
  refusedAttempts: Record<string, number>
  delivered: number
  duplicates: number
  receiverRequests: number
  badSignatures: number
  badPayloads: number
  /** The first refused posts: status, error code, run-clock second. */
  refusals: { status: number; code: string | null; atS: number }[]
}

/**
 * `cliWindows`: while the CLI's `wrangler d1 execute` writes the local D1 file, the gateway's own D1 queries may fail
 * with SQLITE_BUSY (two processes on one SQLite file: local only), which for /hooks is a D1 outage too.
 */
export function webhookChecks(checks: Checks, events: PostedEvent[], deliveries: Deliveries, outages: Window[], cliWindows: Window[]): WebhookFigures {
  const accepted = events.filter((event) => event.eventId)
  const notDelivered = accepted.filter((event) => !deliveries.delivered.has(event.eventId!))
  const duplicates = [...deliveries.delivered.values()].filter((count) => count > 1).length
  checks.add(
    'webhooks: every accepted event delivered, signed',
    notDelivered.length === 0 && deliveries.badSignatures === 0 && deliveries.badPayloads === 0,
    `${accepted.length} accepted, ${accepted.length - notDelivered.length} delivered (${duplicates} twice, allowed: at least once); ` +
      `${deliveries.requests} deliveries seen by the receiver (its first 3 answered 500 on purpose), ${deliveries.badSignatures} bad signatures, ` +
      `${deliveries.badPayloads} payloads outside the field allowlist`,
  )
  const refusals = events.flatMap((event) => event.attempts.filter((attempt) => attempt.status !== 202 && !lostInWrangler(attempt)))
  const refusedAttempts: Record<string, number> = {}
  for (const attempt of refusals) refusedAttempts[`${attempt.status} ${attempt.code ?? ''}`.trim()] = (refusedAttempts[`${attempt.status} ${attempt.code ?? ''}`.trim()] ?? 0) + 1
  // A refusal must say "not accepted, try again" (503); a 500 says the gateway broke, and Odoo does not retry.
  const unclear = refusals.filter((attempt) => attempt.status !== 503)
  const noRetryAfter = refusals.filter((attempt) => attempt.status === 503 && !attempt.retryAfter)
  const within = (windows: Window[]) => (attempt: { at: number }) => windows.some((window) => attempt.at >= window.from - 100 && attempt.at <= window.to + 100)
  const duringOutage = refusals.filter(within(outages))
  const duringCli = refusals.filter((attempt) => !within(outages)(attempt) && within(cliWindows)(attempt))
  const outsideOutage = refusals.filter((attempt) => !within(outages)(attempt) && !within(cliWindows)(attempt))
  const neverAccepted = events.filter((event) => !event.eventId)
  checks.add(
    'webhooks: refusals are clear 503s, nothing lost',
    unclear.length === 0 && neverAccepted.length === 0,
    `${events.length} events posted, ${refusals.length} attempts refused (${Object.entries(refusedAttempts).map(([what, n]) => `${n}× ${what}`).join(', ') || 'none'}), ` +
      `${duringOutage.length} during injected D1 outages, ${duringCli.length} while the CLI wrote D1, ${outsideOutage.length} at other times` +
      `${outsideOutage.length ? ` (${outsideOutage.slice(0, 5).map((attempt) => `${attempt.status} ${attempt.code ?? ''} at ${Math.round(attempt.at / 100) / 10} s`).join(', ')})` : ''}; ` +
      `${noRetryAfter.length} 503s without Retry-After; ${neverAccepted.length} events never accepted (the poster retries every 500 ms, as Odoo would not)`,
  )
  return {
    posted: events.length,
    accepted: accepted.length,
    refusedAttempts,
    delivered: accepted.length - notDelivered.length,
    duplicates,
    receiverRequests: deliveries.requests,
    badSignatures: deliveries.badSignatures,
    badPayloads: deliveries.badPayloads,
    // Anything but 500 first (500s come in bulk during outages), then the rest.
    refusals: [...refusals.filter((attempt) => attempt.status !== 500), ...refusals.filter((attempt) => attempt.status === 500)]
      .slice(0, 40)
      .map((attempt) => ({ status: attempt.status, code: attempt.code, atS: Math.round(attempt.at / 100) / 10 })),
  }
}
