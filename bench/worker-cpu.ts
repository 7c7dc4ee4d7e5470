/**
 * CPU time the Worker's JavaScript spends per tool call, and the memory a large result takes.
 *
 * workerd does not report CPU time per request locally, so the Worker (src/index.ts, bundled as for production) runs
 * in Node — the same V8 — with in-memory stand-ins for what lives outside the Worker: the key's Durable Object (it
 * admits every request and acknowledges every audit record at once), D1 (the key-id lookup) and Odoo (the simulator's
 * handler, called in-process; its own CPU time is measured and subtracted). What remains is the Worker's own work
 * per request: Hono, authentication, the MCP SDK server and transport, zod validation, the policy guard, the Odoo
 * client (JSON-RPC encoding and decoding) and the audit record. The stand-ins' work (the object's storage writes,
 * SQLite, the network) is the runtime's, not the Worker's, and is what the wrangler dev figures add.
 *
 * Reports the median of per-batch means, so one slow batch (GC, a noisy neighbour) does not move it.
 */
import { build } from 'esbuild'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { generateApiKey, generateKeyId } from '../src/keys/key-format'
import { generateCredentialsKey, importCredentialsKey, sealSecret } from '../src/lib/crypto'
import { handleOdooRequest } from '../test/odoo-sim/handler'
import { createState } from '../test/odoo-sim/state'
import { round, summarize } from './stats'

const PROJECT = resolve(dirname(new URL(import.meta.url).pathname), '..')
const ODOO_URL = 'http://odoo.invalid'

type WorkerModule = { default: { fetch(request: Request, env: unknown, ctx: unknown): Promise<Response> } }

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
  const out = join(PROJECT, 'node_modules/.cache/odoo-mcp/worker-cpu.mjs')
  await mkdir(dirname(out), { recursive: true })
  await writeFile(out, result.outputFiles[0]!.contents)
  return import(pathToFileURL(out).href) as Promise<WorkerModule>
}

/** CPU time (µs) of this process since `start`. */
const cpuSince = (start: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(start)
  return used.user + used.system
}

export interface WorkerCpuResult {
  /** Median µs of Worker CPU per search_records call (20 records, 4 fields; Odoo's own CPU subtracted). */
  searchRecordsMicros: number
  searchRecordsP95Micros: number
  /** The same for an MCP ping (authentication, audit, MCP server; no tool). */
  pingMicros: number
  /** Worker heap allocated per search_records call by result size: records × 20 fields. */
  largeResults: { records: number; fields: number; allocatedMb: number; responseKb: number; cpuMs: number }[]
}

