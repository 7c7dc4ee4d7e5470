/**
 * The odoo-mcp CLI, run in this process (cli/index.ts `main`, bundled with the harness): key rotation, policy changes
 * and revocation take exactly the operator's path — D1 written through `wrangler d1 execute`, then the signed admin
 * call that makes the running gateway reload the key.
 */
import { Writable } from 'node:stream'
import type { Io } from '../../cli/command'
import { main as cliMain } from '../../cli/index'
import { runClock } from './traffic'

export interface CliTarget {
  configPath: string
  persistTo: string
  gatewayUrl: string
  adminSecret: string
  credentialsKey: string
}

export interface CliResult {
  code: number
  stdout: string
  stderr: string
  /** Run-clock milliseconds when the command started and ended. */
  startedAt: number
  endedAt: number
  /** The CLI's signed calls to the gateway (POST /admin/...), timed: when it told the gateway, and how long that took. */
  adminCalls: { path: string; startedAt: number; endedAt: number; status: number }[]
}

/**
 * Times the CLI's admin calls by watching `fetch` while a command runs (the CLI calls the gateway with the global
 * fetch; nothing else is changed). Commands run one at a time, so the calls seen are the command's own.
 */
async function withAdminCallTimes<T>(calls: CliResult['adminCalls'], work: () => Promise<T>): Promise<T> {
  const original = globalThis.fetch
  globalThis.fetch = async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input))
    if (!url.pathname.startsWith('/admin/')) return original(input, init)
    const startedAt = runClock()
    try {
      const response = await original(input, init)
      calls.push({ path: url.pathname, startedAt, endedAt: runClock(), status: response.status })
      return response
    } catch (error) {
      calls.push({ path: url.pathname, startedAt, endedAt: runClock(), status: 0 })
      throw error
    }
  }
  try {
    return await work()
  } finally {
    globalThis.fetch = original
  }
}

function collector(): { stream: Writable; text: () => string } {
  let text = ''
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      text += chunk.toString()
      done()
    },
  })
  return { stream, text: () => text }
}

export async function runCli(target: CliTarget, args: string[]): Promise<CliResult> {
  const stdout = collector()
  const stderr = collector()
  const io = { stdin: process.stdin, stdout: stdout.stream, stderr: stderr.stream } as unknown as Io
  const env = {
    ...process.env,
    CREDENTIALS_KEY: target.credentialsKey,
    ODOO_MCP_ADMIN_SECRET: target.adminSecret,
    ODOO_MCP_GATEWAY_URL: target.gatewayUrl,
  }
  const startedAt = runClock()
  const adminCalls: CliResult['adminCalls'] = []
  const code = await withAdminCallTimes(adminCalls, () => cliMain([...args, '--config', target.configPath, '--persist-to', target.persistTo], io, env))
  return { code, stdout: stdout.text(), stderr: stderr.text(), startedAt, endedAt: runClock(), adminCalls }
}

/**
 * `wrangler d1 execute --local` opens the SQLite file that the running `wrangler dev` keeps writing (audit batches,
 * webhook deliveries); under load it now and then fails with miniflare's "internal error" (the file is busy). A
 * local-only artefact (deployed D1 is a service), so such a failure is tried again, and counted in the report.
 */
const BUSY = /Failed to parse body as JSON, got: Error: internal error|database is locked|SQLITE_BUSY/
const ATTEMPTS = 6

/** Runs a command that must succeed; its stdout parsed as JSON when it printed JSON. */
export async function runCliOk(target: CliTarget, args: string[]): Promise<CliResult & { json: unknown; busyRetries: number }> {
  let result = await runCli(target, args)
  const startedAt = result.startedAt
  let busyRetries = 0
  while (result.code !== 0 && BUSY.test(result.stderr) && busyRetries < ATTEMPTS - 1) {
    busyRetries++
    await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** busyRetries))
    result = await runCli(target, args)
  }
  if (result.code !== 0) throw new Error(`odoo-mcp ${args.join(' ')} failed (exit ${result.code}): ${result.stderr.trim()}`)
  result = { ...result, startedAt }
  let json: unknown
  try {
    json = JSON.parse(result.stdout)
  } catch {
    json = undefined
  }
  return { ...result, json, busyRetries }
}
