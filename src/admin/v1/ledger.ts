/**
 * The admin ledger: one Durable Object for the whole deployment that
 * - remembers every admin request nonce for the signature window, so a captured signed request cannot be replayed
 *   (admin/signature.ts; a nonce is claimed only after its signature was verified, so strangers cannot fill it);
 * - runs every change made through the admin API one at a time (planners in admin/v1/planners.ts) and writes the
 *   change and its admin log record in one D1 batch, hash-linked to the record before (admin/v1/admin-record.ts).
 *   The head (last seq and hash) is kept here too, so `audit verify` can tell a deleted or rewritten tail.
 *
 * One object serialises admin changes worldwide: they are rare (people, not agents, make them), and one sequence is
 * what makes the log a chain. Reads never come here.
 */
import { DurableObject } from 'cloudflare:workers'
import type { Env } from '../../env'
import { ADMIN_GENESIS_HASH, adminRecordHash, type AdminChangeContext, type AdminRecord } from './admin-record'
import type { Plan, Refusal } from './plan'
import { PLANNERS, type ActionName, type ActionInput, type ActionResult } from './planners'
import { prepare, statement } from './statement'

interface Head {
  seq: number
  hash: string
}

export type ChangeOutcome<Result> =
  | { kind: 'refused'; refusal: Refusal }
  | { kind: 'unchanged'; result: Result }
  | { kind: 'changed'; result: Result; seq: number }

const NONCE_CLEANUP_EVERY = 64
const MAX_GUARDED_ATTEMPTS = 3
const GUARD_FAILED = /NOT NULL constraint failed: admin_audit\.hash/

