/**
 * `npm run bench`: the cost of the gateway on top of Odoo, as a user would run it (wrangler dev, local D1, the
 * simulated Odoo on loopback with a fixed latency), plus micro-benchmarks of the hot path.
 *
 * Workload: one `search_records` call (res.partner, a domain, 4 fields, 20 records). The gateway serves it with one
 * Odoo call (search_read of 21 records: the page, and whether more follow), so the direct client makes exactly that
 * JSON-RPC call: both sides ask Odoo for the same work. The Odoo calls every tool makes are counted too. Each concurrency level runs the
 * direct and the gateway workload alternately in rounds, so a noisy neighbour hurts both alike.
 *
 * Also: throughput against a bare route at concurrency 16 with the simulator answering at once, the runtime's CPU per
 * request (workerd's processes, from /proc on Linux), a 500-record page, and the Worker's own CPU per call from V8's
 * profiler (bench/worker-cpu.ts). The gateway runs under wrangler's startWorker without the DevTools inspector that
 * plain `wrangler dev` attaches (test/support/worker-without-devtools.mjs; --devtools measures with it).
 *
 * Options: --latency MS (simulated Odoo latency, default 20), --requests N (per side and concurrency, default 400),
 * --concurrency 1,16, --out FILE (default bench-results/bench.json), --audit-records N (rows for the audit search
 * bench, default 1 000 000; 0 skips it).
 * --wan runs only the wide-area placement model instead (bench/wan.ts: p50 of a tool call before and after the
 * one-hop request path, agent near or far from Odoo, wide-area round trips counted; bench-results/wan.json), with
 * --wan-rtt MS as the wide-area round trip (default 250, Sydney–Frankfurt) and --latency as Odoo's own;
 * --wan-count-total measures search_records with count_total (two Odoo calls) instead.
 * --oauth runs only the OAuth bench instead (bench/oauth.ts: search_records with an API key vs an OAuth access token at
 * concurrency 1 and 16, the sign-in's cost from registration to tokens, and a refresh's; bench-results/oauth.json),
 * with --latency and --requests (per side and level) as above.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { executeFile, type D1Target } from '../cli/d1'
import { createKey } from '../cli/keys-store'
import { generateCredentialsKey, importCredentialsKey, sha256Hex } from '../src/lib/crypto'
import { startOdooSimulator } from '../test/odoo-sim/server'
import { startWorkerWithoutDevTools } from '../test/support/worker-without-devtools'
import { startWranglerDev, type WranglerDev } from '../test/support/wrangler-dev'
import { DOMAIN, FIELDS, LIMIT, load, measure, postJson, searchViaGateway } from './http-load'
import { runOAuthBench } from './oauth'
import { processTreeCpuMs } from './process-cpu'
import { runPolicyMicroBenchmark } from './policy.micro'
import { round, summarize, type Summary } from './stats'
import { runWanBench } from './wan'
import { runWorkerCpuBenchmark } from './worker-cpu'

const PROJECT = resolve(dirname(new URL(import.meta.url).pathname), '..')

/**
 * The bench-only Worker (bench/key-object.worker.ts) gets the gateway's wrangler.toml with only `name` and `main`
 * changed, written next to the run's state: same D1, same Durable Object classes and settings.
 */
async function benchWorkerConfig(work: string): Promise<string> {
  const toml = (await readFile(join(PROJECT, 'wrangler.toml'), 'utf8'))
    .replace(/^name = .*$/m, 'name = "odoo-mcp-edge-bench"')
    .replace(/^main = .*$/m, `main = ${JSON.stringify(join(PROJECT, 'bench', 'key-object.worker.ts'))}`)
  const path = join(work, 'bench-worker.toml')
  await writeFile(path, toml)
  return path
}

/** Bytes of the local D1 database files (wrangler keeps each database as one SQLite file under v3/d1). */
async function d1Size(persistTo: string): Promise<number | null> {
  try {
    const dir = join(persistTo, 'v3', 'd1')
    const entries = await readdir(dir, { recursive: true, withFileTypes: true })
    const files = entries.filter((entry) => entry.isFile() && /\.sqlite(-wal)?$/.test(entry.name))
    const sizes = await Promise.all(files.map((entry) => stat(join(entry.parentPath, entry.name)).then((info) => info.size)))
    return sizes.reduce((sum, size) => sum + size, 0)
  } catch {
    return null
  }
}

