/**
 * `npm run bench:cli`: the wall time of every `odoo-mcp` command against a gateway run the way `npm start` runs it
 * (plain `wrangler dev`, DevTools inspector attached, local D1 and Durable Objects, the simulated Odoo 19 on
 * loopback), with an audit log of 1 000 000 records in 1 000 hash chains and the rest of a busy deployment in D1.
 *
 * Each command runs as a real child process (`node bin/odoo-mcp.mjs ...`, ODOO_MCP_GATEWAY_URL and
 * ODOO_MCP_ADMIN_SECRET set), one at a time, in rounds (every command once per round, so a noisy neighbour on the
 * machine hurts all alike). Round 0 warms up (its time is shown as "first") and tells which commands exist yet:
 * a command the CLI does not know, or that fails, is reported "n/a (reason)" and left out of the later rounds.
 *
 * Targets (issue 16): every command p50 ≤ 0.8 s and p95 ≤ 1.5 s, Node's start included; `audit search` with any
 * filter over 1 000 000 records ≤ 1 s; `audit verify` of 1 000 000 records in 1 000 chains ≤ 60 s.
 *
 * Options: --runs N (timed rounds, default 15), --records N and --chains M (default 1 000 000 and 1 000),
 * --quick (20 000 records in 20 chains, 5 rounds: a smoke run), --verify-runs N (runs of the whole-log verify,
 * default 3), --only TEXT,... (commands whose label contains one of them), --reseed, --json (the report as JSON on
 * stdout), --out FILE (default bench-results/cli.json).
 * The seeded state is cached in .cache/bench-cli/ (bench/cli-state.ts); each run uses a copy of it.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { signAdminRequest } from '../src/admin/signature'
import { startOdooSimulator } from '../test/odoo-sim/server'
import { freePort } from '../test/support/ports'
import { startWranglerDev } from '../test/support/wrangler-dev'
import { benchCommands, runCli, type CommandInputs, type CommandSpec, type RunResult } from './cli-commands'
import { BENCH_POLICY } from './cli-fixtures'
import { formatReport, summarizeCommand, type CommandReport } from './cli-report'
import { copyState, seededState } from './cli-state'

const PROJECT = resolve(dirname(new URL(import.meta.url).pathname), '..')
const QUICK = { records: 20_000, chains: 20, runs: 5 }

/** One signed admin API call, for what the bench prepares outside the timed commands. */
async function adminCall<T>(gateway: string, secret: string, method: string, path: string, body?: unknown): Promise<T> {
  const url = new URL(`${gateway}/admin/v1${path}`)
  const text = body === undefined ? '' : JSON.stringify(body)
  const headers = await signAdminRequest(secret, { method, host: url.host, pathWithQuery: url.pathname + url.search, body: text, actor: 'bench-cli' })
  const response = await fetch(url, { method, headers: { ...headers, ...(text ? { 'content-type': 'application/json' } : {}) }, body: text || undefined })
  const answer = await response.text()
  if (!response.ok) throw new Error(`${method} ${url.pathname}: HTTP ${response.status} ${answer.slice(0, 200)}`)
  return JSON.parse(answer) as T
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string' },
      records: { type: 'string' },
      chains: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'verify-runs': { type: 'string', default: '3' },
      only: { type: 'string' },
      reseed: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      out: { type: 'string', default: 'bench-results/cli.json' },
    },
  })
  const runs = Number(values.runs ?? (values.quick ? QUICK.runs : 15))
  const records = Number(values.records ?? (values.quick ? QUICK.records : 1_000_000))
  const chains = Number(values.chains ?? (values.quick ? QUICK.chains : 1_000))
  const heavyRuns = Number(values['verify-runs'])
  for (const [name, value] of Object.entries({ runs, records, chains, 'verify-runs': heavyRuns })) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`)
  }
  if (chains > records) throw new Error('--chains must not exceed --records')
  // With --json, stdout carries only the report.
  const log = (line: string) => (values.json ? process.stderr : process.stdout).write(`${line}\n`)
  const loadBefore = loadavg()

  log(`odoo-mcp CLI benchmark: ${records.toLocaleString('en')} audit records in ${chains.toLocaleString('en')} chains, ${runs} timed rounds`)
  const state = await seededState({ projectDir: PROJECT, records, chains, reseed: values.reseed, log })
  const seed = {
    reseeded: state.reseeded,
    seconds: state.meta.seedSeconds,
    seededAt: state.meta.seededAt,
    cacheDir: dirname(state.stateDir),
    accessRows: state.meta.accessRows,
    keyChains: state.meta.keyChains,
  }
  log(
    state.reseeded
      ? `seeded in ${seed.seconds} s (schema, rows, record-access rows in key order, indexes): ${state.meta.records.toLocaleString('en')} records, ` +
          `${seed.accessRows.toLocaleString('en')} record-access rows, ${seed.keyChains} key chains + ${chains - seed.keyChains} anon; cached in ${seed.cacheDir}`
      : `reused the seeded state of ${seed.seededAt} from ${seed.cacheDir} (it took ${seed.seconds} s to seed; --reseed seeds again)`,
  )

  const work = await mkdtemp(join(tmpdir(), 'odoo-mcp-bench-cli-'))
  const stateDir = join(work, 'state')
  let stopGateway: (() => void | Promise<void>) | undefined
  const odoo = await startOdooSimulator({ version: 19, host: '127.0.0.1' })
  try {
    const copySeconds = await copyState(state.stateDir, stateDir)
    log(`copied the state for this run in ${copySeconds} s`)
    const port = await freePort()
    const { credentialsKey, adminSecret, endTime } = state.meta
    // The vars `npm start` gives wrangler dev when it runs the demo Odoo (cli/start/main.ts); the secrets it would
    // read from .dev.vars come on the command line instead (they win over .dev.vars), tied to the seeded state.
    const vars = {
      ODOO_URL: odoo.url,
      ODOO_DB: 'mcp_demo',
      CREDENTIALS_KEY: credentialsKey,
      ADMIN_SECRET: adminSecret,
      ALLOWED_ORIGINS: 'http://localhost:6274,http://127.0.0.1:6274',
      WEBHOOK_ALLOW_LOOPBACK: 'true',
      PUBLIC_URL: `http://localhost:${port}`,
    }
    const startedAt = performance.now()
    const gateway = await startWranglerDev(join(PROJECT, 'wrangler.toml'), stateDir, vars, '/healthz', { port, startTimeoutMs: 180_000 })
    stopGateway = gateway.stop
    const gatewayStartSeconds = Math.round((performance.now() - startedAt) / 100) / 10
    log(`gateway: wrangler dev at ${gateway.url} (DevTools inspector attached, as under npm start), simulated Odoo 19 at ${odoo.url}; up in ${gatewayStartSeconds} s`)

    const policyFile = join(work, 'policy.json')
    const secretFile = join(work, 'odoo-secret.txt')
    await writeFile(policyFile, JSON.stringify(BENCH_POLICY, null, 2))
    // The simulator gives every user the API key `odoo-apikey-<login>`.
    await writeFile(secretFile, 'odoo-apikey-admin\n', { mode: 0o600 })
    const inputs: CommandInputs = { targetKey: null, revokeKeys: [], policyFile, secretFile, endTime, keyChains: state.meta.keyChains }
    try {
      const newKey = (name: string) =>
        adminCall<{ id: string }>(gateway.url, adminSecret, 'POST', '/keys', { name, odoo_login: 'admin', odoo_secret: 'odoo-apikey-admin', policy: BENCH_POLICY, verify: false })
      inputs.targetKey = (await newKey('bench target')).id
      for (let run = 0; run <= runs; run++) inputs.revokeKeys.push((await newKey(`bench revoke ${run}`)).id)
    } catch (error) {
      inputs.setupError = (error as Error).message
      log(`setup through the admin API failed (${inputs.setupError}): the key commands that need a prepared key are n/a`)
    }

    const only = values.only?.split(',').map((part) => part.trim()).filter(Boolean)
    const commands = benchCommands(inputs).filter((spec) => !only || spec.target === 'baseline' || only.some((part) => spec.label.includes(part)))
    const env = { ...process.env, ODOO_MCP_GATEWAY_URL: gateway.url, ODOO_MCP_ADMIN_SECRET: adminSecret, ODOO_MCP_ACTOR: 'bench-cli', NO_COLOR: '1' }
    // --persist-to: a command still on `wrangler d1 execute` reads this run's D1 (and shows what it costs).
    const run = (spec: CommandSpec, round: number) =>
      runCli(PROJECT, spec.bareNode ? spec.args(round) : [...spec.args(round), '--persist-to', stateDir], env, spec.timeoutMs ?? 60_000, spec.bareNode)

    const results = new Map<CommandSpec, { first?: RunResult; samples: number[]; failure?: RunResult; outputBytes?: number; outputHead?: string }>(commands.map((spec) => [spec, { samples: [] }]))
    const benchStarted = performance.now()
    for (let round = 0; round <= runs; round++) {
      for (const spec of commands) {
        const entry = results.get(spec)!
        if (spec.unavailable || entry.failure) continue
        if (spec.heavy && round >= heavyRuns) continue
        const result = await run(spec, round)
        if (!result.ok) {
          entry.failure = result
          log(`  ${spec.label}: n/a (${result.reason})`)
          continue
        }
        if (round === 0) entry.first = result
        entry.outputBytes = result.stdoutBytes
        entry.outputHead = result.stdoutHead
        // The warm-up is not a sample, except for the heavy ones, which run too long to repeat many times.
        if (round > 0 || spec.heavy) entry.samples.push(result.ms)
      }
      log(`  round ${round}${round === 0 ? ' (warm-up)' : ''} done, ${Math.round((performance.now() - benchStarted) / 1000)} s`)
    }

    const reports: CommandReport[] = commands.map((spec) => summarizeCommand(spec, results.get(spec)!))
    const report = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadAverageBefore: loadBefore.map((x) => Math.round(x * 100) / 100), loadAverageAfter: loadavg().map((x) => Math.round(x * 100) / 100) },
      settings: { records, chains, runs, verifyRuns: heavyRuns, command: `npm run bench:cli -- ${argv.join(' ')}`.trim() },
      seed: { ...seed, copySeconds },
      gateway: { runtime: 'wrangler dev (DevTools inspector attached, as npm start)', startSeconds: gatewayStartSeconds, odoo: 'simulated Odoo 19 on loopback, no added latency' },
      notes: [
        "Seeded chains have no head in their key objects (the gateway did not write them), so `audit verify` skips the head comparison for them; the chains' hashes are all checked.",
        'Wall time per command from spawn to exit: Node start, loading the CLI bundle (scripts/load-ts.mjs; rebuilt only when a source changed), the signed request(s), printing.',
      ],
      ...formatReport(reports),
    }
    const out = resolve(PROJECT, values.out!)
    await mkdir(dirname(out), { recursive: true })
    await writeFile(out, JSON.stringify(report, null, 2) + '\n')
    if (values.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n')
    else {
      log('')
      log(report.table)
      log('')
      for (const note of report.notes) log(note)
      log(`load average before/after: ${report.machine.loadAverageBefore.join(' ')} / ${report.machine.loadAverageAfter.join(' ')} (${report.machine.cpus} CPUs)`)
      log(`written to ${out}`)
    }
    return 0
  } finally {
    await stopGateway?.()
    await odoo.close()
    await rm(work, { recursive: true, force: true })
  }
}
