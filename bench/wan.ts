/**
 * `npm run bench -- --wan`: a latency model of wide-area placement. Everything runs on loopback; distance is a fixed
 * delay added to each hop that would cross it:
 *   edge → key object  and  edge → D1   bench/wan.worker.ts delays the edge's calls (EDGE_OBJECT_RTT_MS, EDGE_D1_RTT_MS)
 *   edge → Odoo  and  object → Odoo     one delay proxy each in front of the Odoo simulator (the edge is given the
 *                                       first's address, the objects the second's)
 * and counted, so the figures say how many wide-area round trips one tool call makes, not only how long it takes.
 *
 * It measures `search_records` at concurrency 1 in three placements, for this tree (after: one call from the edge to
 * the key's object, which calls Odoo) and for BEFORE_COMMIT (before: the edge admits at the object, calls Odoo
 * itself, then appends the audit record at the object), checked out in a temporary git worktree.
 */
import { execFile } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { createServer, request, type Server } from 'node:http'
import { cpus, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { executeFile, type D1Target } from '../cli/d1'
import { createKey } from '../cli/keys-store'
import { generateCredentialsKey, importCredentialsKey } from '../src/lib/crypto'
import { startOdooSimulator } from '../test/odoo-sim/server'
import { startWorkerWithoutDevTools } from '../test/support/worker-without-devtools'
import { round, summarize } from './stats'

const PROJECT = resolve(dirname(new URL(import.meta.url).pathname), '..')
/** The last commit whose edge made three hops per tool call: admit at the object, Odoo, audit append at the object. */
const BEFORE_COMMIT = '4f96e7477fef19c7746ea060322e2c64a59ab0ee'
const WARM_UP_CALLS = 5
const MEASURED_CALLS = 30
const SEARCH = { model: 'res.partner', domain: [['is_company', '=', true]], fields: ['name', 'email', 'city', 'country_id'], limit: 20 }

const HOPS = ['edge-object', 'edge-odoo', 'object-odoo', 'edge-d1'] as const
type Hop = (typeof HOPS)[number]
const HOP_LABELS: Record<Hop, string> = { 'edge-object': 'edge→object', 'edge-odoo': 'edge→Odoo', 'object-odoo': 'object→Odoo', 'edge-d1': 'edge→D1' }

interface Placement {
  name: string
  /** The hops that cross the distance between agent and Odoo; the others are local (no delay). */
  far: Hop[]
}

/**
 * The agent's request reaches the edge nearest the agent. D1's primary is taken to sit next to Odoo, so the edge's
 * D1 reads are far whenever the agent is (they happen only on a cold isolate: the key directory's lookup).
 */
const PLACEMENTS: Placement[] = [
  { name: 'agent near Odoo', far: [] },
  { name: 'agent far, object near Odoo (ODOO_REGION)', far: ['edge-object', 'edge-odoo', 'edge-d1'] },
  { name: 'agent far, object near agent (no hint)', far: ['edge-odoo', 'object-odoo', 'edge-d1'] },
]

type Version = 'before' | 'after'

interface Measurement {
  p50: number
  p95: number
  wideAreaRoundTripsPerCall: number
  /** Mean per measured call; whole numbers unless a cache expired or a retry happened mid-run. */
  hopsPerCall: Record<Hop, number>
}

interface DelayProxy {
  url: string
  setDelay(ms: number): void
  forwarded(): number
  close(): Promise<void>
}

/** An HTTP proxy that holds each request for `delay` ms (one round trip over the distance), then forwards it. */
async function startDelayProxy(target: string): Promise<DelayProxy> {
  const upstream = new URL(target)
  let delayMs = 0
  let forwarded = 0
  const server: Server = createServer((incoming, answer) => {
    forwarded++
    const forward = () => {
      const outgoing = request(
        { hostname: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
        (response) => {
          answer.writeHead(response.statusCode ?? 502, response.headers)
          response.pipe(answer)
        },
      )
      outgoing.on('error', () => answer.writeHead(502).end())
      incoming.pipe(outgoing)
    }
    // setTimeout(0) would still add about a millisecond to every near hop.
    if (delayMs > 0) setTimeout(forward, delayMs)
    else forward()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}`,
    setDelay: (ms) => (delayMs = ms),
    forwarded: () => forwarded,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

const git = (...args: string[]) => promisify(execFile)('git', args, { cwd: PROJECT })

interface BeforeTree {
  dir: string
  remove(): Promise<void>
}

/**
 * BEFORE_COMMIT in a detached worktree, with this tree's node_modules and bench/wan.worker.ts (which only imports
 * the gateway's src/index.ts, so it fits the older tree). A string says why it is not available.
 */
async function checkOutBefore(work: string): Promise<BeforeTree | string> {
  try {
    await git('cat-file', '-e', `${BEFORE_COMMIT}^{commit}`)
  } catch {
    return `commit ${BEFORE_COMMIT.slice(0, 7)} is not in this clone (shallow?)`
  }
  const dir = join(work, 'before-tree')
  try {
    await git('worktree', 'add', '--detach', dir, BEFORE_COMMIT)
  } catch (error) {
    return `git worktree add failed: ${String(error).split('\n')[0]}`
  }
  const tree = { dir, remove: () => git('worktree', 'remove', '--force', dir).then(() => undefined) }
  try {
    await symlink(join(PROJECT, 'node_modules'), join(dir, 'node_modules'), 'dir')
    await copyFile(join(PROJECT, 'bench', 'wan.worker.ts'), join(dir, 'bench', 'wan.worker.ts'))
  } catch (error) {
    await tree.remove()
    throw error
  }
  return tree
}

/** The tree's own wrangler.toml (same D1, same objects) with bench/wan.worker.ts as the entry. */
async function wanWorkerConfig(tree: string, work: string): Promise<string> {
  const toml = (await readFile(join(tree, 'wrangler.toml'), 'utf8'))
    .replace(/^name = .*$/m, 'name = "odoo-mcp-edge-wan-bench"')
    .replace(/^main = .*$/m, `main = ${JSON.stringify(join(tree, 'bench', 'wan.worker.ts'))}`)
  const path = join(work, 'wan-worker.toml')
  await writeFile(path, toml)
  return path
}

/** One search_records call; returns the edge's hop counts from X-Bench-Hops. */
async function searchRecords(gatewayUrl: string, key: string, search: typeof SEARCH): Promise<Record<string, number>> {
  const response = await fetch(`${gatewayUrl}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search_records', arguments: search } }),
  })
  const json = (await response.json()) as { error?: unknown; result?: { isError?: boolean } }
  if (!response.ok || json.error || json.result?.isError) throw new Error(`unexpected answer ${response.status}: ${JSON.stringify(json).slice(0, 300)}`)
  const header = response.headers.get('x-bench-hops')
  if (header === null) throw new Error('no X-Bench-Hops header: is bench/wan.worker.ts the entry?')
  return Object.fromEntries(header.split(';').map((pair) => pair.split('=')).map(([name, count]) => [name!, Number(count)]))
}

interface Setup {
  /** The measured call's arguments (with `count_total: true` under --wan-count-total: two Odoo calls). */
  search: typeof SEARCH & { count_total?: true }
  proxies: Record<'edge' | 'object', DelayProxy>
  credentialsKey: string
  rttMs: number
}

/** One version in every placement: its own D1 and key, one Worker start per placement (the edge's delays are vars). */
async function measureVersion(tree: string, work: string, setup: Setup, log: (text: string) => void): Promise<Measurement[]> {
  await mkdir(work, { recursive: true })
  const target: D1Target = { remote: false, configPath: join(tree, 'wrangler.toml'), persistTo: join(work, 'state') }
  await executeFile(target, join(tree, 'schema.sql'))
  const { key } = await createKey(target, await importCredentialsKey(setup.credentialsKey), {
    name: 'wan bench',
    odooLogin: 'admin',
    odooSecret: 'admin',
    policy: JSON.stringify({ version: 1, models: { 'res.partner': { operations: ['read'], fields: '*' } }, rateLimit: { perMinute: 1_000_000 } }),
    expiresAt: null,
    now: Date.now(),
  })
  const config = await wanWorkerConfig(tree, work)
  const results: Measurement[] = []
  for (const placement of PLACEMENTS) {
    const rtt = (hop: Hop) => (placement.far.includes(hop) ? setup.rttMs : 0)
    setup.proxies.edge.setDelay(rtt('edge-odoo'))
    setup.proxies.object.setDelay(rtt('object-odoo'))
    const worker = await startWorkerWithoutDevTools(config, target.persistTo!, {
      ODOO_URL: setup.proxies.object.url,
      EDGE_ODOO_URL: setup.proxies.edge.url,
      EDGE_OBJECT_RTT_MS: String(rtt('edge-object')),
      EDGE_D1_RTT_MS: String(rtt('edge-d1')),
      ODOO_DB: 'mcp_demo',
      ODOO_PROTOCOL: 'jsonrpc',
      CREDENTIALS_KEY: setup.credentialsKey,
    }, '/healthz')
    try {
      // Warm-up: the key directory, the Odoo session's caches (server version, uid, fields_get), the key object.
      for (let call = 0; call < WARM_UP_CALLS; call++) await searchRecords(worker.url, key, setup.search)
      const odooCallsBefore = { edge: setup.proxies.edge.forwarded(), object: setup.proxies.object.forwarded() }
      const totals: Record<Hop, number> = { 'edge-object': 0, 'edge-odoo': 0, 'object-odoo': 0, 'edge-d1': 0 }
      const latencies: number[] = []
      for (let call = 0; call < MEASURED_CALLS; call++) {
        const t0 = performance.now()
        const edgeHops = await searchRecords(worker.url, key, setup.search)
        latencies.push(performance.now() - t0)
        totals['edge-object'] += edgeHops['edge-object'] ?? 0
        totals['edge-d1'] += edgeHops['edge-d1'] ?? 0
      }
      totals['edge-odoo'] = setup.proxies.edge.forwarded() - odooCallsBefore.edge
      totals['object-odoo'] = setup.proxies.object.forwarded() - odooCallsBefore.object
      const hopsPerCall = Object.fromEntries(HOPS.map((hop) => [hop, round(totals[hop] / MEASURED_CALLS)])) as Record<Hop, number>
      const { p50, p95 } = summarize(latencies)
      results.push({
        p50: round(p50, 1),
        p95: round(p95, 1),
        wideAreaRoundTripsPerCall: round(placement.far.reduce((sum, hop) => sum + hopsPerCall[hop], 0)),
        hopsPerCall,
      })
      log(`  ${placement.name}: p50 ${round(p50, 1)} ms`)
    } finally {
      worker.stop()
    }
  }
  return results
}

function printTable(results: Partial<Record<Version, Measurement[]>>, log: (text: string) => void): void {
  const columns = ['placement'.padEnd(42), 'version', ' p50 ms', ' p95 ms', 'wide-area RTs', ...HOPS.map((hop) => HOP_LABELS[hop])]
  log(columns.join(' | '))
  PLACEMENTS.forEach((placement, index) => {
    for (const version of ['before', 'after'] as const) {
      const m = results[version]?.[index]
      if (!m) continue
      // A star marks the hops that are wide-area in this placement.
      const hops = HOPS.map((hop) => `${m.hopsPerCall[hop]}${placement.far.includes(hop) ? '*' : ''}`.padStart(HOP_LABELS[hop].length))
      log([placement.name.padEnd(42), version.padEnd(7), String(m.p50).padStart(7), String(m.p95).padStart(7),
        String(m.wideAreaRoundTripsPerCall).padStart(13), ...hops].join(' | '))
    }
  })
  log('hop counts are per call; * = wide-area in that placement (the round trips counted in "wide-area RTs")')
}

export async function runWanBench(options: { latencyMs: number; rttMs: number; countTotal?: boolean; log: (text: string) => void }): Promise<void> {
  const { latencyMs, rttMs, log } = options
  const search = options.countTotal ? { ...SEARCH, count_total: true as const } : SEARCH
  log(`odoo-mcp-edge WAN model: wide-area round trip ${rttMs} ms, simulated Odoo latency ${latencyMs} ms, ` +
    `search_records${options.countTotal ? ' with count_total (two Odoo calls)' : ''} at concurrency 1, ${MEASURED_CALLS} calls after ${WARM_UP_CALLS} warm-up calls`)
  const odoo = await startOdooSimulator({ version: 18, latencyMs })
  const proxies = { edge: await startDelayProxy(odoo.url), object: await startDelayProxy(odoo.url) }
  const work = await mkdtemp(join(tmpdir(), 'odoo-mcp-wan-'))
  const setup: Setup = { search, proxies, credentialsKey: generateCredentialsKey(), rttMs }
  let before: BeforeTree | string | undefined
  try {
    const results: Partial<Record<Version, Measurement[]>> = {}
    log('after (this tree):')
    results.after = await measureVersion(PROJECT, join(work, 'after'), setup, log)
    before = await checkOutBefore(work)
    if (typeof before === 'string') {
      log(`before: not measured, ${before}; reporting after only`)
    } else {
      log(`before (${BEFORE_COMMIT.slice(0, 7)}):`)
      results.before = await measureVersion(before.dir, join(work, 'before'), setup, log)
    }
    log('')
    printTable(results, log)

    const report = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
      settings: {
        wideAreaRoundTripMs: rttMs,
        simulatedOdooLatencyMs: latencyMs,
        warmUpCalls: WARM_UP_CALLS,
        measuredCalls: MEASURED_CALLS,
        concurrency: 1,
        workload: { tool: 'search_records', ...search },
        before: typeof before === 'string' ? { commit: BEFORE_COMMIT, unavailable: before } : { commit: BEFORE_COMMIT },
      },
      placements: PLACEMENTS.map((placement, index) => ({
        placement: placement.name,
        wideAreaHops: placement.far,
        after: results.after![index],
        before: results.before?.[index] ?? null,
      })),
    }
    const out = join(PROJECT, 'bench-results', 'wan.json')
    await mkdir(dirname(out), { recursive: true })
    await writeFile(out, JSON.stringify(report, null, 2) + '\n')
    log(`\nwritten to ${out}`)
  } finally {
    if (before !== undefined && typeof before !== 'string') await before.remove()
    await proxies.edge.close()
    await proxies.object.close()
    await odoo.close()
    await rm(work, { recursive: true, force: true })
  }
}