interface LevelResult {
  concurrency: number
  direct: Summary
  gateway: Summary
  ratioP50: number
  ratioP95: number
  ratioP99: number
  overheadP50Ms: number
  directRps: number
  gatewayRps: number
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      latency: { type: 'string', default: '20' },
      requests: { type: 'string', default: '400' },
      concurrency: { type: 'string', default: '1,16' },
      out: { type: 'string', default: 'bench-results/bench.json' },
      'audit-records': { type: 'string', default: '1000000' },
      // Plain `wrangler dev` (DevTools inspector attached) instead of wrangler's startWorker without it.
      devtools: { type: 'boolean', default: false },
      wan: { type: 'boolean', default: false },
      'wan-rtt': { type: 'string', default: '250' },
      'wan-count-total': { type: 'boolean', default: false },
      oauth: { type: 'boolean', default: false },
    },
  })
  const latencyMs = Number(values.latency)
  const requests = Number(values.requests)
  const levels = values.concurrency!.split(',').map(Number)
  const log = (text: string) => process.stdout.write(`${text}\n`)
  if (values.wan) return runWanBench({ latencyMs, rttMs: Number(values['wan-rtt']), countTotal: values['wan-count-total'], log })
  if (values.oauth) return runOAuthBench({ latencyMs, requests, log })

  log(`odoo-mcp-edge benchmark: simulated Odoo latency ${latencyMs} ms, ${requests} requests per side and level`)
  const odoo = await startOdooSimulator({ version: 18, latencyMs })
  const work = await mkdtemp(join(tmpdir(), 'odoo-mcp-bench-'))
  const credentialsKey = generateCredentialsKey()
  const target: D1Target = { remote: false, configPath: join(PROJECT, 'wrangler.toml'), persistTo: join(work, 'state') }
  let gateway: WranglerDev | undefined
  let benchWorker: WranglerDev | undefined
  try {
    await executeFile(target, join(PROJECT, 'schema.sql'))
    const key = await createKey(target, await importCredentialsKey(credentialsKey), {
      name: 'bench',
      odooLogin: 'admin',
      odooSecret: 'admin',
      // A rate limit far above what the bench sends: it measures the limiter's cost, not its refusals.
      policy: JSON.stringify({
        version: 1,
        models: { 'res.partner': { operations: ['read'], fields: '*' }, 'res.country': { operations: ['read'], fields: '*' } },
        rateLimit: { perMinute: 1_000_000 },
      }),
      expiresAt: null,
      now: Date.now(),
    })
    // Every tool, writes included, for counting the Odoo calls each makes.
    const fullKey = await createKey(target, await importCredentialsKey(credentialsKey), {
      name: 'bench (all tools)',
      odooLogin: 'admin',
      odooSecret: 'admin',
      policy: JSON.stringify({ version: 1, models: { '*': { operations: ['read', 'create', 'write', 'unlink'], fields: '*' } }, rateLimit: { perMinute: 1_000_000 } }),
      expiresAt: null,
      now: Date.now(),
    })

    const vars = { ODOO_URL: odoo.url, ODOO_DB: 'mcp_demo', ODOO_PROTOCOL: 'jsonrpc', CREDENTIALS_KEY: credentialsKey }
    // By default without the DevTools inspector that plain `wrangler dev` attaches: it reports every outbound fetch
    // to wrangler's Node process, which costs more CPU than the gateway itself (docs/PERFORMANCE.md). --devtools
    // measures with it.
    gateway = values.devtools
      ? await startWranglerDev(target.configPath, target.persistTo!, vars, '/healthz')
      : await startWorkerWithoutDevTools(target.configPath, target.persistTo!, vars, '/healthz')
    const gatewayUrl = gateway.url
    // With --devtools this includes wrangler's Node process, which receives the DevTools events.
    const runtimeCpu = () => (gateway ? processTreeCpuMs(gateway.pid) : null)
    /** Latency, requests/s, and the runtime's CPU per request (workerd and its launcher, all threads; Linux only). */
    const measureWithCpu = async (task: () => Promise<unknown>, total: number, concurrency: number) => {
      const before = runtimeCpu()
      const benchBefore = process.cpuUsage()
      const result = await measure(task, total, concurrency)
      const bench = process.cpuUsage(benchBefore)
      const after = runtimeCpu()
      return {
        ...result,
        runtimeCpuMsPerRequest: before !== null && after !== null ? round((after - before) / total, 2) : null,
        // This process: the load generator, and the simulated Odoo when the request reaches it.
        benchCpuMsPerRequest: round((bench.user + bench.system) / 1000 / total, 2),
      }
    }

    let rpcId = 0
    const executeKw = (method: string, kwargs: Record<string, unknown>) =>
      postJson(`${odoo.url}/jsonrpc`, {
        jsonrpc: '2.0', method: 'call', id: ++rpcId,
        params: { service: 'object', method: 'execute_kw', args: ['mcp_demo', 2, 'admin', 'res.partner', method, [], kwargs] },
      })
    const direct = () => executeKw('search_read', { domain: DOMAIN, fields: FIELDS, limit: LIMIT + 1, offset: 0 })
    const viaGateway = () => searchViaGateway(gatewayUrl, key.key)

    // Reference points on the same runtime: a bare route (the runtime's own cost), and an authenticated MCP ping
    // (transport guard, key lookup, MCP server, no Odoo call).
    const bare = () => fetch(`${gatewayUrl}/healthz`).then((r) => r.text())
    const mcpPing = () =>
      postJson(`${gatewayUrl}/mcp`, { jsonrpc: '2.0', id: 1, method: 'ping' }, { authorization: `Bearer ${key.key}`, 'mcp-protocol-version': '2025-06-18' })

    // Warm-up: isolate start, JIT, per-isolate caches (server version, uid, fields_get).
    await load(bare, 50, 4)
    await load(mcpPing, 50, 4)
    await load(viaGateway, 50, 4)
    await load(direct, 50, 4)

    const odooCalls = await countOdooCallsPerTool(gatewayUrl, fullKey.key, odoo)
    log('')
    log(`Odoo calls per tool call (warm caches): ${Object.entries(odooCalls).map(([tool, calls]) => `${tool} ${calls}`).join(', ')}`)

    // Throughput against the bare route (the 50% target): the simulator answers without delay, so what limits the
    // secured call is the gateway's own work. Alternating rounds, so a noisy neighbour hurts both alike.
    odoo.setLatency(0)
    await load(bare, 200, 16)
    await load(viaGateway, 200, 16)
    const throughputRounds: { bare: number; secured: number; ratio: number }[] = []
    const cpuPerRequest: { bare: number[]; ping: number[]; secured: number[] } = { bare: [], ping: [], secured: [] }
    const benchCpuPerRequest: { bare: number[]; secured: number[] } = { bare: [], secured: [] }
    for (let r = 0; r < 3; r++) {
      const b = await measureWithCpu(bare, requests, 16)
      const p = await measureWithCpu(mcpPing, requests, 16)
      const s = await measureWithCpu(viaGateway, requests, 16)
      throughputRounds.push({ bare: b.rps, secured: s.rps, ratio: round(s.rps / b.rps, 3) })
      benchCpuPerRequest.bare.push(b.benchCpuMsPerRequest)
      benchCpuPerRequest.secured.push(s.benchCpuMsPerRequest)
      if (b.runtimeCpuMsPerRequest !== null) {
        cpuPerRequest.bare.push(b.runtimeCpuMsPerRequest)
        cpuPerRequest.ping.push(p.runtimeCpuMsPerRequest!)
        cpuPerRequest.secured.push(s.runtimeCpuMsPerRequest!)
      }
    }
    odoo.setLatency(latencyMs)
    const medianOf = (xs: number[]) => (xs.length > 0 ? round(summarize(xs).p50, 2) : null)
    const throughput = {
      concurrency: 16,
      rounds: throughputRounds,
      medianRatio: medianOf(throughputRounds.map((r) => r.ratio))!,
      runtimeCpuMsPerRequest: { bareRoute: medianOf(cpuPerRequest.bare), mcpPing: medianOf(cpuPerRequest.ping), searchRecords: medianOf(cpuPerRequest.secured) },
      benchProcessCpuMsPerRequest: { bareRoute: medianOf(benchCpuPerRequest.bare), searchRecords: medianOf(benchCpuPerRequest.secured) },
    }
    log('')
    log(`throughput at concurrency 16, simulator without latency: secured search_records vs bare route, ` +
      `median ratio ${throughput.medianRatio} (rounds: ${throughputRounds.map((r) => `${r.secured}/${r.bare} req/s`).join(', ')})`)
    if (throughput.runtimeCpuMsPerRequest.bareRoute !== null) {
      const cpu = throughput.runtimeCpuMsPerRequest
      log(`runtime CPU per request (the runtime's processes, all threads): bare route ${cpu.bareRoute} ms, MCP ping ${cpu.mcpPing} ms, ` +
        `search_records ${cpu.searchRecords} ms → the gateway's work ${round(cpu.searchRecords! - cpu.bareRoute!, 2)} ms per call`)
    }
    log(`bench process CPU per request (load generator + simulated Odoo): bare route ${throughput.benchProcessCpuMsPerRequest.bareRoute} ms, ` +
      `search_records ${throughput.benchProcessCpuMsPerRequest.searchRecords} ms`)

    const references: { concurrency: number; bareRoute: Summary & { rps: number }; mcpPing: Summary & { rps: number } }[] = []
    const results: LevelResult[] = []
    for (const concurrency of levels) {
      const timed = (task: () => Promise<unknown>) => measure(task, requests, concurrency)
      references.push({ concurrency, bareRoute: await timed(bare), mcpPing: await timed(mcpPing) })
      const directSamples: number[] = []
      const gatewaySamples: number[] = []
      const elapsed = { direct: 0, gateway: 0 }
      const rounds = 4
      for (let round = 0; round < rounds; round++) {
        let t0 = performance.now()
        directSamples.push(...(await load(direct, Math.ceil(requests / rounds), concurrency)))
        elapsed.direct += performance.now() - t0
        t0 = performance.now()
        gatewaySamples.push(...(await load(viaGateway, Math.ceil(requests / rounds), concurrency)))
        elapsed.gateway += performance.now() - t0
      }
      const d = summarize(directSamples)
      const g = summarize(gatewaySamples)
      results.push({
        concurrency,
        direct: d,
        gateway: g,
        ratioP50: round(g.p50 / d.p50, 3),
        ratioP95: round(g.p95 / d.p95, 3),
        ratioP99: round(g.p99 / d.p99, 3),
        overheadP50Ms: round(g.p50 - d.p50),
        directRps: round((directSamples.length / elapsed.direct) * 1000, 0),
        gatewayRps: round((gatewaySamples.length / elapsed.gateway) * 1000, 0),
      })
    }

    // A large page: 500 records of 20 fields, created through the simulator's own API as Odoo would.
    const LARGE_FIELDS = ['name', 'email', 'phone', 'mobile', 'street', 'street2', 'city', 'zip', 'country_id', 'website',
      'vat', 'ref', 'lang', 'tz', 'comment', 'function', 'is_company', 'active', 'type', 'company_id']
    const executeKwOn = (model: string, method: string, args: unknown[], kwargs: Record<string, unknown>) =>
      postJson(`${odoo.url}/jsonrpc`, {
        jsonrpc: '2.0', method: 'call', id: ++rpcId,
        params: { service: 'object', method: 'execute_kw', args: ['mcp_demo', 2, 'admin', model, method, args, kwargs] },
      })
    for (let i = 0; i < 500; i++) {
      await executeKwOn('res.partner', 'create', [{
        name: `Bulk partner ${i}`, email: `bulk${i}@example.com`, phone: `+32 470 00 ${String(i).padStart(4, '0')}`,
        mobile: `+32 470 11 ${String(i).padStart(4, '0')}`, street: `${i} Rue de la Loi`, street2: 'Bâtiment B', city: 'Bruxelles',
        zip: '1000', website: `https://bulk${i}.example.com`, vat: `BE0${100000000 + i}`, ref: 'bulk', lang: 'en_US',
        tz: 'Europe/Brussels', comment: `<p>Customer number ${i}</p>`, function: 'Buyer', type: 'contact',
      }], {})
    }
    const LARGE_DOMAIN = [['ref', '=', 'bulk']]
    const largeDirect = () =>
      executeKwOn('res.partner', 'search_read', [], { domain: LARGE_DOMAIN, fields: LARGE_FIELDS, limit: 501, offset: 0 })
    const largeViaGateway = () =>
      postJson(
        `${gatewayUrl}/mcp`,
        { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search_records', arguments: { model: 'res.partner', domain: LARGE_DOMAIN, fields: LARGE_FIELDS, limit: 500 } } },
        { authorization: `Bearer ${key.key}`, 'mcp-protocol-version': '2025-06-18' },
      )
    await load(largeViaGateway, 5, 1)
    await load(largeDirect, 5, 1)
    const large = { records: 500, fields: LARGE_FIELDS.length, direct: summarize(await load(largeDirect, 40, 1)), gateway: summarize(await load(largeViaGateway, 40, 1)) }
    log('')
    log(`search_records of 500 records × 20 fields at concurrency 1: direct p50 ${round(large.direct.p50, 1)} ms, ` +
      `gateway p50 ${round(large.gateway.p50, 1)} ms (+${round(large.gateway.p50 - large.direct.p50, 1)} ms)`)

    log('')
    log('search_records: direct JSON-RPC to the simulated Odoo (a) vs through the gateway (b), latency in ms')
    log('conc | a p50 | a p95 | a p99 | b p50 | b p95 | b p99 | b/a p50 | b/a p95 | b/a p99 | +p50 ms | a req/s | b req/s')
    for (const r of results) {
      log(
        [r.concurrency, r.direct.p50, r.direct.p95, r.direct.p99, r.gateway.p50, r.gateway.p95, r.gateway.p99]
          .map((x) => String(round(x, 1)).padStart(5))
          .join(' | ') + ` | ${String(r.ratioP50).padStart(7)} | ${String(r.ratioP95).padStart(7)} | ${String(r.ratioP99).padStart(7)} | ` +
          `${String(r.overheadP50Ms).padStart(7)} | ${String(r.directRps).padStart(7)} | ${String(r.gatewayRps).padStart(7)}`,
      )
    }

    log('')
    log('reference points on the same runtime (no Odoo call): p50 ms and requests/s')
    for (const r of references) {
      log(`  concurrency ${r.concurrency}: bare route ${round(r.bareRoute.p50, 1)} ms, ${r.bareRoute.rps}/s; ` +
        `authenticated MCP ping ${round(r.mcpPing.p50, 1)} ms, ${r.mcpPing.rps}/s`)
    }

    // The key object alone: the one call every request makes (admission: status, IP, key bucket, global lease; and the
    // durable audit append), behind a bare route.
    gateway.stop()
    gateway = undefined
    benchWorker = await startWorkerWithoutDevTools(await benchWorkerConfig(work), target.persistTo!, {}, '/noop')
    const admitBody = JSON.stringify({ keyId: key.id, keyHash: await sha256Hex(key.key) })
    const noop = () => fetch(`${benchWorker!.url}/noop`).then((r) => r.text())
    const admit = async () => {
      const response = await fetch(`${benchWorker!.url}/admit`, { method: 'POST', body: admitBody })
      if (response.status !== 200) throw new Error(`admission refused: ${await response.text()}`)
      await response.text()
    }
    await load(noop, 50, 4)
    await load(admit, 50, 4)
    const keyObject: { concurrency: number; noop: Summary & { rps: number }; admit: Summary & { rps: number }; roundTripP50Ms: number }[] = []
    for (const concurrency of levels) {
      const timed = (task: () => Promise<unknown>) => measure(task, requests, concurrency)
      const noopResult = await timed(noop)
      const admitResult = await timed(admit)
      keyObject.push({ concurrency, noop: noopResult, admit: admitResult, roundTripP50Ms: round(admitResult.p50 - noopResult.p50, 2) })
    }
    // One object's checks per second, driven from inside the runtime (no HTTP client in the way).
    const inside: { n: number; ms: number; admitted: number }[] = []
    for (let run = 0; run < 3; run++) {
      const response = await fetch(`${benchWorker.url}/admit-many?n=3000&concurrency=32`, { method: 'POST', body: admitBody })
      inside.push((await response.json()) as { n: number; ms: number; admitted: number })
    }
    const checksPerSecond = inside.map((run) => round((run.admitted / run.ms) * 1000, 0)).sort((a, b) => a - b)
    const objectChecksPerSecond = checksPerSecond[1]!
    log('')
    log(`one key object, driven from inside the runtime (3 runs of 3000 calls: admission + audit append, 32 in flight): ` +
      `median ${objectChecksPerSecond} requests/s (runs: ${checksPerSecond.join(', ')})`)
    log('the same call (admission + audit append) behind a bare route, over HTTP from the bench client: p50 ms and requests/s')
    for (const r of keyObject) {
      log(`  concurrency ${r.concurrency}: bare route ${round(r.noop.p50, 2)} ms, ${r.noop.rps}/s; ` +
        `with the key object call ${round(r.admit.p50, 2)} ms, ${r.admit.rps}/s; ` +
        `round trip on the request path +${r.roundTripP50Ms} ms at p50`)
    }

    // Audit search over many records: seed D1, then time the `audit search --key K --since --until` query.
    const auditRecords = Number(values['audit-records'])
    let auditSearch: { records: number; bytesPerRecord: number | null; seedSeconds: number; keyAndDayMs: Summary; rows: number } | undefined
    if (auditRecords > 0) {
      const sizeBefore = await d1Size(target.persistTo!)
      const seedStarted = performance.now()
      for (let from = 0; from < auditRecords; from += 50_000) {
        const count = Math.min(50_000, auditRecords - from)
        const response = await fetch(`${benchWorker.url}/audit-seed?from=${from}&count=${count}`, { method: 'POST' })
        if (!response.ok) throw new Error(`audit seed failed: ${await response.text()}`)
      }
      const seedSeconds = round((performance.now() - seedStarted) / 1000, 1)
      const sizeAfter = await d1Size(target.persistTo!)
      const until = Date.now() - 10 * 86_400_000
      const response = await fetch(`${benchWorker.url}/audit-query`, {
        method: 'POST',
        body: JSON.stringify({ keyId: 'key_0000000000000007', since: until - 86_400_000, until, runs: 15 }),
      })
      const { timings, rows } = (await response.json()) as { timings: number[]; rows: number }
      auditSearch = {
        records: auditRecords,
        bytesPerRecord: sizeBefore !== null && sizeAfter !== null ? round((sizeAfter - sizeBefore) / auditRecords, 0) : null,
        seedSeconds,
        keyAndDayMs: summarize(timings.slice(5)),
        rows,
      }
      log('')
      log(`audit search over ${auditRecords} records (one key, one day, limit 100; D1 time inside the runtime): ` +
        `p50 ${round(auditSearch.keyAndDayMs.p50, 2)} ms, p95 ${round(auditSearch.keyAndDayMs.p95, 2)} ms, ${rows} rows; ` +
        `${auditSearch.bytesPerRecord ?? '?'} bytes per record on disk, indexes included (seeded in ${seedSeconds} s)`)
    }

    const policy = await runPolicyMicroBenchmark()
    log('')
    log(`policy check + result filter (50-record page): median ${policy.total} µs per call ` +
      `(authorize ${policy.authorize} µs, filter ${policy.filter50Records} µs; p95 of batch means ${policy.totalP95} µs); ` +
      `version 2 (record filters, pinning, 2 masks): ${policy.version2.total} µs (authorize ${policy.version2.authorize} µs, ` +
      `filter and mask ${policy.version2.filter50Records} µs), ${policy.version2Ratio}× version 1`)

    const workerCpu = await runWorkerCpuBenchmark()
    log('')
    log(`gateway CPU per call, edge Worker + key object (the bundle in Node's V8 under its sampling profiler; object storage, D1 and Odoo in memory): ` +
      `search_records ${round(workerCpu.searchRecordsMicros / 1000, 2)} ms (p95 ${round(workerCpu.searchRecordsP95Micros / 1000, 2)} ms), ` +
      `MCP ping ${round(workerCpu.pingMicros / 1000, 2)} ms, bare route ${round(workerCpu.bareRouteMicros / 1000, 2)} ms`)
    for (const r of workerCpu.largeResults) {
      log(`  ${r.records} records × ${r.fields} fields: ${r.cpuMs} ms CPU, ${r.allocatedMb} MB allocated, ${r.responseKb} KB answer`)
    }

    const report = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
      settings: { simulatedOdooLatencyMs: latencyMs, requestsPerSideAndLevel: requests, workload: { model: 'res.partner', domain: DOMAIN, fields: FIELDS, limit: LIMIT } },
      searchRecords: results.map((r) => ({
        ...r,
        direct: Object.fromEntries(Object.entries(r.direct).map(([k, v]) => [k, round(v)])),
        gateway: Object.fromEntries(Object.entries(r.gateway).map(([k, v]) => [k, round(v)])),
      })),
      references: references.map((r) => ({
        concurrency: r.concurrency,
        bareRoute: Object.fromEntries(Object.entries(r.bareRoute).map(([k, v]) => [k, round(v)])),
        mcpPing: Object.fromEntries(Object.entries(r.mcpPing).map(([k, v]) => [k, round(v)])),
      })),
      auditSearch,
      keyObjectRequestsPerSecond: { median: objectChecksPerSecond, runs: checksPerSecond },
      keyObject: keyObject.map((r) => ({
        concurrency: r.concurrency,
        roundTripP50Ms: r.roundTripP50Ms,
        noop: Object.fromEntries(Object.entries(r.noop).map(([k, v]) => [k, round(v)])),
        admit: Object.fromEntries(Object.entries(r.admit).map(([k, v]) => [k, round(v)])),
      })),
      policyMicroBenchmark: policy,
      odooCallsPerToolCall: odooCalls,
      throughput,
      largePage: { ...large, direct: Object.fromEntries(Object.entries(large.direct).map(([k, v]) => [k, round(v)])), gateway: Object.fromEntries(Object.entries(large.gateway).map(([k, v]) => [k, round(v)])) },
      workerCpu,
      runtime: values.devtools ? 'wrangler dev (DevTools inspector attached)' : "wrangler's startWorker, no DevTools inspector",
    }
    const out = resolve(PROJECT, values.out!)
    await mkdir(dirname(out), { recursive: true })
    await writeFile(out, JSON.stringify(report, null, 2) + '\n')
    log(`\nwritten to ${out}`)
  } finally {
    gateway?.stop()
    benchWorker?.stop()
    await odoo.close()
    await rm(work, { recursive: true, force: true })
  }
}

