/** Each alert rule fires once on its pattern, is throttled, and stays quiet on normal traffic. */
import { describe, expect, it } from 'vitest'
import type { AuditRecord } from '../../../src/audit/record'
import { DEFAULT_ALERT_CONFIG, emptyAlertState, evaluate, isWithinWorkingHours, type WorkingHours } from '../../../src/alerts/rules'

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
    expect(rules(evaluate(record({ time: T0 + 2 * 60 * MINUTE, model: 'hr.employee' }), state, DEFAULT_ALERT_CONFIG))).toEqual(['new_model'])
    expect(evaluate(record({ time: T0 + 3 * 60 * MINUTE, model: 'hr.employee' }), state, DEFAULT_ALERT_CONFIG)).toEqual([])
    expect(rules(evaluate(record({ time: T0 + 3 * 60 * MINUTE, model: 'ir.config_parameter', outcome: 'denied', code: 'policy_denied' }), state, DEFAULT_ALERT_CONFIG))).toEqual(['model_denied'])
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
