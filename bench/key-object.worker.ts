/**
 * A bench-only Worker (never deployed): the gateway's Durable Object classes behind two bare routes, so `npm run
 * bench` can measure what one key object costs on the request path and how many checks per second one object
 * sustains, without the MCP layer in the way.
 *   GET  /noop    the runtime's own cost (reference)
 *   POST /admit   one call to the key object named in the body, for a request the edge answered: admission plus
 *                 the durable audit append (what every POST /mcp pays besides its own work)
 *   POST /admit-many?n=2000&concurrency=32
 *                 n such calls fired from inside the Worker, `concurrency` at a time: one object's requests per
 *                 second without an HTTP client in the way. Answers {"n", "ms", "admitted"}.
 *   POST /audit-seed?from=0&count=50000   synthetic audit rows straight into D1 (for the 1M-record search bench)
 *   POST /audit-query       runs the `audit search` query for a key and time range, timed inside the runtime
 */
import { Hono } from 'hono'
import type { Env } from '../src/env'
import type { AuditRecord } from '../src/audit/record'
import { auditSearchQuery } from '../src/audit/search'
import type { KeyAnswer } from '../src/gateway/key-call'

export { KeyObject } from '../src/keys/key-object'
export { GlobalLimiterShard } from '../src/limits/global-limiter'
export { UnauthenticatedAuditObject } from '../src/audit/unauthenticated-object'
export { SignInLimiter } from '../src/oauth/sign-in-limiter'
export { AdminLedger } from '../src/admin/v1/ledger'
export { WebhookDispatcher } from '../src/webhooks/dispatcher'

const app = new Hono<{ Bindings: Env }>()

app.get('/noop', (c) => c.text('ok'))

const benchRecord = (keyId: string): AuditRecord => ({
  time: Date.now(), requestId: crypto.randomUUID(), keyId, keyName: 'bench', keyPrefix: 'omk_benchxxx', odooUser: 'admin',
  ip: '203.0.113.1', userAgent: 'bench/1.0', clientInfo: null, method: 'tools/call', tool: 'search_records', model: 'res.partner',
  operation: 'search', recordIds: Array.from({ length: 20 }, (_, index) => index + 1), recordIdsTruncated: false,
  fields: ['name', 'email', 'city', 'country_id'], domain: [['is_company', '=', true]], outcome: 'ok', code: null, httpStatus: 200,
  latencyMs: 25, odooLatencyMs: 20, responseBytes: 2400,
})

/** One call for a request the edge answered: admitted or refused, and recorded. */
async function admitAndRecord(env: Env, keyId: string, keyHash: string): Promise<boolean> {
  const stub = env.KEY_OBJECTS.get(env.KEY_OBJECTS.idFromName(keyId))
  const answer = (await stub.serve({
    admission: { keyId, keyHash },
    record: { ...benchRecord(keyId), keyId: null },
    redactDomains: false,
    rpcId: 1,
    work: { kind: 'answered', status: 200, responseBytes: 2400 },
  })) as unknown as KeyAnswer
  return answer.kind === 'release'
}

app.post('/admit', async (c) => {
  const { keyId, keyHash } = await c.req.json<{ keyId: string; keyHash: string }>()
  const admitted = await admitAndRecord(c.env, keyId, keyHash)
  return c.text(admitted ? 'admitted' : 'refused', admitted ? 200 : 429)
})

app.post('/admit-many', async (c) => {
  const { keyId, keyHash } = await c.req.json<{ keyId: string; keyHash: string }>()
  const n = Math.min(100_000, Number(c.req.query('n') ?? 2000))
  const concurrency = Math.min(256, Number(c.req.query('concurrency') ?? 32))
  let started = 0
  let admitted = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < n) {
        started++
        if (await admitAndRecord(c.env, keyId, keyHash)) admitted++
      }
    }),
  )
  // performance.now() only advances with I/O in Workers; every call is an RPC, so it does here.
  return c.json({ n, ms: performance.now() - t0, admitted })
})

/**
 * Rows shaped like real ones (20 record ids, 4 fields, a domain): 100 keys, one row every 2.6 s per key over 90
 * days for 1M rows. Chains are not valid (no hashes computed): this measures search, not verification.
 */
app.post('/audit-seed', async (c) => {
  const from = Number(c.req.query('from') ?? 0)
  const count = Number(c.req.query('count') ?? 50_000)
  const start = Date.now() - 90 * 86_400_000
  const sample = benchRecord('x')
  await c.env.DB.prepare(
    `WITH RECURSIVE n(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 + ?2 - 1)
     INSERT INTO audit_log (chain_id, seq, time, request_id, key_id, key_name, key_prefix, odoo_user, ip, user_agent, client_info,
       method, tool, model, operation, record_ids, record_ids_truncated, fields, domain, outcome, code, http_status, latency_ms,
       odoo_latency_ms, response_bytes, prev_hash, hash)
     SELECT printf('key_%016x', i % 100), i / 100 + 1, ?3 + i * 7776, printf('%08x-0000-4000-8000-%012x', i, i),
       printf('key_%016x', i % 100), 'bench', 'omk_benchxxx', 'admin', '203.0.113.' || (i % 250), ?4, NULL, 'tools/call',
       'search_records', 'res.partner', 'search', ?5, 0, ?6, ?7, 'ok', NULL, 200, 25, 20, 2400, hex(randomblob(32)), hex(randomblob(32))
     FROM n`,
  )
    .bind(from, count, start, sample.userAgent, JSON.stringify(sample.recordIds), JSON.stringify(sample.fields), JSON.stringify(sample.domain))
    .run()
  return c.json({ inserted: count })
})

app.post('/audit-query', async (c) => {
  const { keyId, since, until, runs } = await c.req.json<{ keyId: string; since: number; until: number; runs: number }>()
  const { sql, params } = auditSearchQuery({ keyId, since, until, limit: 100 })
  const timings: number[] = []
  let rows = 0
  for (let run = 0; run < runs; run++) {
    const t0 = performance.now()
    const result = await c.env.DB.prepare(sql).bind(...params).all()
    timings.push(performance.now() - t0)
    rows = result.results.length
  }
  return c.json({ timings, rows })
})

export default app
