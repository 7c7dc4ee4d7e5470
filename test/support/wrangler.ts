/**
 * Running wrangler from Node tests: the project's own wrangler, with telemetry and Cloudflare lookups off, against a
 * local D1 in a directory of the test's choosing (`--persist-to`). Independent of cli/ on purpose, so the CLI tests
 * check the database with other code than the one under test.
 */
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

/** Variables every wrangler started by tests gets; no Cloudflare login exists or is needed. */
export const WRANGLER_ENV = { WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' } as const

export const wranglerBin = join(dirname(createRequire(import.meta.url).resolve('wrangler/package.json')), 'bin', 'wrangler.js')

export interface ProcessResult {
  code: number
  stdout: string
  stderr: string
}

export interface RunOptions {
  cwd?: string
  /** Replaces the inherited environment (WRANGLER_ENV is always added). */
  env?: NodeJS.ProcessEnv
  /** Written to stdin, which is then closed; without it stdin is empty. */
  input?: string
}

/** Runs `node script ...args` and collects its output. */
export function runNode(script: string, args: string[], options: RunOptions = {}): Promise<ProcessResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      cwd: options.cwd ?? projectRoot,
      env: { ...(options.env ?? process.env), ...WRANGLER_ENV, FORCE_COLOR: '0' },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code) => resolvePromise({ code: code ?? 1, stdout, stderr }))
    child.stdin.end(options.input ?? '')
  })
}

export function runWrangler(args: string[], options: RunOptions = {}): Promise<ProcessResult> {
  return runNode(wranglerBin, args, options)
}

export interface LocalD1 {
  /** The wrangler config to use (may be a copy in a temp project directory). */
  configPath: string
  /** Local state directory, wrangler's --persist-to. */
  persistTo: string
}

function d1Args(d1: LocalD1): string[] {
  return ['d1', 'execute', 'DB', '--local', '--json', '--config', d1.configPath, '--persist-to', d1.persistTo]
}

async function checked(result: Promise<ProcessResult>): Promise<string> {
  const { code, stdout, stderr } = await result
  if (code !== 0) throw new Error(`wrangler d1 execute failed (${code}):\n${stdout}\n${stderr}`)
  return stdout
}

/** Applies schema.sql to the local D1 (idempotent). */
export async function applySchema(d1: LocalD1): Promise<void> {
  await checked(runWrangler([...d1Args(d1), '--file', join(projectRoot, 'schema.sql'), '--yes']))
}

/** Rows of the last statement of `sql`. */
export async function queryD1(d1: LocalD1, sql: string): Promise<Record<string, unknown>[]> {
  const output = JSON.parse(await checked(runWrangler([...d1Args(d1), '--command', sql]))) as {
    results: Record<string, unknown>[]
  }[]
  return output.at(-1)?.results ?? []
}
