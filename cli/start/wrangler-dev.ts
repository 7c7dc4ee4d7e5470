/** Running `wrangler dev` as a child of `npm start`: port check, start, readiness, shutdown. */
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { constants } from 'node:os'
import { WRANGLER_ENV, wranglerBin } from '../d1'

/** True when nothing listens on host:port (checked by binding it for a moment). */
export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)))
  })
}

export interface WranglerDev {
  child: ChildProcess
  /** Resolves with the exit code to use (128 + signal number when killed by a signal). */
  exited: Promise<number>
  /** Asks wrangler to stop (once); kills its whole process group if it has not stopped after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): void
}

export function startWranglerDev(args: string[], cwd: string): WranglerDev {
  const child = spawn(process.execPath, [wranglerBin(), 'dev', ...args], {
    cwd,
    env: { ...process.env, ...WRANGLER_ENV },
    // Its own process group: a terminal Ctrl-C reaches only us, and we forward it exactly once (npm forwards signals
    // too, and a second SIGINT could make wrangler skip its cleanup).
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  const exited = new Promise<number>((resolve) => {
    child.on('error', () => resolve(1))
    child.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)))
  })
  let stopping = false
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal)
    } catch {
      // already gone
    }
  }
  // If this process dies for any reason, do not leave wrangler and workerd holding the port.
  process.on('exit', () => {
    if (child.exitCode === null && child.signalCode === null) killGroup('SIGKILL')
  })
  return {
    child,
    exited,
    stop(signal = 'SIGINT', graceMs = 10_000) {
      if (stopping || child.exitCode !== null || child.signalCode !== null) return
      stopping = true
      child.kill(signal)
      setTimeout(() => killGroup('SIGKILL'), graceMs).unref()
    },
  }
}

export type Readiness = { ok: true } | { ok: false; detail: string }

/**
 * Polls `url` until it answers 200, the child exits, or time runs out. A server that answers something else keeps
 * being polled for a short while (it may be warming up), then the last answer is reported.
 */
export async function waitUntilReady(url: string, wrangler: WranglerDev, timeoutMs = 90_000): Promise<Readiness> {
  const deadline = Date.now() + timeoutMs
  let exited = false
  void wrangler.exited.then(() => (exited = true))
  let lastAnswer: string | undefined
  let answeredAt: number | undefined
  while (!exited && Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(3000) })
      if (response.status === 200) return { ok: true }
      lastAnswer = `${url} answered ${response.status}: ${(await response.text()).slice(0, 200)}`
      answeredAt ??= Date.now()
      if (Date.now() - answeredAt > 10_000) break
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
  if (exited) return { ok: false, detail: 'wrangler dev exited' }
  return { ok: false, detail: lastAnswer ?? `${url} did not answer within ${Math.round(timeoutMs / 1000)} s` }
}
