/**
 * Alert rules, evaluated on the audit stream: every audit record passes through the object that sequences its chain
 * (a key's object, or an unauthenticated chain's), which keeps the little state the rules need. Pure: the state goes
 * in and comes out, so the rules are tested without a runtime.
 *
 *   rate_limit     a key hit its rate limit (or the gateway-wide one)
 *   auth_failures  N failed authentications from one IP, with one key prefix, or (OAuth sign-in) with one Odoo login,
 *                  within M minutes
 *   token_reuse    an OAuth refresh token was presented again after it had been exchanged: stolen, or a broken
 *                  client (the connection is revoked at once, oauth/refresh-tokens.ts)
 *   model_denied   the policy refused a key a model, or an operation on a model (read, create, write, unlink)
 *   field_denied   the policy refused a key fields of a model it may use (read, filtered, sorted, grouped, written)
 *   new_model      a key used a model it had never used (after its first hour)
 *   off_hours      a key was used outside the working hours its policy sets
 *   volume_spike   a key's requests in 5 minutes exceed its own baseline by a factor
 *
 * Each alert is throttled per (rule, subject): at most one per ALERT_THROTTLE_MINUTES; model_denied and field_denied
 * per key and model (field_denied names the fields of the call that raised it).
 *
 * Both refusal rules read what the guard refused from `record.refusal` (src/errors.ts, PolicyRefusal), never from the
 * record's `model`: a call on sale.order can be refused res.users through a domain path, or only a field of
 * sale.order. Other `policy_denied` refusals (a name search, a context key, an operator, a field type) raise none:
 * they say how the call was written, not what the key reached for.
 */
import type { AuditRecord, RecordedRefusal } from '../audit/record'

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

/** Codes of the records an admin change appends to a key's chain (`keys set-odoo-secret`). */
const ADMIN_CHANGE_CODES: ReadonlySet<string> = new Set(['odoo_credentials_verified', 'odoo_credentials_not_verified'])

export type AlertRule = 'rate_limit' | 'auth_failures' | 'token_reuse' | 'model_denied' | 'field_denied' | 'new_model' | 'off_hours' | 'volume_spike'

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
  /** Last alert time per throttle key (rule:subject), pruned (MAX_THROTTLE_KEYS). */
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

const AUTH_FAILURE_CODES = new Set([
  'missing_token',
  'malformed_key',
  'unknown_key',
  'revoked_key',
  'expired_key',
  'rotated_key',
  'invalid_webhook_token',
  'invalid_oauth_token',
  'revoked_token',
  'oauth_sign_in_failed',
])
/** A failed OAuth sign-in's record names the login tried (oauth/oauth-audit.ts): a guessing attack on one login shows. */
const SIGN_IN_FAILURE = 'oauth_sign_in_failed'
/** OAuth refresh-token reuse (oauth/token.ts). */
const TOKEN_REUSE = 'refresh_token_reused'
const BUCKET_MS = 5 * 60_000
/** Past buckets needed before a baseline is trusted. */
const BASELINE_BUCKETS = 6
const LEARNING_MS = 60 * 60_000
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']
/**
 * Throttle keys kept before expired ones are dropped: models and field names are chosen by the client, so invented
 * ones would otherwise grow the stored state without end. Beyond it even after that, the oldest go.
 */
export const MAX_THROTTLE_KEYS = 500

/** Drops throttle keys that no longer throttle anything, then the oldest if there are still too many. */
function pruneThrottle(state: AlertState, now: number, throttleMs: number): void {
  const entries = Object.entries(state.lastAlert)
  if (entries.length <= MAX_THROTTLE_KEYS) return
  const live = entries.filter(([, time]) => now - time < throttleMs)
  state.lastAlert = Object.fromEntries(live.sort(([, a], [, b]) => a - b).slice(-MAX_THROTTLE_KEYS))
}

/** `a, b and 3 more`: the names a record kept, and how many it left out. */
function nameList(names: string[], total = names.length): string {
  return `${names.join(', ')}${total > names.length ? ` and ${total - names.length} more` : ''}`
}