export async function runWorkerCpuBenchmark(options: { largeOnly?: boolean; profileLarge?: (call: () => Promise<unknown>) => Promise<void> } = {}): Promise<WorkerCpuResult> {
  const worker = await loadWorker()
  const sim = createState({ version: 18 })
  let odooMicros = 0
  const realFetch = globalThis.fetch
  // Odoo, in-process: the simulator's handler behind an answer object with what the Odoo client reads of a Response
  // (undici's Request and Response are JavaScript in Node, native in workerd: they would count as the Worker's).
  globalThis.fetch = (async (input: string, init: RequestInit & { body: string; headers: Record<string, string> }) => {
    const started = process.cpuUsage()
    const answer = handleOdooRequest(sim, { method: init.method ?? 'GET', path: new URL(input).pathname, headers: init.headers, body: init.body })
    odooMicros += cpuSince(started)
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
    const spec = { perMinute: 1_000_000, burst: 1_000_000 }
    const keyObject = {
      admit: async () => ({ kind: 'admitted', key: record, rate: { spec, remaining: 999_999, resetMs: 0 } }),
      appendAudit: async () => 1,
    }
    const env = {
      ODOO_URL, ODOO_DB: 'mcp_demo', ODOO_PROTOCOL: 'jsonrpc', ODOO_TIMEOUT_MS: '30000', ALLOWED_ORIGINS: '',
      CREDENTIALS_KEY: credentialsKey, GLOBAL_RATE_LIMIT_PER_MINUTE: '0', GLOBAL_RATE_LIMIT_SHARDS: '1',
      DEFAULT_KEY_RATE_LIMIT_PER_MINUTE: '600', KEY_CACHE_TTL_SECONDS: '30', AUDIT_RETENTION_DAYS: '90',
      AUDIT_REDACT_DOMAIN_VALUES: 'false',
      DB: { prepare: () => ({ bind: () => ({ first: async () => ({ key_id: id }) }) }) },
      KEY_OBJECTS: { idFromName: (name: string) => name, get: () => keyObject },
    }
    const ctx = { waitUntil: (promise: Promise<unknown>) => void promise.catch(() => {}), passThroughOnException() {} }
    /** CPU µs the Worker spent on requests since the last reset: its fetch handler, minus Odoo's own time. */
    let workerMicros = 0
    const post = async (message: unknown) => {
      // The client's side (building the request, reading the answer) is not the Worker's: measured around fetch only.
      const request = new Request('http://gateway.local/mcp', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${key}` },
        body: JSON.stringify(message),
      })
      const odooBefore = odooMicros
      const started = process.cpuUsage()
      const response = await worker.default.fetch(request, env, ctx)
      workerMicros += cpuSince(started) - (odooMicros - odooBefore)
      const text = await response.text()
      if (response.status !== 200 || text.includes('"isError":true')) throw new Error(`unexpected answer ${response.status}: ${text.slice(0, 300)}`)
      return text
    }
    const searchRecords = (fields: string[], limit: number, domain: unknown[] = [['is_company', '=', true]]) =>
      post({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search_records', arguments: { model: 'res.partner', domain, fields, limit } } })

    /** Median and p95 of per-batch mean Worker CPU (µs) per call. */
    const perCall = async (task: () => Promise<unknown>, batches = 30, perBatch = 20) => {
      for (let i = 0; i < 50; i++) await task()
      const means: number[] = []
      for (let b = 0; b < batches; b++) {
        workerMicros = 0
        for (let i = 0; i < perBatch; i++) await task()
        means.push(workerMicros / perBatch)
      }
      return summarize(means)
    }
    const search = options.largeOnly ? summarize([0]) : await perCall(() => searchRecords(['name', 'email', 'city', 'country_id'], 20))
    const ping = options.largeOnly ? summarize([0]) : await perCall(() => post({ jsonrpc: '2.0', id: 1, method: 'ping' }))

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
    if (options.profileLarge) await options.profileLarge(() => searchRecords(fields, 500, [['ref', '=', 'bulk']]))
    for (const records of [100, 250, 500]) {
      const call = () => searchRecords(fields, records, [['ref', '=', 'bulk']])
      for (let i = 0; i < 5; i++) await call()
      const samples: { allocated: number; bytes: number; cpu: number }[] = []
      for (let i = 0; i < 9; i++) {
        // Heap growth across one call, with a young generation large enough (bench.mjs sets it) that no collection
        // runs inside the call: the bytes the call allocates, an upper bound for what it holds at its peak.
        globalThis.gc?.()
        const before = process.memoryUsage().heapUsed
        workerMicros = 0
        const text = await call()
        samples.push({ allocated: process.memoryUsage().heapUsed - before, bytes: text.length, cpu: workerMicros })
      }
      const median = <K extends keyof (typeof samples)[number]>(k: K) => summarize(samples.map((s) => s[k])).p50
      largeResults.push({
        records, fields: fields.length,
        allocatedMb: round(median('allocated') / 1024 / 1024, 2),
        responseKb: round(median('bytes') / 1024, 0),
        cpuMs: round(median('cpu') / 1000, 2),
      })
    }
    return {
      searchRecordsMicros: round(search.p50, 0),
      searchRecordsP95Micros: round(search.p95, 0),
      pingMicros: round(ping.p50, 0),
      largeResults,
    }
  } finally {
    globalThis.fetch = realFetch
  }
}
