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
  async lastRecord(): Promise<Head> {
    return this.head ?? (await this.headFromD1())
  }

  private async headFromD1(): Promise<Head> {
    // Storage lost (or the first change ever): D1's last record is where the chain goes on.
    const row = await this.env.DB.prepare('SELECT seq, hash FROM admin_audit ORDER BY seq DESC LIMIT 1').first<{ seq: number; hash: string }>()
    return row ? { seq: row.seq, hash: row.hash } : { seq: 0, hash: ADMIN_GENESIS_HASH }
  }

  private async applyChange<A extends ActionName>(action: A, input: ActionInput<A>, context: AdminChangeContext): Promise<ChangeOutcome<ActionResult<A>>> {
    const now = Date.now()
    const planner = PLANNERS[action] as (env: Env, input: ActionInput<A>, now: number) => Promise<Plan<ActionResult<A>>>
    const plan = await planner(this.env, input, now)
    if (plan.kind === 'refused') return plan
    if (plan.kind === 'unchanged') return plan
    const head = this.head ?? (await this.headFromD1())
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
    const record = statement(
      `INSERT INTO admin_audit (seq, time, request_id, actor, auth, ip, action, target, before, after, prev_hash, hash)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)`,
      content.seq, content.time, content.requestId, content.actor, content.auth, content.ip, content.action, content.target,
      content.before, content.after, content.prevHash, hash,
    )
    // One batch is one transaction: the change and its record are written together or not at all.
    await this.env.DB.batch([...plan.statements, record].map((one) => prepare(this.env.DB, one)))
    this.head = { seq: content.seq, hash }
    this.ctx.storage.kv.put('head', this.head)
    return { kind: 'changed', result: plan.result, seq: content.seq }
  }
}

/** The deployment's one ledger. */
export function adminLedger(env: Pick<Env, 'ADMIN_LEDGER'>) {
  return env.ADMIN_LEDGER.get(env.ADMIN_LEDGER.idFromName('admin'))
}
