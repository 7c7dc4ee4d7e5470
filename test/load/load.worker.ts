/**
 * The Worker `npm run test:load` runs (never deployed): the real gateway (src/index.ts) unchanged, with two things
 * added around it so the harness can inject faults the runtime would otherwise only produce by accident:
 *
 * - **D1 outages.** `env.DB` is wrapped, for the Worker and for every Durable Object class (subclassed only to wrap
 *   `env` in their constructor), by a binding that fails every query while an outage window is open, with the error
 *   D1 raises when it cannot be reached. Production code (src/) holds no test hook: it sees a D1 binding that fails.
 * - **Object restarts.** The key object and the webhook dispatcher get one extra RPC method that calls
 *   `ctx.abort()`, which resets the object the way the runtime does (code update, eviction after an error): in-flight
 *   calls to it fail, the next call gets a fresh instance that starts from its durable storage.
 *
 * The outage window is module state. `wrangler dev` runs the Worker and its Durable Objects in one workerd isolate,
 * so both see it; the harness checks that assumption at start (GET /__load/shared-state) instead of trusting it.
 *
 * Control routes (only here, never in the gateway; not audited, since the audit middleware covers /mcp and /hooks):
 *   POST /__load/d1-outage?ms=N            D1 fails for the next N ms (0 ends an outage)
 *   GET  /__load/shared-state              does a Durable Object see the Worker's module state?
 *   POST /__load/restart {kind, name}      restart the key object (kind "key", name = key id) or a dispatcher
 *   POST /__load/audit/heads {chains}      each chain's head and pending outbox count, from its object
 *   GET  /__load/audit/rows?ua=UA          compact audit rows of the run (the harness's user agent)
 *   POST /__load/audit/verify {chains}     verifies each chain's hashes in D1 and compares its tail with the head
 *   GET  /__load/key?id=ID                 revoked_at of a key, read from D1 (the revocation's commit, for timing)
 *   GET  /__load/webhooks                  delivery statuses in D1, and what each dispatcher still holds
 */
import { KeyObject as GatewayKeyObject } from '../../src/keys/key-object'
import { UnauthenticatedAuditObject as GatewayUnauthenticatedAuditObject } from '../../src/audit/unauthenticated-object'
import { WebhookDispatcher as GatewayWebhookDispatcher } from '../../src/webhooks/dispatcher'
import gateway from '../../src/index'
import { verifyChain } from '../../src/audit/chain'
import { GENESIS_HASH } from '../../src/audit/record'
import { rowToRecord } from '../../src/audit/rows'
import type { Env } from '../../src/env'

export { GlobalLimiterShard } from '../../src/limits/global-limiter'
export { SignInLimiter } from '../../src/oauth/sign-in-limiter'
export { AdminLedger } from '../../src/admin/v1/ledger'

// ---------------------------------------------------------------------------------------------------------------
// D1 outages

/** End of the current outage (ms since epoch); 0: none. Shared by the Worker and the objects (one isolate). */
let d1DownUntil = 0
/** Set by /__load/shared-state; an object in the same isolate reads back the same value. */
let sharedStateNonce = 0

/** The message D1 gives when the database cannot be reached. */
const D1_OUTAGE_MESSAGE = 'D1_ERROR: Network connection lost. (load test: injected D1 outage)'

function outageOpen(): boolean {
  return Date.now() < d1DownUntil
}

function failIfDown(): void {
  if (outageOpen()) throw new Error(D1_OUTAGE_MESSAGE)
}

/** A prepared statement whose execution fails during an outage; building and binding never fail (as in D1). */
class OutageStatement {
  constructor(readonly real: D1PreparedStatement) {}
  bind(...values: unknown[]): OutageStatement {
    return new OutageStatement(this.real.bind(...values))
  }
  async first(column?: string): Promise<unknown> {
    failIfDown()
    return column === undefined ? this.real.first() : this.real.first(column)
  }
  async run(): Promise<D1Result> {
    failIfDown()
    return this.real.run()
  }
  async all(): Promise<D1Result> {
    failIfDown()
    return this.real.all()
  }
  async raw(options?: { columnNames?: boolean }): Promise<unknown[]> {
    failIfDown()
    return options?.columnNames ? this.real.raw({ columnNames: true }) : this.real.raw()
  }
}

function outageDb(real: D1Database): D1Database {
  const db = {
    prepare: (query: string) => new OutageStatement(real.prepare(query)),
    async batch(statements: OutageStatement[]) {
      failIfDown()
      return real.batch(statements.map((statement) => statement.real))
    },
    async exec(query: string) {
      failIfDown()
      return real.exec(query)
    },
    withSession: () => db,
    dump: () => real.dump(),
  }
  return db as unknown as D1Database
}

const wrapped = new WeakMap<Env, Env>()

/** The same env with DB replaced; one wrapper per env object, so the per-env config caches (WeakMaps) keep working. */
function withOutageDb(env: Env): Env {
  let result = wrapped.get(env)
  if (!result) {
    result = { ...env, DB: outageDb(env.DB) }
    wrapped.set(env, result)
  }
  return result
}

// ---------------------------------------------------------------------------------------------------------------
// The gateway's Durable Object classes, with the wrapped D1 and a restart button

export class KeyObject extends GatewayKeyObject {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, withOutageDb(env))
  }
  /** Resets this object as the runtime would; the caller's RPC fails. */
  loadRestart(): void {
    this.ctx.abort('load test: key object restart')
  }
  loadSharedState(): { nonce: number; d1DownUntil: number } {
    return { nonce: sharedStateNonce, d1DownUntil }
  }
}

export class UnauthenticatedAuditObject extends GatewayUnauthenticatedAuditObject {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, withOutageDb(env))
  }
}