export class AdminLedger extends DurableObject<Env> {
  private head: Head | undefined
  /** Changes run one after another: D1 calls would otherwise let two interleave between plan and write. */
  private queue: Promise<unknown> = Promise.resolve()
  private claims = 0

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID')
    ctx.storage.sql.exec('CREATE INDEX IF NOT EXISTS nonces_by_expiry ON nonces (expires_at)')
    this.head = ctx.storage.kv.get<Head>('head')
  }

  /**
   * The record of a batch sent to D1 without a clear answer yet: whether D1 committed it is settled before the next
   * change. Kept in storage, so a restart between the two cannot leave the head behind D1 for ever.
   */
  private get inDoubt(): Head | undefined {
    return this.ctx.storage.kv.get<Head>('in_doubt')
  }

  private set inDoubt(record: Head | undefined) {
    if (record) this.ctx.storage.kv.put('in_doubt', record)
    else this.ctx.storage.kv.delete('in_doubt')
  }

  /** true the first time a nonce is seen before `expiresAt`; false for a replay. */
  claimNonce(nonce: string, expiresAt: number): boolean {
    const now = Date.now()
    if (++this.claims % NONCE_CLEANUP_EVERY === 1) this.ctx.storage.sql.exec('DELETE FROM nonces WHERE expires_at < ?', now)
    const seen = this.ctx.storage.sql.exec<{ expires_at: number }>('SELECT expires_at FROM nonces WHERE nonce = ?', nonce).toArray()[0]
    if (seen && seen.expires_at >= now) return false
    this.ctx.storage.sql.exec('INSERT OR REPLACE INTO nonces (nonce, expires_at) VALUES (?, ?)', nonce, expiresAt)
    return true
  }

  /** Plans and applies one change with its admin log record; see admin/v1/plan.ts. */
  change<A extends ActionName>(action: A, input: ActionInput<A>, context: AdminChangeContext): Promise<ChangeOutcome<ActionResult<A>>> {
    const run = this.queue.then(() => this.applyChange(action, input, context))
    this.queue = run.catch(() => undefined)
    return run
  }

  /** The last record the ledger wrote (seq 0: none yet). */
  lastRecord(): Promise<Head> {
    // Queued like a change: a head asked for while a change is being written would race its outcome check.
    const run = this.queue.then(() => this.currentHead())
    this.queue = run.catch(() => undefined)
    return run
  }

  private async headFromD1(): Promise<Head> {
    // Storage lost (or the first change ever): D1's last record is where the chain goes on.
    const row = await this.env.DB.prepare('SELECT seq, hash FROM admin_audit ORDER BY seq DESC LIMIT 1').first<{ seq: number; hash: string }>()
    return row ? { seq: row.seq, hash: row.hash } : { seq: 0, hash: ADMIN_GENESIS_HASH }
  }

  private async applyChange<A extends ActionName>(action: A, input: ActionInput<A>, context: AdminChangeContext): Promise<ChangeOutcome<ActionResult<A>>> {
    // A guarded write that found its row changed by someone else is planned again from the new state (bounded:
    // another writer would have to change the same row between every plan and write).
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.planAndWrite(action, input, context)
      if (outcome !== 'guard_failed') return outcome
      if (attempt === MAX_GUARDED_ATTEMPTS) throw new Error(`admin ${action}: the row kept changing under the ledger (${attempt} attempts)`)
    }
  }

  private async planAndWrite<A extends ActionName>(
    action: A,
    input: ActionInput<A>,
    context: AdminChangeContext,
  ): Promise<ChangeOutcome<ActionResult<A>> | 'guard_failed'> {
    const now = Date.now()
    const planner = PLANNERS[action] as (env: Env, input: ActionInput<A>, now: number) => Promise<Plan<ActionResult<A>>>
    const plan = await planner(this.env, input, now)
    if (plan.kind === 'refused') return plan
    if (plan.kind === 'unchanged') return plan
    const head = await this.currentHead()
    const content: Omit<AdminRecord, 'hash'> = {
      seq: head.seq + 1,
      time: now,
      requestId: context.requestId,
      actor: context.actor.id,
      auth: context.actor.auth,
      ip: context.ip,
      action,
      target: plan.target,
      before: plan.before === null || plan.before === undefined ? null : JSON.stringify(plan.before),
      after: plan.after === null || plan.after === undefined ? null : JSON.stringify(plan.after),
      prevHash: head.hash,
    }
    const hash = await adminRecordHash(content)
    // Guarded: the hash (NOT NULL) is NULL unless the statement before changed a row, which fails the whole batch.
    const hashValue = plan.guarded ? `CASE WHEN changes() > 0 THEN ?12 END` : '?12'
    const record = statement(
      `INSERT INTO admin_audit (seq, time, request_id, actor, auth, ip, action, target, before, after, prev_hash, hash)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ${hashValue})`,
      content.seq, content.time, content.requestId, content.actor, content.auth, content.ip, content.action, content.target,
      content.before, content.after, content.prevHash, hash,
    )
    // One batch is one transaction: the change and its record are written together or not at all.
    this.inDoubt = { seq: content.seq, hash }
    try {
      await this.env.DB.batch([...plan.statements, record].map((one) => prepare(this.env.DB, one)))
    } catch (error) {
      if (plan.guarded && GUARD_FAILED.test(String(error))) {
        this.inDoubt = undefined
        return 'guard_failed'
      }
      // The answer may be lost after D1 committed: if our record is there, the change was made.
      if ((await this.currentHead().catch(() => undefined))?.hash === hash) return { kind: 'changed', result: plan.result, seq: content.seq }
      throw new LedgerWriteError(this.inDoubt ? 'unknown' : 'not_written', error)
    }
    this.inDoubt = undefined
    this.setHead({ seq: content.seq, hash })
    return { kind: 'changed', result: plan.result, seq: content.seq }
  }

  /**
   * The head the next record links to. After a batch whose answer was lost, D1 decides: the record is either there
   * (the change was made: it becomes the head) or not (nothing was: the head stays). Without this, one lost answer
   * would leave the ledger reusing a taken seq for ever.
   */
  private async currentHead(): Promise<Head> {
    if (this.inDoubt) {
      const last = await this.headFromD1()
      if (last.seq === this.inDoubt.seq && last.hash === this.inDoubt.hash) this.setHead(last)
      this.inDoubt = undefined
    }
    return this.head ?? (await this.headFromD1())
  }

  private setHead(head: Head): void {
    this.head = head
    this.ctx.storage.kv.put('head', head)
  }
}

/** Why a change through the ledger failed: `unknown` when D1 could not be asked afterwards whether it was made. */
export class LedgerWriteError extends Error {
  constructor(
    readonly outcome: 'unknown' | 'not_written',
    cause: unknown,
  ) {
    super(`admin change ${outcome === 'unknown' ? 'outcome unknown' : 'not written'}: ${String(cause)}`, { cause })
  }
}

/** The deployment's one ledger. */
export function adminLedger(env: Pick<Env, 'ADMIN_LEDGER'>) {
  return env.ADMIN_LEDGER.get(env.ADMIN_LEDGER.idFromName('admin'))
}
