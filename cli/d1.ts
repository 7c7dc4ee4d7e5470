/**
 * D1 access through wrangler (`wrangler d1 execute`), the only tool that reaches both the local database of
 * `wrangler dev` and the deployed one with the user's own Cloudflare login. The binding is always `DB`.
 */
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { CliError } from './errors'

export interface D1Target {
  remote: boolean
  /** Absolute path of the wrangler config; wrangler runs in its directory so relative paths in it resolve. */
  configPath: string
  /** Local state directory (wrangler's --persist-to); default: `.wrangler/state` next to the config. */
  persistTo?: string
}

export type Row = Record<string, unknown>

/** Variables every wrangler we start gets: no telemetry, no request to Cloudflare for local work. */
export const WRANGLER_ENV = { WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' } as const

/** wrangler's JS entry in this project's node_modules; run with `node`, so no shell and no `.cmd` shim is involved. */
export function wranglerBin(): string {
  const require = createRequire(import.meta.url)
  let packageJson: string
  try {
    packageJson = require.resolve('wrangler/package.json')
  } catch {
    throw new CliError('wrangler is not installed: run `npm install` in the project directory first.')
  }
  return join(dirname(packageJson), 'bin', 'wrangler.js')
}

export interface WranglerResult {
  code: number
  stdout: string
  stderr: string
}

export function runWrangler(args: string[], cwd: string): Promise<WranglerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [wranglerBin(), ...args], {
      cwd,
      env: { ...process.env, ...WRANGLER_ENV, FORCE_COLOR: '0' },
      // Never let wrangler wait for an answer (login prompt, confirmation): it fails with a message instead.
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }))
  })
}

// ANSI colour codes: wrangler colours its error boxes, which would garble our one-line messages.
const ANSI = new RegExp(String.raw`\u001b\[[0-9;]*[A-Za-z]`, 'g')

/** wrangler's error text without colours, log-file notes and bug-report boilerplate. */
export function cleanWranglerOutput(text: string): string {
  return text
    .replace(ANSI, '')
    .split('\n')
    .filter((line) => !/Logs were written to|If you think this is a bug|workers-sdk\/issues/.test(line))
    .join('\n')
    .replace(/✘\s*\[ERROR\]\s*/g, '')
    .trim()
}

/** The first JSON document in wrangler's stdout (it may print banners before it in some versions). */
function parseJsonOutput(stdout: string): unknown {
  const start = stdout.search(/^[[{]/m)
  if (start < 0) return undefined
  try {
    return JSON.parse(stdout.slice(start))
  } catch {
    return undefined
  }
}

function hintFor(message: string, target: D1Target): string {
  if (/no such table/i.test(message)) {
    const where = target.remote ? '--remote' : `--local${target.persistTo ? ` --persist-to ${target.persistTo}` : ''}`
    return `\nThe schema is not applied: run \`npx wrangler d1 execute DB ${where} --file schema.sql\` (\`npm start\` does it for the local database).`
  }
  if (target.remote && /CLOUDFLARE_API_TOKEN|not logged in|authenticat/i.test(message)) {
    return '\n--remote uses your Cloudflare account: run `npx wrangler login` once, or set CLOUDFLARE_API_TOKEN.'
  }
  return ''
}

function baseArgs(target: D1Target): string[] {
  return [
    'd1',
    'execute',
    'DB',
    target.remote ? '--remote' : '--local',
    '--json',
    '--config',
    target.configPath,
    ...(target.persistTo ? ['--persist-to', target.persistTo] : []),
  ]
}

/**
 * `--local` opens the SQLite file a running `wrangler dev` (npm start) keeps writing; now and then miniflare answers
 * "internal error" while the file is busy. Such a failure is tried again; deployed D1 is a service and never is.
 */
const LOCAL_BUSY = /Failed to parse body as JSON, got: Error: internal error|database is locked|SQLITE_BUSY/
const LOCAL_ATTEMPTS = 5

async function execute(target: D1Target, args: string[]): Promise<Row[][]> {
  let result = await runWrangler([...baseArgs(target), ...args], dirname(target.configPath))
  for (let attempt = 1; !target.remote && result.code !== 0 && attempt < LOCAL_ATTEMPTS; attempt++) {
    if (!LOCAL_BUSY.test(result.stdout + result.stderr)) break
    await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt))
    result = await runWrangler([...baseArgs(target), ...args], dirname(target.configPath))
  }
  const output = parseJsonOutput(result.stdout)
  if (result.code === 0 && Array.isArray(output)) {
    return output.map((statement) => ((statement as { results?: Row[] }).results ?? []) as Row[])
  }
  const jsonError = (output as { error?: { text?: unknown } } | undefined)?.error?.text
  const message =
    typeof jsonError === 'string' && jsonError
      ? jsonError
      : cleanWranglerOutput(result.stderr) || cleanWranglerOutput(result.stdout) || `exit code ${result.code}`
  throw new CliError(`wrangler d1 execute failed: ${message}${hintFor(message, target)}`)
}

/** Runs one or more `;`-separated statements; returns the rows of each statement, in order. */
export function executeSql(target: D1Target, statements: string): Promise<Row[][]> {
  return execute(target, ['--command', statements])
}

/** Runs a .sql file (the schema). */
export async function executeFile(target: D1Target, file: string): Promise<void> {
  await execute(target, ['--file', file, '--yes'])
}