export class WebhookDispatcher extends GatewayWebhookDispatcher {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, withOutageDb(env))
  }
  loadRestart(): void {
    this.ctx.abort('load test: webhook dispatcher restart')
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Control routes

const json = (value: unknown, status = 200) => Response.json(value, { status })

function chainStub(env: Env, chain: string) {
  return chain.startsWith('anon-')
    ? env.UNAUTHENTICATED_AUDIT.get(env.UNAUTHENTICATED_AUDIT.idFromName(chain))
    : env.KEY_OBJECTS.get(env.KEY_OBJECTS.idFromName(chain))
}

async function restart(env: Env, kind: string, name: string): Promise<Response> {
  const started = Date.now()
  try {
    if (kind === 'key') await (env.KEY_OBJECTS.get(env.KEY_OBJECTS.idFromName(name)) as unknown as KeyObject).loadRestart()
    else if (kind === 'dispatcher') await (env.WEBHOOK_DISPATCHERS.get(env.WEBHOOK_DISPATCHERS.idFromName(name)) as unknown as WebhookDispatcher).loadRestart()
    else return json({ error: `unknown kind ${kind}` }, 400)
  } catch (error) {
    // Expected: the object aborted while answering this very call.
    return json({ restarted: true, ms: Date.now() - started, error: String(error) })
  }
  return json({ restarted: false, ms: Date.now() - started })
}

async function verifyChains(env: Env, chains: string[]) {
  const results = []
  for (const chain of chains) {
    const { results: rows } = await env.DB.prepare('SELECT * FROM audit_log WHERE chain_id = ?1 ORDER BY seq').bind(chain).all()
    const records = rows.map(rowToRecord)
    const problems: unknown[] = await verifyChain(chain, { seq: 0, hash: GENESIS_HASH }, records)
    // As `audit verify` does: the tail in D1 must end where the object's head says it does.
    const head = await chainStub(env, chain).auditHead()
    const last = records[records.length - 1]
    if ((last?.seq ?? 0) < head.seq) problems.push({ kind: 'tail_missing', chainId: chain, lastSeq: last?.seq ?? 0, headSeq: head.seq })
    else if (last && last.seq === head.seq && last.hash !== head.hash) problems.push({ kind: 'tail_rewritten', chainId: chain, seq: last.seq })
    results.push({ chain, records: records.length, headSeq: head.seq, pending: head.pending, problems })
  }
  return results
}

async function control(request: Request, env: Env): Promise<Response> {
  const url = new URL(request.url)
  const route = `${request.method} ${url.pathname}`
  const body = async <T>() => (await request.json()) as T
  switch (route) {
    case 'POST /__load/d1-outage': {
      const ms = Number(url.searchParams.get('ms') ?? 0)
      d1DownUntil = ms > 0 ? Date.now() + ms : 0
      return json({ until: d1DownUntil })
    }
    case 'GET /__load/shared-state': {
      sharedStateNonce = 1 + Math.floor(Math.random() * 1e9)
      const probe = env.KEY_OBJECTS.get(env.KEY_OBJECTS.idFromName('load-shared-state-probe')) as unknown as KeyObject
      const seen = await probe.loadSharedState()
      return json({ shared: seen.nonce === sharedStateNonce, worker: sharedStateNonce, object: seen.nonce })
    }
    case 'POST /__load/restart': {
      const { kind, name } = await body<{ kind: string; name: string }>()
      return restart(env, kind, name)
    }
    case 'POST /__load/audit/heads': {
      const { chains } = await body<{ chains: string[] }>()
      const heads = await Promise.all(chains.map((chain) => chainStub(env, chain).auditHead()))
      return json({ heads: chains.map((chain, index) => ({ ...heads[index], chain })) })
    }
    case 'GET /__load/audit/rows': {
      const rows = await env.DB.prepare(
        'SELECT request_id, chain_id, seq, key_id, outcome, code, http_status, tool, method, latency_ms FROM audit_log WHERE user_agent = ?1',
      )
        .bind(url.searchParams.get('ua') ?? '')
        .raw()
      return json({ rows })
    }
    case 'POST /__load/audit/verify': {
      const { chains } = await body<{ chains: string[] }>()
      return json({ chains: await verifyChains(env, chains) })
    }
    case 'GET /__load/key': {
      const row = await env.DB.prepare('SELECT revoked_at FROM api_keys WHERE id = ?1').bind(url.searchParams.get('id') ?? '').first<{ revoked_at: number | null }>()
      return json({ revokedAt: row?.revoked_at ?? null })
    }
    case 'GET /__load/webhooks': {
      const { results: statuses } = await env.DB.prepare('SELECT status, COUNT(*) AS n FROM webhook_deliveries GROUP BY status').all()
      const { results: subscriptions } = await env.DB.prepare('SELECT id FROM webhook_subscriptions').all<{ id: string }>()
      const queued = await Promise.all(
        subscriptions.map(async ({ id }) => ({ id, pending: await env.WEBHOOK_DISPATCHERS.get(env.WEBHOOK_DISPATCHERS.idFromName(id)).pending() })),
      )
      return json({ statuses, queued })
    }
  }
  return json({ error: `no control route ${route}` }, 404)
}

export default {
  fetch(request, env, ctx) {
    // The control routes read the real D1, outage or not: they are the harness's eyes, not part of the gateway.
    if (new URL(request.url).pathname.startsWith('/__load/')) return control(request, env)
    return gateway.fetch(request, withOutageDb(env), ctx)
  },
  scheduled(controller, env, ctx) {
    return gateway.scheduled(controller, withOutageDb(env), ctx)
  },
} satisfies ExportedHandler<Env>
