/**
 * What an object that sequences an audit chain holds: the durable outbox of its records (audit/outbox.ts) and the
 * alert rules that watch them (alerts/engine.ts). A key's object and the unauthenticated chains' objects both use it;
 * the alarm of each calls `flush` and reschedules at `nextAlarmAt`.
 */
import { AlertEngine } from '../alerts/engine'
import type { WorkingHours } from '../alerts/rules'
import type { Env } from '../env'
import { AuditOutbox, type FlushResult } from './outbox'
import type { AuditRecord } from './record'

/** How soon alerts that could not be sent are tried again. */
const ALERT_RETRY_MS = 5_000

export class AuditStream {
  private readonly outbox: AuditOutbox
  private readonly alerts: AlertEngine

  constructor(storage: DurableObjectStorage, env: () => Env) {
    this.outbox = new AuditOutbox(storage, () => env().DB)
    this.alerts = new AlertEngine(storage, env)
  }

  /**
   * Stores a record durably and runs the alert rules on it. Synchronous (see audit/outbox.ts). A `retried` append
   * (the Worker lost the answer to its first call) returns the stored record's number if the first call did store it.
   */
  append(chainId: string, record: AuditRecord, workingHours?: WorkingHours, retried = false): number {
    if (retried) {
      const stored = this.outbox.seqOf(record.requestId)
      if (stored !== null) return stored
    }
    const seq = this.outbox.append(chainId, record)
    this.alerts.observe(record, workingHours)
    return seq
  }

  /** Whether the record of this request is still in the outbox (it was stored less than a flush ago). */
  holds(requestId: string): boolean {
    return this.outbox.seqOf(requestId) !== null
  }

  /** Sends waiting records to D1 and waiting alerts to D1 and their subscribers; failures stay for the next run. */
  async flush(): Promise<FlushResult> {
    const result = await this.outbox.flush()
    if (result.error) console.error(JSON.stringify({ level: 'error', where: 'audit flush', chain: this.outbox.head().chainId, message: result.error }))
    const alerts = await this.alerts.flush()
    if (alerts.error) console.error(JSON.stringify({ level: 'error', where: 'alert flush', message: alerts.error }))
    return result
  }

  /** When the alarm should run next for this stream, or null when nothing waits. */
  nextAlarmAt(now: number): number | null {
    return this.outbox.nextFlushAt(now) ?? (this.alerts.pending().length > 0 ? now + ALERT_RETRY_MS : null)
  }

  head() {
    return this.outbox.head()
  }
}
