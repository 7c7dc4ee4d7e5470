/**
 * A bench-only Worker (never deployed) for `npm run bench -- --wan` (bench/wan.ts): the gateway unchanged, with the
 * edge's wide-area hops made visible. Each request runs the gateway's own `fetch` with three of the edge's bindings
 * replaced:
 *   KEY_OBJECTS  every method call on a key object's stub is one hop: counted, and delayed by EDGE_OBJECT_RTT_MS
 *   DB           every D1 round trip (the key directory's lookup on a cold isolate) likewise, by EDGE_D1_RTT_MS
 *   ODOO_URL     EDGE_ODOO_URL instead: Odoo calls made at the edge go through their own delay proxy
 * The Durable Objects get the runtime's bindings unchanged (the real ODOO_URL, behind the object's delay proxy).
 * The answer carries the request's counts: `X-Bench-Hops: edge-object=1;edge-d1=0`.
 *
 * It imports the gateway from the tree it sits in, so a copy of this file measures an older commit as well.
 */
import type { Env } from '../src/env'
import gateway from '../src/index'

// Every Durable Object class the tree's wrangler.toml binds (SignInLimiter since OAuth; not at BEFORE_COMMIT), so one
// line fits both trees.
export * from '../src/index'

interface BenchEnv extends Env {
  EDGE_ODOO_URL: string
  EDGE_OBJECT_RTT_MS: string
  EDGE_D1_RTT_MS: string
}

/** One wide-area round trip: counted when it starts, then its delay. */
type Hop = () => Promise<void>

/** Binds native methods to the real object: called through a Proxy they would see the Proxy as `this` and throw. */
function passThrough(target: object, property: string | symbol): unknown {
  const value: unknown = Reflect.get(target, property)
  return typeof value === 'function' ? value.bind(target) : value
}

/** A stub whose every RPC method call is one hop. Its plain properties (id, name) pass through. */
function stubWithHops<T extends object>(stub: T, hop: Hop): T {
  return new Proxy(stub, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property)
      // `then` stays as it is, or awaiting the stub itself would look like a call.
      if (typeof property !== 'string' || property === 'then' || typeof value !== 'function') return value
      return async (...args: unknown[]) => {
        await hop()
        // Not value.apply(...): on an RPC stub, `apply` would be read as a remote property.
        return Reflect.apply(value, target, args)
      }
    },
  })
}

function namespaceWithHops<T extends object>(namespace: T, hop: Hop): T {
  return new Proxy(namespace, {
    get(target, property) {
      const value = passThrough(target, property)
      if (property !== 'get' && property !== 'getByName') return value
      return (...args: unknown[]) => stubWithHops((value as (...args: unknown[]) => object)(...args), hop)
    },
  })
}

/** Statements run (first, all, run, raw) and batches are one hop each; preparing and binding are local. */
function databaseWithHops(db: D1Database, hop: Hop): D1Database {
  const statementWithHops = (statement: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(statement, {
      get(target, property) {
        const value = passThrough(target, property)
        if (property === 'bind') return (...args: unknown[]) => statementWithHops((value as D1PreparedStatement['bind'])(...args))
        if (property !== 'first' && property !== 'all' && property !== 'run' && property !== 'raw') return value
        return async (...args: unknown[]) => {
          await hop()
          return (value as (...args: unknown[]) => Promise<unknown>)(...args)
        }
      },
    })
  return new Proxy(db, {
    get(target, property) {
      const value = passThrough(target, property)
      if (property === 'prepare') return (sql: string) => statementWithHops(target.prepare(sql))
      if (property !== 'batch' && property !== 'exec') return value
      return async (...args: unknown[]) => {
        await hop()
        return (value as (...args: unknown[]) => Promise<unknown>)(...args)
      }
    },
  })
}

export default {
  async fetch(request, env, ctx) {
    const counts = { 'edge-object': 0, 'edge-d1': 0 }
    const hop = (name: keyof typeof counts, delayMs: number): Hop => async () => {
      counts[name]++
      if (delayMs > 0) await scheduler.wait(delayMs)
    }
    // A fresh env per request keeps the counts per request; the gateway's per-env config cache then parses the
    // settings once per request, a few microseconds.
    const edgeEnv: Env = {
      ...env,
      ODOO_URL: env.EDGE_ODOO_URL,
      KEY_OBJECTS: namespaceWithHops(env.KEY_OBJECTS, hop('edge-object', Number(env.EDGE_OBJECT_RTT_MS))),
      DB: databaseWithHops(env.DB, hop('edge-d1', Number(env.EDGE_D1_RTT_MS))),
    }
    const answer = await gateway.fetch(request, edgeEnv, ctx)
    const counted = new Response(answer.body, answer)
    counted.headers.set('X-Bench-Hops', Object.entries(counts).map(([name, count]) => `${name}=${count}`).join(';'))
    return counted
  },
} satisfies ExportedHandler<BenchEnv>
