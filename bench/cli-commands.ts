/**
 * The commands `npm run bench:cli` times, and how one is run: `node bin/odoo-mcp.mjs ARGS` as a child process, as a
 * person or a script runs it, wall time from spawn to exit (Node's start and the CLI's on-the-fly bundle included).
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { addressOf, seededKeyId } from './cli-seed'
import { subscriptionId } from './cli-fixtures'

/** Which target a command is held to (docs/PERFORMANCE.md, "CLI"). */
export type TargetKind =
  /** every command: p50 ≤ 0.8 s, p95 ≤ 1.5 s */
  | 'command'
  /** `audit search` with a filter over the whole log: also ≤ 1 s wall, every run */
  | 'search'
  /** `audit verify` of every chain: ≤ 60 s */
  | 'verify-all'
  /** no request at all: what Node's start and the CLI's bundle cost, for reading the others */
  | 'baseline'

export interface CommandSpec {
  label: string
  /** The arguments for run `run` (0 is the warm-up run). */
  args(run: number): string[]
  target: TargetKind
  /** Run at most `heavyRuns` times, warm-up included in the figures. */
  heavy?: boolean
  timeoutMs?: number
  /** `args` are Node's own (no CLI): the baseline of a bare Node start. */
  bareNode?: boolean
  /** Set when the bench could not prepare what the command needs: reported as n/a with this reason. */
  unavailable?: string
}

export interface CommandInputs {
  /** A key made through the admin API before the runs: shown, re-policied, rotated, its history read. */
  targetKey: string | null
  /** One fresh key per run (warm-up included) for `keys revoke`. */
  revokeKeys: string[]
  setupError?: string
  policyFile: string
  secretFile: string
  endTime: number
  keyChains: number
}

const DAY = 86_400_000

export function benchCommands(inputs: CommandInputs): CommandSpec[] {
  const { targetKey, revokeKeys, endTime } = inputs
  const noKey = targetKey === null ? `setup failed: ${inputs.setupError ?? 'no key'}` : undefined
  const key = targetKey ?? 'key_0000000000000000'
  // A seeded key from the middle of the range, and one of the addresses it calls from; times anchored on the seed.
  const k = Math.max(1, Math.ceil(inputs.keyChains / 2))
  const seededKey = seededKeyId(k)
  const lastDay = new Date(endTime - DAY).toISOString()
  const lastWeek = new Date(endTime - 7 * DAY).toISOString()
  const search = (label: string, ...filter: string[]): CommandSpec => ({ label: `audit search ${label}`, args: () => ['audit', 'search', ...filter], target: 'search' })
  return [
    { label: 'node -e 0 (Node start only)', args: () => ['-e', '0'], target: 'baseline', bareNode: true },
    { label: 'odoo-mcp --help (no request)', args: () => ['--help'], target: 'baseline' },
    { label: 'keys list', args: () => ['keys', 'list'], target: 'command' },
    { label: 'keys show', args: () => ['keys', 'show', key], target: 'command', unavailable: noKey },
    {
      label: 'keys create (Odoo check)',
      args: (run) => ['keys', 'create', '--name', `bench create ${run}`, '--odoo-login', 'admin', '--odoo-secret-file', inputs.secretFile, '--policy', inputs.policyFile],
      target: 'command',
    },
    { label: 'keys policy set', args: () => ['keys', 'policy', 'set', key, '--policy', inputs.policyFile], target: 'command', unavailable: noKey },
    { label: 'keys rotate', args: () => ['keys', 'rotate', key, '--grace', '1h'], target: 'command', unavailable: noKey },
    {
      label: 'keys revoke',
      args: (run) => ['keys', 'revoke', revokeKeys[run] ?? key],
      target: 'command',
      unavailable: revokeKeys.length ? undefined : `setup failed: ${inputs.setupError ?? 'no keys to revoke'}`,
    },
    { label: 'keys history', args: () => ['keys', 'history', key], target: 'command', unavailable: noKey },
    { label: 'connectors list', args: () => ['connectors', 'list'], target: 'command' },
    { label: 'connections list', args: () => ['connections', 'list'], target: 'command' },
    { label: 'webhooks list', args: () => ['webhooks', 'list'], target: 'command' },
    { label: 'webhooks deliveries', args: () => ['webhooks', 'deliveries', subscriptionId(1)], target: 'command' },
    { label: 'alerts list', args: () => ['alerts', 'list', '--since', lastWeek], target: 'command' },
    search('--key', '--key', seededKey),
    search('--model', '--model', 'res.partner'),
    search('--record', '--record', 'res.partner:42'),
    search('--ip', '--ip', addressOf(k * 3)),
    search('--outcome', '--outcome', 'denied'),
    search('--since (1 day)', '--since', lastDay),
    { label: 'audit verify --key', args: () => ['audit', 'verify', '--key', seededKey], target: 'command' },
    { label: 'audit verify (all chains)', args: () => ['audit', 'verify'], target: 'verify-all', heavy: true, timeoutMs: 180_000 },
    { label: 'audit export --since (1 day)', args: () => ['audit', 'export', '--since', lastDay], target: 'command' },
  ]
}

export interface RunResult {
  ms: number
  ok: boolean
  /** Why it failed, in one line. */
  reason?: string
  /** The CLI does not know the command (exit 2, "unknown command"): not ported yet. */
  missing?: boolean
  stdoutBytes: number
  /** The start of what it printed on stdout (for the JSON report: does `audit verify` say what it checked?). */
  stdoutHead: string
}

/** First meaningful line of the CLI's error output, shortened. */
function firstLine(text: string): string {
  const line = text.split('\n').map((part) => part.trim()).find((part) => part.length > 0) ?? ''
  const cleaned = line.replace(/^odoo-mcp:\s*/, '')
  return cleaned.length > 110 ? `${cleaned.slice(0, 107)}...` : cleaned
}

/**
 * Runs `node bin/odoo-mcp.mjs ...args` once (`node ...args` when `bareNode`); stdout is counted and dropped, stderr
 * kept for the reason.
 */
export function runCli(projectDir: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number, bareNode = false): Promise<RunResult> {
  return new Promise((resolve) => {
    const started = performance.now()
    const argv = bareNode ? args : [join(projectDir, 'bin', 'odoo-mcp.mjs'), ...args]
    const child = spawn(process.execPath, argv, { cwd: projectDir, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdoutBytes = 0
    let stdoutHead = ''
    let stderr = ''
    let timedOut = false
    child.stdout.on('data', (chunk: Buffer) => {
      if (stdoutBytes < 300) stdoutHead += chunk.subarray(0, 300 - stdoutBytes).toString('utf8')
      stdoutBytes += chunk.length
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < 8192) stderr += chunk
    })
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, timeoutMs)
    child.on('close', (code) => {
      clearTimeout(timer)
      const ms = performance.now() - started
      if (timedOut) return resolve({ ms, ok: false, reason: `timed out after ${Math.round(timeoutMs / 1000)} s`, stdoutBytes, stdoutHead })
      if (code === 0) return resolve({ ms, ok: true, stdoutBytes, stdoutHead })
      const missing = code === 2 && /unknown command/.test(stderr)
      resolve({ ms, ok: false, missing, reason: missing ? 'not in the CLI yet' : `exit ${code}: ${firstLine(stderr) || 'no message'}`, stdoutBytes, stdoutHead })
    })
  })
}
