/**
 * Alert rules, evaluated on the audit stream: every audit record passes through the object that sequences its chain
 * (a key's object, or an unauthenticated chain's), which keeps the little state the rules need. Pure: the state goes
 * in and comes out, so the rules are tested without a runtime.
 *
 *   rate_limit     a key hit its rate limit (or the gateway-wide one)
 *   auth_failures  N failed authentications from one IP, or with one key prefix, within M minutes
 *   model_denied   the policy refused a key a model or a field
 *   new_model      a key used a model it had never used (after its first hour)
 *   off_hours      a key was used outside the working hours its policy sets
 *   volume_spike   a key's requests in 5 minutes exceed its own baseline by a factor
 *
 * Each alert is throttled per (rule, subject): at most one per ALERT_THROTTLE_MINUTES.
 */
import type { AuditRecord } from '../audit/record'

/** The pseudo-model alert subscribers subscribe to (`odoo-mcp webhooks add --alerts`). */
export const ALERTS_MODEL = '_alerts'

export interface WorkingHours {
  timezone: string
  /** Days of the week, 0 = Sunday … 6 = Saturday. */
  days: number[]
  /** Minutes since midnight, local time; `to` is exclusive. */
  from: number
  to: number
}

export interface AlertConfig {
  authFailures: number
  authWindowMs: number
  throttleMs: number
  spikeFactor: number
  spikeMinimum: number
}

export const DEFAULT_ALERT_CONFIG: AlertConfig = {
  authFailures: 10,
  authWindowMs: 5 * 60_000,
  throttleMs: 15 * 60_000,
  spikeFactor: 5,
  spikeMinimum: 50,
}

export type AlertRule = 'rate_limit' | 'auth_failures' | 'model_denied' | 'new_model' | 'off_hours' | 'volume_spike'

export interface Alert {
  rule: AlertRule
  /** What the alert is about: a key id, an IP, a key prefix. */
  subject: string
  time: number
  keyId: string | null
  message: string
  requestId: string
}

export interface AlertState {
  /** Failure times per subject (ip:… / prefix:…), pruned to the window. */
  failures: Record<string, number[]>
  /** Last alert time per rule:subject. */
  lastAlert: Record<string, number>
  /** Models this key has used, and when the key was first seen. */
  models: string[]
  firstSeen: number | null
  /** Volume: the current 5-minute bucket and an exponentially weighted baseline of past buckets. */
  bucketStart: number
  bucketCount: number
  baseline: number | null
  buckets: number
}

export function emptyAlertState(): AlertState {
  return { failures: {}, lastAlert: {}, models: [], firstSeen: null, bucketStart: 0, bucketCount: 0, baseline: null, buckets: 0 }
}

const AUTH_FAILURE_CODES = new Set(['missing_token', 'malformed_key', 'unknown_key', 'revoked_key', 'expired_key', 'rotated_key', 'invalid_webhook_token'])
const BUCKET_MS = 5 * 60_000
/** Past buckets needed before a baseline is trusted. */
const BASELINE_BUCKETS = 6
const LEARNING_MS = 60 * 60_000
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']

/** Local weekday and minute of `time` in `timezone`. */
function localTime(time: number, timezone: string): { day: number; minute: number } {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: timezone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .formatToParts(new Date(time))
  const get = (type: string) => parts.find((part) => part.type === type)?.value ?? ''
  return { day: WEEKDAYS.indexOf(get('weekday').toLowerCase().slice(0, 3)), minute: Number(get('hour')) * 60 + Number(get('minute')) }
}

export function isWithinWorkingHours(hours: WorkingHours, time: number): boolean {
  const { day, minute } = localTime(time, hours.timezone)
  return hours.days.includes(day) && minute >= hours.from && minute < hours.to
}

/** Evaluates one record; returns the alerts to raise (already throttled) and mutates `state`. */
export function evaluate(record: AuditRecord, state: AlertState, config: AlertConfig, workingHours?: WorkingHours): Alert[] {
  const alerts: Alert[] = []
  const raise = (rule: AlertRule, subject: string, message: string) => {
    const key = `${rule}:${subject}`
    const last = state.lastAlert[key]
    if (last !== undefined && record.time - last < config.throttleMs) return
    state.lastAlert[key] = record.time
    alerts.push({ rule, subject, time: record.time, keyId: record.keyId, message, requestId: record.requestId })
  }
  const keyName = record.keyName ? `'${record.keyName}' (${record.keyId})` : record.keyId ?? 'unknown key'

  if (record.code === 'rate_limited' || record.code === 'global_rate_limited') {
    raise('rate_limit', record.keyId ?? 'global', `${keyName} hit ${record.code === 'rate_limited' ? 'its rate limit' : 'the gateway-wide rate limit'}`)
  }

  if (record.code && AUTH_FAILURE_CODES.has(record.code)) {
    for (const subject of [record.ip ? `ip:${record.ip}` : null, record.keyPrefix ? `prefix:${record.keyPrefix}` : null]) {
      if (!subject) continue
      const recent = (state.failures[subject] ?? []).filter((time) => record.time - time < config.authWindowMs)
      recent.push(record.time)
      state.failures[subject] = recent.slice(-config.authFailures)
      if (recent.length >= config.authFailures) {
        raise('auth_failures', subject, `${recent.length} failed authentications from ${subject.replace(':', ' ')} within ${config.authWindowMs / 60_000} minutes`)
      }
    }
  }

  if (!record.keyId) return alerts
  state.firstSeen ??= record.time

  if (record.code === 'policy_denied' && record.model) raise('model_denied', `${record.keyId}:${record.model}`, `${keyName} was denied ${record.model} by its policy`)

  if (record.outcome === 'ok' && record.model && !state.models.includes(record.model)) {
    state.models.push(record.model)
    if (record.time - state.firstSeen >= LEARNING_MS) raise('new_model', `${record.keyId}:${record.model}`, `${keyName} used ${record.model} for the first time`)
  }

  if (workingHours && !isWithinWorkingHours(workingHours, record.time)) {
    raise('off_hours', record.keyId, `${keyName} was used outside its working hours (${new Date(record.time).toISOString()})`)
  }

  // Volume: close finished buckets into the baseline, then compare the current one.
  const bucketStart = record.time - (record.time % BUCKET_MS)
  if (bucketStart !== state.bucketStart) {
    if (state.bucketStart !== 0) {
      const closed = Math.min(Math.round((bucketStart - state.bucketStart) / BUCKET_MS), 12)
      for (let index = 0; index < closed; index++) {
        const count = index === 0 ? state.bucketCount : 0
        state.baseline = state.baseline === null ? count : 0.8 * state.baseline + 0.2 * count
        state.buckets++
      }
    }
    state.bucketStart = bucketStart
    state.bucketCount = 0
  }
  state.bucketCount++
  if (state.buckets >= BASELINE_BUCKETS && state.baseline !== null) {
    const threshold = Math.max(config.spikeMinimum, config.spikeFactor * state.baseline)
    if (state.bucketCount > threshold) {
      raise('volume_spike', record.keyId, `${keyName} made ${state.bucketCount} requests in 5 minutes (baseline ${state.baseline.toFixed(1)})`)
    }
  }
  return alerts
}
