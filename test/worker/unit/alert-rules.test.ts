/** Each alert rule fires once on its pattern, is throttled, and stays quiet on normal traffic. */
import { describe, expect, it } from 'vitest'
import type { AuditRecord, RecordedRefusal } from '../../../src/audit/record'
import { DEFAULT_ALERT_CONFIG, emptyAlertState, evaluate, isWithinWorkingHours, MAX_THROTTLE_KEYS, type WorkingHours } from '../../../src/alerts/rules'

const T0 = Date.parse('2026-11-25T10:00:00Z') // a Wednesday, 11:00 in Brussels
const MINUTE = 60_000

function record(overrides: Partial<AuditRecord> = {}): AuditRecord {
  return {
    time: T0, requestId: crypto.randomUUID(), keyId: 'key_0000000000000001', keyName: 'n8n', keyPrefix: 'omk_abcdefgh', odooUser: 'bot',
    ip: '203.0.113.5', userAgent: null, clientInfo: null, method: 'tools/call', tool: 'search_records', model: 'res.partner',
    operation: 'search', recordIds: [], recordIdsTruncated: false, fields: [], domain: null, outcome: 'ok', code: null,
    httpStatus: 200, latencyMs: 5, odooLatencyMs: 3, responseBytes: 100, ...overrides,
  }
}

const rules = (alerts: { rule: string }[]) => alerts.map((alert) => alert.rule)

