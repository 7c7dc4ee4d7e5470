/**
 * CPU time the Worker's JavaScript spends per tool call, and the memory a large result takes.
 *
 * workerd does not report CPU time per request locally, so the gateway (src/index.ts, bundled as for production) runs
 * in Node — the same V8 — with the edge Worker and the key's Durable Object in one process: the object is the real
 * KeyObject class over an in-memory stand-in of its storage (key-value map; the audit outbox's SQL statements
 * acknowledged without work), called directly instead of over RPC. D1 (the key-id lookup) and Odoo (the simulator's
 * handler, called in-process) are stand-ins too. V8's sampling profiler then attributes each sample to the gateway
 * when its stack is in the bundle and not in the simulator: the JavaScript of the edge (Hono, key lookup, JSON-RPC
 * and argument validation) and of the object (admission, policy guard, Odoo client, output filter, audit record and
 * alert rules) per request, garbage collection shared out in proportion. process.cpuUsage() would not do: it counts
 * every thread, V8's parallel GC and the crypto thread pool included. The stand-ins' work (storage writes, SQLite,
 * RPC serialization, the network) is the runtime's, measured by the wrangler dev figures instead.
 */
import { build } from 'esbuild'
import { Session } from 'node:inspector/promises'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { generateApiKey, generateKeyId } from '../src/keys/key-format'
import { generateCredentialsKey, importCredentialsKey, sealSecret, sha256Hex } from '../src/lib/crypto'
import { handleOdooRequest } from '../test/odoo-sim/handler'
import { createState } from '../test/odoo-sim/state'
import { round, summarize } from './stats'

const PROJECT = resolve(dirname(new URL(import.meta.url).pathname), '..')
const ODOO_URL = 'http://odoo.invalid'
const BUNDLE_FILE = 'worker-cpu.mjs'

type WorkerModule = {
  default: { fetch(request: Request, env: unknown, ctx: unknown): Promise<Response> }
  KeyObject: new (ctx: unknown, env: unknown) => unknown
}

/** A Durable Object's state with in-memory storage: what the key object uses on the request path. */
function inMemoryObjectState(entries: Record<string, unknown>) {
  const kv = new Map<string, unknown>(Object.entries(entries))
  return {
    storage: {
      kv: { get: (name: string) => kv.get(name), put: (name: string, value: unknown) => void kv.set(name, value), delete: (name: string) => kv.delete(name) },
      // The audit outbox: its table, its newest sequence number at start, and one INSERT per record.
      sql: { exec: () => ({ one: () => ({ seq: null }), toArray: () => [] }) },
      getAlarm: async () => null,
      setAlarm: async () => {},
      transactionSync: <T>(run: () => T) => run(),
    },
    blockConcurrencyWhile: <T>(run: () => Promise<T>) => run(),
    waitUntil: (promise: Promise<unknown>) => void promise.catch(() => {}),
  }
}

/** Bundles the Worker for Node with `cloudflare:workers` replaced by a stub, and imports it. */
async function loadWorker(): Promise<WorkerModule> {
  const result = await build({
    entryPoints: [join(PROJECT, 'src/index.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    alias: { 'cloudflare:workers': join(PROJECT, 'bench/worker-cpu.stub.ts') },
  })
  const out = join(PROJECT, `node_modules/.cache/odoo-mcp/${BUNDLE_FILE}`)
  await mkdir(dirname(out), { recursive: true })
  await writeFile(out, result.outputFiles[0]!.contents)
  return import(pathToFileURL(out).href) as Promise<WorkerModule>
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[]
  samples: number[]
  timeDeltas: number[]
}

/** µs of samples in the Worker's bundle (`bundleFile`) and not in the simulator, GC shared out in proportion. */
function workerMicros(profile: CpuProfile, bundleFile: string): number {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  let worker = 0
  let gc = 0
  let busy = 0
  profile.samples.forEach((id, index) => {
    const micros = profile.timeDeltas[index] ?? 0
    const name = byId.get(id)!.callFrame.functionName
    if (name === '(idle)' || name === '(program)') return
    if (name === '(garbage collector)') return void (gc += micros)
    busy += micros
    let inWorker = false
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame
      if (frame.functionName === 'handleOdooRequest') return
      if (frame.url.endsWith(bundleFile)) inWorker = true
    }
    if (inWorker) worker += micros
  })
  return busy > 0 ? worker + gc * (worker / busy) : 0
}

/** Runs `task` `n` times under V8's sampling profiler; returns the Worker's µs per run. */
async function profiled(task: () => Promise<unknown>, n: number, bundleFile: string): Promise<number> {
  const session = new Session()
  session.connect()
  try {
    await session.post('Profiler.enable')
    await session.post('Profiler.setSamplingInterval', { interval: 50 })
    await session.post('Profiler.start')
    for (let i = 0; i < n; i++) await task()
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile }
    return workerMicros(profile, bundleFile) / n
  } finally {
    session.disconnect()
  }
}

