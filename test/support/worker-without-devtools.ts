/** Starts test/support/worker-without-devtools.mjs in its own process group and waits until `probe` answers. */
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { WRANGLER_ENV } from '../../cli/d1'
import { freePort } from './ports'

export interface LocalWorker {
  url: string
  /** The process whose descendants include the workerd serving the Worker (for CPU accounting). */
  pid: number
  stop(): void
}

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'worker-without-devtools.mjs')

export async function startWorkerWithoutDevTools(configPath: string, persistTo: string, vars: Record<string, string>, probe: string): Promise<LocalWorker> {
  const port = await freePort()
  const child = spawn(process.execPath, [SCRIPT, JSON.stringify({ config: configPath, persistTo, port, vars })], {
    cwd: dirname(configPath),
    env: { ...process.env, ...WRANGLER_ENV, FORCE_COLOR: '0' },
    stdio: 'ignore',
    detached: true,
  })
  const stop = () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGTERM')
    } catch {
      // already gone
    }
  }
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 90_000
  for (;;) {
    try {
      if ((await fetch(url + probe)).ok) return { url, pid: child.pid!, stop }
    } catch {
      // not up yet
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      stop()
      throw new Error(`the local Worker (${configPath}) did not start within 90 s`)
    }
    await new Promise((r) => setTimeout(r, 250))
  }
}
