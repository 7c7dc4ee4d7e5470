/**
 * Audit chains for requests that carry no valid key (missing, malformed or unknown key, refused before
 * authentication): they have no key object to hold their records. A few of these objects share the load, picked
 * from the client address, so a flood from one address lands on one object and leaves the others alone.
 */
import { DurableObject } from 'cloudflare:workers'
import type { Env } from '../env'
import { AuditStream } from './audit-stream'
import type { FlushResult } from './outbox'
import type { AuditRecord } from './record'

/** Chains for unauthenticated requests: `anon-0` … `anon-3`. */
export const UNAUTHENTICATED_CHAINS = 4

export function unauthenticatedChainFor(ip: string | null): string {
  let hash = 0
  for (const char of ip ?? '') hash = (Math.imul(hash, 31) + char.charCodeAt(0)) >>> 0
  return `anon-${hash % UNAUTHENTICATED_CHAINS}`
}

export class UnauthenticatedAuditObject extends DurableObject<Env> {
  private readonly stream: AuditStream
  private alarmAt: number | null = null

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.stream = new AuditStream(ctx.storage, () => this.env)
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm()
    })
  }

  appendAudit(chainId: string, record: AuditRecord, retried = false): number {
    const seq = this.stream.append(chainId, record, undefined, retried)
    this.schedule(this.stream.nextAlarmAt(Date.now())!)
    return seq
  }

  flushAudit(): Promise<FlushResult> {
    return this.stream.flush()
  }

  auditHead() {
    return this.stream.head()
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null
    await this.stream.flush()
    const next = this.stream.nextAlarmAt(Date.now())
    if (next !== null) this.schedule(next)
  }

  private schedule(at: number): void {
    if (this.alarmAt !== null && this.alarmAt <= at) return
    this.alarmAt = at
    void this.ctx.storage.setAlarm(at)
  }
}