export interface WorkerCpuResult {
  /** Median µs of gateway CPU (edge Worker + key object) per search_records call (20 records, 4 fields; Odoo's own CPU subtracted). */
  searchRecordsMicros: number
  searchRecordsP95Micros: number
  /** The same for an MCP ping (authentication, audit, MCP server; no tool). */
  pingMicros: number
  /** The same for GET /healthz (Hono alone). */
  bareRouteMicros: number
  /** Worker heap allocated per search_records call by result size: records × 20 fields. */
  largeResults: { records: number; fields: number; allocatedMb: number; responseKb: number; cpuMs: number }[]
}

export async function runWorkerCpuBenchmark(options: { largeOnly?: boolean } = {}): Promise<WorkerCpuResult> {
  const worker = await loadWorker()
  const sim = createState({ version: 18 })
  /** The Odoo requests of the batch being measured, replayed afterwards to subtract Odoo's own CPU time. */
  let odooRequests: { method: string; path: string; headers: Record<string, string>; body: string }[] = []
  const realFetch = globalThis.fetch
  // Odoo, in-process: the simulator's handler behind an answer object with what the Odoo client reads of a Response
  // (undici's Request and Response are JavaScript in Node, native in workerd: they would count as the Worker's).
  globalThis.fetch = (async (input: string, init: RequestInit & { body: string; headers: Record<string, string> }) => {
    const request = { method: init.method ?? 'GET', path: new URL(input).pathname, headers: init.headers, body: init.body }
    odooRequests.push(request)
    const answer = handleOdooRequest(sim, request)
    return {
      status: answer.status,
      headers: { get: (name: string) => answer.headers[name.toLowerCase()] ?? null },
      body: null,
      text: async () => answer.body,
    }
  }) as unknown as typeof fetch

  try {
    const credentialsKey = generateCredentialsKey()
    const { key, prefix } = generateApiKey()
    const id = generateKeyId()
    // The key as the object hands it over (src/keys/key-store.ts ApiKeyRecord; that module's types are the Worker's).
    const record = {
      id, name: 'bench', prefix, odooLogin: 'admin', odooUid: 2, policy: JSON.stringify({
        version: 1,
        models: { 'res.partner': { operations: ['read', 'create'], fields: '*' }, 'res.country': { operations: ['read'], fields: '*' } },
      }),
      odooSecretSealed: await sealSecret(await importCredentialsKey(credentialsKey), 'admin', id),
      createdAt: Date.now(), expiresAt: null, revokedAt: null, rotatedAt: null, lastUsedAt: null,
    }
    // The key's cached copy as the object keeps it (src/keys/key-object.ts), valid for the whole run.
    const cachedKey = { key: record, secrets: [{ hash: await sha256Hex(key), prefix, retiresAt: null }], loadedAt: Date.now() }
    let keyObject: unknown
    const env = {
      ODOO_URL, ODOO_DB: 'mcp_demo', ODOO_PROTOCOL: 'jsonrpc', ODOO_TIMEOUT_MS: '30000', ALLOWED_ORIGINS: '',
      CREDENTIALS_KEY: credentialsKey, GLOBAL_RATE_LIMIT_PER_MINUTE: '0', GLOBAL_RATE_LIMIT_SHARDS: '1',
      DEFAULT_KEY_RATE_LIMIT_PER_MINUTE: '1000000', KEY_CACHE_TTL_SECONDS: '3600', AUDIT_RETENTION_DAYS: '90',
      AUDIT_REDACT_DOMAIN_VALUES: 'false',
      DB: { prepare: () => ({ bind: () => ({ first: async () => ({ key_id: id }), run: async () => ({}) }) }) },
      KEY_OBJECTS: { idFromName: (name: string) => name, get: () => keyObject },
    }
    keyObject = new worker.KeyObject(inMemoryObjectState({ key: cachedKey }), env)
    const ctx = { waitUntil: (promise: Promise<unknown>) => void promise.catch(() => {}), passThroughOnException() {} }
    const mcpRequest = (message: unknown) =>
      new Request('http://gateway.local/mcp', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${key}` },
        body: JSON.stringify(message),
      })
    /** Sends requests one after the other; checks and returns the answers. */
    const send = async (requests: Request[]): Promise<string[]> => {
      const answers: string[] = []
      for (const request of requests) {
        const response = await worker.default.fetch(request, env, ctx)
        const text = await response.text()
        if (response.status !== 200 || text.includes('"isError":true')) throw new Error(`unexpected answer ${response.status}: ${text.slice(0, 300)}`)
        answers.push(text)
      }
      return answers
    }
    const post = async (message: unknown) => (await send([mcpRequest(message)]))[0]!
    const searchRecords = (fields: string[], limit: number, domain: unknown[] = [['is_company', '=', true]]) =>
      post({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search_records', arguments: { model: 'res.partner', domain, fields, limit } } })

    /** Median and p95 over rounds of the Worker's µs per call. */
    const perCall = async (request: () => Request, rounds = 3, perRound = 600) => {
      await send(Array.from({ length: 50 }, request))
      const means: number[] = []
      for (let r = 0; r < rounds; r++) means.push(await profiled(() => send([request()]), perRound, BUNDLE_FILE))
      return summarize(means)
    }
    const searchRequest = () =>
      mcpRequest({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search_records', arguments: { model: 'res.partner', domain: [['is_company', '=', true]], fields: ['name', 'email', 'city', 'country_id'], limit: 20 } } })
    const search = options.largeOnly ? summarize([0]) : await perCall(searchRequest)
    const ping = options.largeOnly ? summarize([0]) : await perCall(() => mcpRequest({ jsonrpc: '2.0', id: 1, method: 'ping' }))
    const bare = options.largeOnly ? summarize([0]) : await perCall(() => new Request('http://gateway.local/healthz'))

    // Large pages: 20 fields per record. Partners are created through the simulator's own API, as Odoo would.
    const fields = ['name', 'email', 'phone', 'mobile', 'street', 'street2', 'city', 'zip', 'country_id', 'website',
      'vat', 'ref', 'lang', 'tz', 'comment', 'function', 'is_company', 'active', 'type', 'company_id']
    for (let i = 0; i < 1000; i++) {
      await post({
        jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'create_record', arguments: { model: 'res.partner', values: {
          name: `Bulk partner ${i}`, email: `bulk${i}@example.com`, phone: `+32 470 00 ${String(i).padStart(4, '0')}`,
          street: `${i} Rue de la Loi`, street2: 'Bâtiment B', city: 'Bruxelles', zip: '1000', website: `https://bulk${i}.example.com`,
          vat: `BE0${String(100000000 + i)}`, ref: 'bulk', lang: 'en_US', tz: 'Europe/Brussels', comment: `<p>Customer number ${i}</p>`,
          function: 'Buyer', is_company: false, mobile: `+32 470 11 ${String(i).padStart(4, '0')}`, type: 'contact',
        } } },
      })
    }
    const largeResults: WorkerCpuResult['largeResults'] = []
    for (const records of [100, 250, 500]) {
      for (let i = 0; i < 5; i++) await searchRecords(fields, records, [['ref', '=', 'bulk']])
      const samples: { allocated: number; bytes: number }[] = []
      const request = () => mcpRequest({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search_records', arguments: { model: 'res.partner', domain: [['ref', '=', 'bulk']], fields, limit: records } } })
      for (let i = 0; i < 9; i++) {
        // Heap growth across one call, with a young generation large enough (npm run bench sets it) that no
        // collection runs inside the call: the bytes the call allocates, an upper bound for what it holds at its peak.
        globalThis.gc?.()
        const prepared = request()
        const before = process.memoryUsage().heapUsed
        const [answer] = await send([prepared])
        samples.push({ allocated: process.memoryUsage().heapUsed - before, bytes: answer!.length })
      }
      const cpuMicros = await profiled(() => send([request()]), 15, BUNDLE_FILE)
      const median = <K extends keyof (typeof samples)[number]>(k: K) => summarize(samples.map((s) => s[k])).p50
      largeResults.push({
        records, fields: fields.length,
        allocatedMb: round(median('allocated') / 1024 / 1024, 2),
        responseKb: round(median('bytes') / 1024, 0),
        cpuMs: round(cpuMicros / 1000, 2),
      })
    }
    return {
      searchRecordsMicros: round(search.p50, 0),
      searchRecordsP95Micros: round(search.p95, 0),
      pingMicros: round(ping.p50, 0),
      bareRouteMicros: round(bare.p50, 0),
      largeResults,
    }
  } finally {
    globalThis.fetch = realFetch
  }
}