/**
 * How many calls Odoo receives for one call of each tool, caches warm (server version, uid, fields_get): the simulator
 * counts what it receives, call by call, so nothing is assumed. Each tool is called once to warm its caches, then
 * three times; the figure is the median.
 */
async function countOdooCallsPerTool(gatewayUrl: string, key: string, odoo: { callCount(): number }): Promise<Record<string, number>> {
  let id = 0
  const call = async (name: string, args: Record<string, unknown>) => {
    const response = await fetch(`${gatewayUrl}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' },
      body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method: 'tools/call', params: { name, arguments: args } }),
    })
    const body = (await response.json()) as { result?: { isError?: boolean; structuredContent?: Record<string, unknown> } }
    if (!body.result || body.result.isError) throw new Error(`bench: ${name} failed: ${JSON.stringify(body).slice(0, 300)}`)
    return body.result.structuredContent ?? {}
  }
  const counted = async (name: string, args: () => Promise<Record<string, unknown>> | Record<string, unknown>) => {
    await call(name, await args())
    const counts: number[] = []
    for (let run = 0; run < 3; run++) {
      const prepared = await args()
      const before = odoo.callCount()
      await call(name, prepared)
      counts.push(odoo.callCount() - before)
    }
    return counts.sort((a, b) => a - b)[1]!
  }
  const newPartner = async () => ({ model: 'res.partner', ids: [(await call('create_record', { model: 'res.partner', values: { name: 'Bench' } })).id] })
  const domain = [['is_company', '=', true]]
  return {
    list_models: await counted('list_models', () => ({ search: 'partner' })),
    describe_model: await counted('describe_model', () => ({ model: 'res.partner' })),
    search_records: await counted('search_records', () => ({ model: 'res.partner', domain, fields: ['name'], limit: 20 })),
    'search_records (count_total)': await counted('search_records', () => ({ model: 'res.partner', domain, fields: ['name'], limit: 20, count_total: true })),
    read_records: await counted('read_records', () => ({ model: 'res.partner', ids: [1, 2], fields: ['name'] })),
    count_records: await counted('count_records', () => ({ model: 'res.partner', domain })),
    aggregate_records: await counted('aggregate_records', () => ({ model: 'res.partner', groupby: ['is_company'] })),
    create_record: await counted('create_record', () => ({ model: 'res.partner', values: { name: 'Bench' } })),
    update_records: await counted('update_records', async () => ({ ...(await newPartner()), values: { city: 'Ghent' } })),
    delete_records: await counted('delete_records', newPartner),
  }
}

