/**
 * A bench-only Worker (never deployed): the gateway's Durable Object classes behind two bare routes, so `npm run
 * bench` can measure what one key object costs on the request path and how many checks per second one object
 * sustains, without the MCP layer in the way.
 *   GET  /noop    the runtime's own cost (reference)
 *   POST /admit   one admission by the key object named in the body (what every POST /mcp pays)
 *   POST /admit-many?n=2000&concurrency=32
 *                 n admissions fired from inside the Worker, `concurrency` at a time: one object's checks per
 *                 second without an HTTP client in the way. Answers {"n", "ms", "admitted"}.
 */
import { Hono } from 'hono'
import type { Env } from '../src/env'
import type { Admission } from '../src/keys/admission'

export { KeyObject } from '../src/keys/key-object'
export { GlobalLimiterShard } from '../src/limits/global-limiter'

const app = new Hono<{ Bindings: Env }>()

app.get('/noop', (c) => c.text('ok'))

app.post('/admit', async (c) => {
  const { keyId, keyHash } = await c.req.json<{ keyId: string; keyHash: string }>()
  const stub = c.env.KEY_OBJECTS.get(c.env.KEY_OBJECTS.idFromName(keyId))
  const admission = (await stub.admit({ keyId, keyHash })) as unknown as Admission
  return c.text(admission.kind, admission.kind === 'admitted' ? 200 : 429)
})

app.post('/admit-many', async (c) => {
  const { keyId, keyHash } = await c.req.json<{ keyId: string; keyHash: string }>()
  const n = Math.min(100_000, Number(c.req.query('n') ?? 2000))
  const concurrency = Math.min(256, Number(c.req.query('concurrency') ?? 32))
  const stub = c.env.KEY_OBJECTS.get(c.env.KEY_OBJECTS.idFromName(keyId))
  let started = 0
  let admitted = 0
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < n) {
        started++
        const admission = (await stub.admit({ keyId, keyHash })) as unknown as Admission
        if (admission.kind === 'admitted') admitted++
      }
    }),
  )
  // performance.now() only advances with I/O in Workers; every admission is an RPC, so it does here.
  return c.json({ n, ms: performance.now() - t0, admitted })
})

export default app