describe('alert rules', () => {
  it('rate_limit: once per throttle period', () => {
    const state = emptyAlertState()
    expect(rules(evaluate(record({ outcome: 'denied', code: 'rate_limited' }), state, DEFAULT_ALERT_CONFIG))).toEqual(['rate_limit'])
    expect(evaluate(record({ time: T0 + MINUTE, outcome: 'denied', code: 'rate_limited' }), state, DEFAULT_ALERT_CONFIG)).toEqual([])
    expect(rules(evaluate(record({ time: T0 + 16 * MINUTE, outcome: 'denied', code: 'rate_limited' }), state, DEFAULT_ALERT_CONFIG))).toEqual(['rate_limit'])
  })

  it('auth_failures: N failures from one IP within the window, not N spread over longer', () => {
    const state = emptyAlertState()
    const failure = (time: number, ip = '198.51.100.7') => record({ time, keyId: null, keyName: null, keyPrefix: null, ip, outcome: 'denied', code: 'unknown_key' })
    for (let index = 0; index < 9; index++) expect(evaluate(failure(T0 + index * 60 * MINUTE), state, DEFAULT_ALERT_CONFIG)).toEqual([])
    const burst = Array.from({ length: 10 }, (_, index) => evaluate(failure(T0 + 20 * 60 * MINUTE + index * 1000), state, DEFAULT_ALERT_CONFIG))
    expect(burst.flat().map((alert) => [alert.rule, alert.subject])).toEqual([['auth_failures', 'ip:198.51.100.7']])
    // Another IP is counted on its own.
    expect(evaluate(failure(T0 + 20 * 60 * MINUTE, '192.0.2.1'), state, DEFAULT_ALERT_CONFIG)).toEqual([])
  })

  it('auth_failures: also per key prefix, across addresses', () => {
    const state = emptyAlertState()
    const alerts = Array.from({ length: 10 }, (_, index) =>
      evaluate(record({ time: T0 + index, ip: `198.51.100.${index}`, outcome: 'denied', code: 'revoked_key' }), state, DEFAULT_ALERT_CONFIG),
    ).flat()
    expect(alerts.map((alert) => alert.subject)).toEqual(['prefix:omk_abcdefgh'])
  })

  it('model_denied and new_model (after the first hour of a key)', () => {
    const state = emptyAlertState()
    expect(evaluate(record({ model: 'res.partner' }), state, DEFAULT_ALERT_CONFIG)).toEqual([])
    expect(evaluate(record({ time: T0 + 10 * MINUTE, model: 'sale.order' }), state, DEFAULT_ALERT_CONFIG)).toEqual([]) // learning
    // A newer client's protocol fallback names a model in its arguments but touched none.
    const fallback = record({ time: T0 + 2 * 60 * MINUTE, model: 'hr.employee', code: 'protocol_version_fallback' })
    expect(evaluate(fallback, state, DEFAULT_ALERT_CONFIG)).toEqual([])
    expect(rules(evaluate(record({ time: T0 + 2 * 60 * MINUTE, model: 'hr.employee' }), state, DEFAULT_ALERT_CONFIG))).toEqual(['new_model'])
    expect(evaluate(record({ time: T0 + 3 * 60 * MINUTE, model: 'hr.employee' }), state, DEFAULT_ALERT_CONFIG)).toEqual([])
    const refusal = { kind: 'model', model: 'ir.config_parameter' } as const
    expect(rules(evaluate(record({ time: T0 + 3 * 60 * MINUTE, model: 'ir.config_parameter', outcome: 'denied', code: 'policy_denied', refusal }), state, DEFAULT_ALERT_CONFIG))).toEqual(['model_denied'])
  })

  it('an admin change recorded in the key\'s chain is not a use: no off-hours alert, no volume', () => {
    const state = emptyAlertState()
    const workingHours = { timezone: 'UTC', days: [1, 2, 3, 4, 5], from: 8 * 60, to: 9 * 60 }
    const night = Date.UTC(2026, 10, 3, 23, 0) // a Tuesday, 23:00 UTC
    const change = record({ time: night, method: 'admin/set-odoo-secret', code: 'odoo_credentials_verified' })
    expect(evaluate(change, state, DEFAULT_ALERT_CONFIG, workingHours)).toEqual([])
    expect(state.bucketCount).toBe(0)
    // The same method name chosen by a client is a use like any other.
    const spoof = record({ time: night, method: 'admin/set-odoo-secret', outcome: 'error', code: 'jsonrpc_-32601' })
    expect(rules(evaluate(spoof, state, DEFAULT_ALERT_CONFIG, workingHours))).toEqual(['off_hours'])
  })

  describe('refusals by the policy: model_denied for a model or an operation, field_denied for fields', () => {
    const denied = (refusal: RecordedRefusal | undefined, overrides: Partial<AuditRecord> = {}) =>
      record({ model: 'res.partner', outcome: 'denied', code: 'policy_denied', refusal, ...overrides })

    it('a field refusal raises field_denied naming the fields and their model, not model_denied', () => {
      const state = emptyAlertState()
      const alerts = evaluate(denied({ kind: 'field', model: 'res.partner', fields: ['email'], where: 'the fields to return' }), state, DEFAULT_ALERT_CONFIG)
      expect(alerts.map(({ rule, subject, message }) => ({ rule, subject, message }))).toEqual([
        {
          rule: 'field_denied',
          subject: 'key_0000000000000001:res.partner',
          message: "'n8n' (key_0000000000000001) was denied field email of res.partner by its policy (in the fields to return)",
        },
      ])
      // Several fields, of the model the domain reached rather than the one called.
      const path = evaluate(
        denied({ kind: 'field', model: 'res.users', fields: ['login', 'password'], where: "the domain as 'user_id.login'" }, { model: 'sale.order' }),
        state,
        DEFAULT_ALERT_CONFIG,
      )
      expect(path.map((alert) => [alert.rule, alert.message])).toEqual([
        ['field_denied', "'n8n' (key_0000000000000001) was denied fields login, password of res.users by its policy (in the domain as 'user_id.login')"],
      ])
    })

    it('names the fields a record left out only by their number', () => {
      const fields = Array.from({ length: 20 }, (_, index) => `x_${index}`)
      const [alert] = evaluate(denied({ kind: 'field', model: 'res.partner', fields, where: 'the fields to return', fieldCount: 25 }), emptyAlertState(), DEFAULT_ALERT_CONFIG)
      expect(alert!.message).toBe(`'n8n' (key_0000000000000001) was denied fields ${fields.join(', ')} and 5 more of res.partner by its policy (in the fields to return)`)
    })

    it('a model refusal raises model_denied naming the model refused, which may not be the one called', () => {
      const state = emptyAlertState()
      const alerts = [
        ...evaluate(denied({ kind: 'model', model: 'hr.employee' }, { model: 'hr.employee' }), state, DEFAULT_ALERT_CONFIG),
        ...evaluate(denied({ kind: 'model', model: 'res.users', via: "'user_id' in the domain" }, { model: 'sale.order' }), state, DEFAULT_ALERT_CONFIG),
        ...evaluate(denied({ kind: 'model', model: 'res.partner', noPolicy: true }), state, DEFAULT_ALERT_CONFIG),
      ]
      expect(alerts.map(({ rule, subject, message }) => ({ rule, subject, message }))).toEqual([
        { rule: 'model_denied', subject: 'key_0000000000000001:hr.employee', message: "'n8n' (key_0000000000000001) was denied hr.employee by its policy" },
        {
          rule: 'model_denied',
          subject: 'key_0000000000000001:res.users',
          message: "'n8n' (key_0000000000000001) was denied res.users by its policy (reached through 'user_id' in the domain)",
        },
        { rule: 'model_denied', subject: 'key_0000000000000001:res.partner', message: "'n8n' (key_0000000000000001) was denied res.partner: the key has no policy" },
      ])
    })

    it('an operation refusal raises model_denied naming the operation', () => {
      const state = emptyAlertState()
      const alerts = [
        ...evaluate(denied({ kind: 'operation', model: 'sale.order', operation: 'write' }, { model: 'sale.order', tool: 'update_records', operation: 'update' }), state, DEFAULT_ALERT_CONFIG),
        ...evaluate(
          denied({ kind: 'operation', model: 'sale.order.line', operation: 'create', via: "'order_line' of 'sale.order' (command 0)" }, { model: 'sale.order' }),
          state,
          DEFAULT_ALERT_CONFIG,
        ),
      ]
      expect(alerts.map(({ rule, message }) => [rule, message])).toEqual([
        ['model_denied', "'n8n' (key_0000000000000001) was denied sale.order (operation write) by its policy"],
        ['model_denied', "'n8n' (key_0000000000000001) was denied sale.order.line (operation create) by its policy (needed by 'order_line' of 'sale.order' (command 0))"],
      ])
    })

    it('other policy refusals (name search, context keys, operators) and records without a refusal raise neither', () => {
      const state = emptyAlertState()
      expect(evaluate(denied(undefined), state, DEFAULT_ALERT_CONFIG)).toEqual([])
      // A refusal only counts with the code it explains.
      expect(evaluate(record({ outcome: 'denied', code: 'invalid_values', refusal: { kind: 'model', model: 'res.partner' } }), state, DEFAULT_ALERT_CONFIG)).toEqual([])
    })

    it('field_denied is throttled per key and model, so invented field names cannot flood subscribers', () => {
      const state = emptyAlertState()
      const field = (time: number, fields: string[], model = 'res.partner', keyId = 'key_0000000000000001') =>
        evaluate(denied({ kind: 'field', model, fields, where: 'the fields to return' }, { time, keyId }), state, DEFAULT_ALERT_CONFIG)
      expect(field(T0, ['email', 'vat']).map((alert) => [alert.subject, alert.message])).toEqual([
        ['key_0000000000000001:res.partner', "'n8n' (key_0000000000000001) was denied fields email, vat of res.partner by its policy (in the fields to return)"],
      ])
      expect(field(T0 + MINUTE, ['email'])).toEqual([])
      // Other fields of the same model in the same period: in the audit log, not alerted again.
      for (let index = 0; index < 50; index++) expect(field(T0 + 2 * MINUTE + index, [`x_invented_${index}`])).toEqual([])
      // The same field of another model, or for another key, is its own subject.
      expect(rules(field(T0 + 4 * MINUTE, ['email'], 'res.users'))).toEqual(['field_denied'])
      expect(rules(field(T0 + 4 * MINUTE, ['email'], 'res.partner', 'key_0000000000000002'))).toEqual(['field_denied'])
      // A field refusal does not throttle model_denied on the same model, nor the other way round.
      expect(rules(evaluate(denied({ kind: 'operation', model: 'res.partner', operation: 'unlink' }, { time: T0 + 5 * MINUTE }), state, DEFAULT_ALERT_CONFIG))).toEqual(['model_denied'])
      // After the throttle period, again.
      expect(rules(field(T0 + 16 * MINUTE, ['email']))).toEqual(['field_denied'])
      expect(field(T0 + 16 * MINUTE + 1, ['email'])).toEqual([])
    })

    it('keeps its throttle state bounded when a client invents names', () => {
      const state = emptyAlertState()
      for (let index = 0; index < 800; index++) {
        const fields = Array.from({ length: 20 }, (_, n) => `x_${index}_${n}`)
        expect(rules(evaluate(denied({ kind: 'field', model: `x.model${index}`, fields, where: 'the fields to return' }, { time: T0 + index * 1000 }), state, DEFAULT_ALERT_CONFIG))).toEqual(['field_denied'])
      }
      expect(Object.keys(state.lastAlert).length).toBeLessThanOrEqual(MAX_THROTTLE_KEYS + 1)
      // Expired keys go first: after the throttle period, the state is back to what still throttles.
      expect(evaluate(record({ time: T0 + 60 * MINUTE, outcome: 'denied', code: 'invalid_arguments' }), state, DEFAULT_ALERT_CONFIG)).toEqual([])
      expect(Object.keys(state.lastAlert)).toEqual([])
    })
  })

  it('off_hours: outside the policy\'s working hours, in its time zone', () => {
    const hours: WorkingHours = { timezone: 'Europe/Brussels', days: [1, 2, 3, 4, 5], from: 8 * 60, to: 19 * 60 }
    expect(isWithinWorkingHours(hours, T0)).toBe(true) // Wed 11:00 Brussels
    expect(isWithinWorkingHours(hours, Date.parse('2026-11-25T18:30:00Z'))).toBe(false) // Wed 19:30 Brussels
    expect(isWithinWorkingHours(hours, Date.parse('2026-11-28T10:00:00Z'))).toBe(false) // Saturday
    const state = emptyAlertState()
    expect(evaluate(record(), state, DEFAULT_ALERT_CONFIG, hours)).toEqual([])
    expect(rules(evaluate(record({ time: Date.parse('2026-11-28T10:00:00Z') }), state, DEFAULT_ALERT_CONFIG, hours))).toEqual(['off_hours'])
  })

  it('volume_spike: against the key\'s own baseline, not absolute numbers', () => {
    const state = emptyAlertState()
    const config = { ...DEFAULT_ALERT_CONFIG, spikeMinimum: 20 }
    // Two hours at 10 requests per 5 minutes: the baseline.
    for (let bucket = 0; bucket < 24; bucket++) {
      for (let index = 0; index < 10; index++) expect(evaluate(record({ time: T0 + bucket * 5 * MINUTE + index * 1000 }), state, config)).toEqual([])
    }
    // Then 60 in five minutes: over 5 × 10.
    const spike = Array.from({ length: 60 }, (_, index) => evaluate(record({ time: T0 + 24 * 5 * MINUTE + index * 1000 }), state, config)).flat()
    expect(rules(spike)).toEqual(['volume_spike'])
  })

  it('stays quiet on ordinary traffic', () => {
    const state = emptyAlertState()
    const alerts = Array.from({ length: 100 }, (_, index) => evaluate(record({ time: T0 + index * MINUTE }), state, DEFAULT_ALERT_CONFIG)).flat()
    expect(alerts).toEqual([])
  })
})
