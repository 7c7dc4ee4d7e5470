// The simulated Odoo served over HTTP on loopback (node:http). Everything else is runtime-neutral: see handler.ts.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { handleOdooRequest } from './handler'
import { createState, resetState } from './state'

export interface SimulatorOptions {
  /** 18: /jsonrpc only (error.code 200), /json/2/* is 404. 19: /json/2 + /jsonrpc (error.code 0) + GET /web/version. */
  version?: 18 | 19
  /** Default 0: an ephemeral port. */
  port?: number
  /** Default 127.0.0.1. */
  host?: string
  /** Fixed delay added before every answer (benchmarks). */
  latencyMs?: number
  /** Enables the /__sim/* control endpoints (tests only). */
  control?: boolean
  /** Database name; default 'mcp_demo'. */
  db?: string
}

export interface RunningSimulator {
  url: string
  port: number
  close(): Promise<void>
  /** Restores the initial demo data. */
  reset(): void
  setLatency(ms: number): void
  /** Calls received since start (every protocol, failed ones included): the bench counts Odoo calls per tool call. */
  callCount(): number
}

const MAX_BODY = 10 * 1024 * 1024

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY) {
        reject(new Error('request body too large'))
        req.destroy()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function headersOf(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value
  }
  return headers
}

export async function startOdooSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const state = createState({
    version: options.version ?? 18,
    control: options.control ?? false,
    latencyMs: options.latencyMs ?? 0,
    ...(options.db !== undefined ? { db: options.db } : {}),
  })
  const host = options.host ?? '127.0.0.1'

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      let body = ''
      try {
        body = await readBody(req)
      } catch {
        res.writeHead(413).end()
        return
      }
      const callsBefore = state.callSeq
      const response = handleOdooRequest(state, {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: headersOf(req),
        body,
      })
      // The login of the Odoo call this request was (control requests log none), while its latency runs.
      const login = state.callSeq > callsBefore ? state.calls[state.calls.length - 1]?.login : null
      if (login) {
        const now = (state.inFlight.get(login) ?? 0) + 1
        state.inFlight.set(login, now)
        state.maxInFlight.set(login, Math.max(now, state.maxInFlight.get(login) ?? 0))
      }
      try {
        // Latency is read after handling so that /__sim/latency applies from the next request on.
        const delay = (login ? state.latencyByLogin.get(login) : undefined) ?? state.latencyMs
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay))
      } finally {
        if (login) state.inFlight.set(login, state.inFlight.get(login)! - 1)
      }
      const payload = Buffer.from(response.body, 'utf8')
      res.writeHead(response.status, { ...response.headers, 'content-length': String(payload.length) })
      res.end(req.method === 'HEAD' ? undefined : payload)
    })()
  })
  // Keep-alive connections must not hold close() forever.
  server.keepAliveTimeout = 5_000

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  const urlHost = host.includes(':') ? `[${host}]` : host

  return {
    url: `http://${urlHost}:${port}`,
    port,
    reset: () => resetState(state),
    setLatency: (ms: number) => {
      state.latencyMs = Math.max(0, ms)
    },
    callCount: () => state.callSeq,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
        server.closeAllConnections()
      }),
  }
}
