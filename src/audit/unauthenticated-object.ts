/**
 * Audit chains for requests that carry no valid key (missing, malformed or unknown key, refused before
 * authentication): they have no key object to hold their records. A few of these objects share the load, picked
 * from the client address, so a flood from one address lands on one object and leaves the others alone.
 */
import { DurableObject } from 'cloudflare:workers'
import { AlertEngine } from '../alerts/engine'
import type { Env } from '../env'
import { AuditOutbox, type FlushResult } from './outbox'
import type { AuditRecord } from './record'

/** Chains for unauthenticated requests: `anon-0` … `anon-3`. */
export const UNAUTHENTICATED_CHAINS = 4

export function unauthenticatedChainFor(ip: string | null): string {
  let hash = 0
  for (const char of ip ?? '') hash = (Math.imul(hash, 31) + char.charCodeAt(0)) >>> 0
  return `anon-${hash % UNAUTHENTICATED_CHAINS}`
}

export class UnauthenticatedAuditObject extends DurableObject<Env> {
  private readonly audit: AuditOutbox
  private readonly alerts: AlertEngine
  private alarmAt: number | null = null

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.audit = new AuditOutbox(ctx.storage, () => this.env.DB)
    this.alerts = new AlertEngine(ctx.storage, () => this.env)
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm()
    })
  }

  appendAudit(chainId: string, record: AuditRecord): number {
    const seq = this.audit.append(chainId, record)
    this.alerts.observe(record)
    this.schedule(this.audit.nextFlushAt(Date.now())!)
    return seq
  }

  async flushAudit(): Promise<FlushResult> {
    const result = await this.audit.flush()
    await this.alerts.flush()
    return result
  }

  auditHead() {
    return this.audit.head()
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null
    const result = await this.audit.flush()
    if (result.error) console.error(JSON.stringify({ level: 'error', where: 'audit flush', chain: this.audit.head().chainId, message: result.error }))
    const alerts = await this.alerts.flush()
    if (alerts.error) console.error(JSON.stringify({ level: 'error', where: 'alert flush', message: alerts.error }))
    const next = this.audit.nextFlushAt(Date.now()) ?? (this.alerts.pending().length > 0 ? Date.now() + 5_000 : null)
    if (next !== null) this.schedule(next)
  }

  private schedule(at: number): void {
    if (this.alarmAt !== null && this.alarmAt <= at) return
    this.alarmAt = at
    void this.ctx.storage.setAlarm(at)
  }
}