/** The text of a model_denied alert: the model the policy refused (not necessarily the one called), and why. */
function modelDeniedMessage(refusal: Extract<RecordedRefusal, { kind: 'model' | 'operation' }>, keyName: string): string {
  if (refusal.kind === 'operation') {
    return `${keyName} was denied ${refusal.model} (operation ${refusal.operation}) by its policy${refusal.via ? ` (needed by ${refusal.via})` : ''}`
  }
  if (refusal.noPolicy) return `${keyName} was denied ${refusal.model}: the key has no policy`
  return `${keyName} was denied ${refusal.model} by its policy${refusal.via ? ` (reached through ${refusal.via})` : ''}`
}

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
  pruneThrottle(state, record.time, config.throttleMs)
  const throttled = (key: string) => {
    const last = state.lastAlert[key]
    return last !== undefined && record.time - last < config.throttleMs
  }
  const raise = (rule: AlertRule, subject: string, message: string) => {
    const key = `${rule}:${subject}`
    if (throttled(key)) return
    state.lastAlert[key] = record.time
    alerts.push({ rule, subject, time: record.time, keyId: record.keyId, message, requestId: record.requestId })
  }
  const keyName = record.keyName ? `'${record.keyName}' (${record.keyId})` : record.keyId ?? 'unknown key'

  if (record.code === 'rate_limited' || record.code === 'global_rate_limited') {
    raise('rate_limit', record.keyId ?? 'global', `${keyName} hit ${record.code === 'rate_limited' ? 'its rate limit' : 'the gateway-wide rate limit'}`)
  }

  if (record.code && AUTH_FAILURE_CODES.has(record.code)) {
    const login = record.code === SIGN_IN_FAILURE && record.odooUser ? `login:${record.odooUser}` : null
    for (const subject of [record.ip ? `ip:${record.ip}` : null, record.keyPrefix ? `prefix:${record.keyPrefix}` : null, login]) {
      if (!subject) continue
      const recent = (state.failures[subject] ?? []).filter((time) => record.time - time < config.authWindowMs)
      recent.push(record.time)
      state.failures[subject] = recent.slice(-config.authFailures)
      if (recent.length >= config.authFailures) {
        raise('auth_failures', subject, `${recent.length} failed authentications from ${subject.replace(':', ' ')} within ${config.authWindowMs / 60_000} minutes`)
      }
    }
  }

  if (record.code === TOKEN_REUSE) {
    raise('token_reuse', record.keyId ?? 'unknown', `${keyName}: a refresh token was used twice (stolen, or a faulty client); the connection is revoked`)
  }

  if (!record.keyId) return alerts
  // An administrator's change recorded in the key's chain (src/admin/routes.ts) is not a use of the key: no off-hours
  // alert, no volume. Told apart by its code, which only the gateway sets (a client chooses the method name).
  if (record.code !== null && ADMIN_CHANGE_CODES.has(record.code)) return alerts
  state.firstSeen ??= record.time

  const refusal = record.code === 'policy_denied' ? record.refusal : undefined
  if (refusal?.kind === 'field') {
    // Per key and model, like model_denied: a client inventing field names cannot turn each call into an alert (the
    // audit log keeps every refusal). The alert names the fields of the call that raised it.
    const total = refusal.fieldCount ?? refusal.fields.length
    raise(
      'field_denied',
      `${record.keyId}:${refusal.model}`,
      `${keyName} was denied ${total === 1 ? 'field' : 'fields'} ${nameList(refusal.fields, total)} of ${refusal.model} by its policy (in ${refusal.where})`,
    )
  } else if (refusal) {
    raise('model_denied', `${record.keyId}:${refusal.model}`, modelDeniedMessage(refusal, keyName))
  }

  // An ok record with a code (a protocol-version fallback) touched no model, whatever its arguments named.
  if (record.outcome === 'ok' && record.code === null && record.model && !state.models.includes(record.model)) {
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
