/**
 * `wrangler dev` as the harnesses run it (`npm run bench`, `npm run test:load`): a given config on a free loopback
 * port, local state in a directory of the caller's choosing, vars passed on the command line (nothing read from a
 * `.dev.vars` the user may have), telemetry and Cloudflare lookups off.
 */
import { spawn } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { WRANGLER_ENV, wranglerBin } from '../../cli/d1'
import { freePort } from './ports'

export type WranglerDev = {
  url: string
  /** wrangler's process: its descendants include the workerd serving the Worker (for CPU accounting). */
  pid: number
  /**
   * Ends wrangler and its workerd (SIGTERM to the process group, SIGKILL 5 s later); the promise resolves once they
   * are gone. (`void |`: other local Worker starters, whose stop() returns nothing, fit the same type.)
   */
  stop(): void | Promise<void>
}

/** How long wrangler gets to exit on SIGTERM before its process group is killed. */
const STOP_GRACE_MS = 5_000

export interface WranglerDevOptions {
  /** Receives wrangler's stdout and stderr (the Worker's console output at --log-level); default: discarded. */
  output?: (chunk: string) => void
  /** wrangler's --log-level; default 'error'. */
  logLevel?: 'error' | 'warn' | 'info' | 'log' | 'debug'
  /** How long to wait for the probe to answer; default 90 s. */
  startTimeoutMs?: number
  /** The loopback port to listen on, for vars that must name it (PUBLIC_URL); default: a free one. */
  port?: number
}

/** Starts `wrangler dev` for a config on a loopback port (free, unless given) and waits until `probe` (e.g. /healthz) answers 2xx. */
export async function startWranglerDev(
  configPath: string,
  persistTo: string,
  vars: Record<string, string>,
  probe: string,
  options: WranglerDevOptions = {},
): Promise<WranglerDev> {
  const port = options.port ?? (await freePort())
  const child = spawn(
    process.execPath,
    [
      wranglerBin(), 'dev', '--config', configPath, '--persist-to', persistTo, '--ip', '127.0.0.1',
      '--port', String(port), '--log-level', options.logLevel ?? 'error', '--show-interactive-dev-session=false',
      ...Object.entries(vars).flatMap(([name, value]) => ['--var', `${name}:${value}`]),
    ],
    {
      cwd: dirname(configPath),
      env: { ...process.env, ...WRANGLER_ENV, FORCE_COLOR: '0' },
      stdio: options.output ? ['ignore', 'pipe', 'pipe'] : 'ignore',
      // Its own process group, so stop() ends wrangler and the workerd it started together.
      detached: true,
    },
  )
  if (options.output) {
    child.stdout!.setEncoding('utf8').on('data', options.output)
    child.stderr!.setEncoding('utf8').on('data', options.output)
  }
  const signal = (name: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, name)
    } catch {
      // already gone
    }
  }
  // If this process ends without stop() (a crash, process.exit), its wrangler must not outlive it.
  const killOnExit = () => signal('SIGKILL')
  process.once('exit', killOnExit)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async () => {
    process.off('exit', killOnExit)
    signal('SIGTERM')
    let timer: NodeJS.Timeout | undefined
    await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_GRACE_MS)))])
    clearTimeout(timer)
    // wrangler can leave workerd behind, or hang on SIGTERM: the whole group goes.
    signal('SIGKILL')
  }
  const url = `http://127.0.0.1:${port}`
  const timeoutMs = options.startTimeoutMs ?? 90_000
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      if ((await fetch(url + probe)).ok) return { url, pid: child.pid!, stop }
    } catch {
      // not up yet
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop()
      throw new Error(`wrangler dev (${configPath}) did not start within ${timeoutMs / 1000} s`)
    }
    await new Promise((r) => setTimeout(r, 250))
  }
}

/**
 * A copy of the gateway's wrangler.toml with only `name` and `main` changed, written to `path`: a harness-only Worker
 * entry (bench/key-object.worker.ts, test/load/load.worker.ts) with the same D1 binding, Durable Object classes,
 * migrations and vars as the gateway.
 */
export async function writeWorkerConfig(projectDir: string, path: string, name: string, main: string): Promise<string> {
  const toml = (await readFile(join(projectDir, 'wrangler.toml'), 'utf8'))
    .replace(/^name = .*$/m, `name = ${JSON.stringify(name)}`)
    .replace(/^main = .*$/m, `main = ${JSON.stringify(main)}`)
  await writeFile(path, toml)
  return path
}
