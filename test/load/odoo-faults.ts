/**
 * A fault-injecting proxy between the gateway and the simulated Odoo (node:http, loopback). The gateway's ODOO_URL
 * points here; everything passes through to the simulator unchanged, except:
 *
 * - a request whose body carries `__load_fault:<mode>` (the harness puts it in a search domain, which the gateway
 *   forwards to Odoo as is) gets that fault instead of Odoo's answer. Faults are chosen per request, so they run in
 *   the middle of the load without touching any other call;
 * - `refuseConnections()` stops listening and cuts every open connection, so new connections are refused
 *   (ECONNREFUSED) until `acceptConnections()`: a refused connection cannot be chosen per request, it is a window.
 *
 * The simulator itself is not changed: the other test suites rely on it answering like a real Odoo.
 */
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

export const ODOO_FAULTS = ['http_500', 'html_page', 'invalid_json', 'stall', 'trickle'] as const
export type OdooFault = (typeof ODOO_FAULTS)[number]

/** What the harness writes into a domain value to ask for a fault. */
export const FAULT_MARKER = '__load_fault:'

/** How long a stalled or trickling answer is held: far beyond any sane ODOO_TIMEOUT_MS. */
const HOLD_MS = 60_000
/** A trickled answer sends one byte this often, so the connection never looks idle. */
const TRICKLE_EVERY_MS = 100

export interface FaultProxy {
  url: string
  /** Requests that got each fault (a check that the fault was really hit, not answered from a cache). */
  readonly applied: Record<OdooFault | 'passed', number>
  refuseConnections(): Promise<void>
  acceptConnections(): Promise<void>
  close(): Promise<void>
}

/** An Odoo 17-18 JSON-RPC error envelope, served with HTTP 500 as a crashing worker behind a proxy may; `debug` holds a traceback the gateway must not pass on. */
function odooServerError(id: unknown): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id: id ?? null,
    error: {
      code: 200,
      message: 'Odoo Server Error',
      data: {
        name: 'psycopg2.OperationalError',
        message: 'server closed the connection unexpectedly',
        arguments: ['server closed the connection unexpectedly'],
        context: {},
        debug: 'Traceback (most recent call last):\n  File "/opt/odoo/odoo/http.py", line 2127, in __call__\n    LOAD_TEST_SECRET_PATH',
      },
    },
  })
}

/** A werkzeug-style HTML error page, with server details the gateway must not pass on. */
const HTML_ERROR_PAGE =
  '<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n' +
  '<p>The server encountered an internal error. LOAD_TEST_SECRET_PATH /opt/odoo/odoo/http.py</p>\n'

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

function requestId(body: string): unknown {
  try {
    return (JSON.parse(body) as { id?: unknown }).id
  } catch {
    return null
  }
}

export async function startFaultProxy(upstreamUrl: string): Promise<FaultProxy> {
  const upstream = new URL(upstreamUrl)
  const agent = new Agent({ keepAlive: true, maxSockets: 128 })
  const applied: FaultProxy['applied'] = { passed: 0, http_500: 0, html_page: 0, invalid_json: 0, stall: 0, trickle: 0 }
  const sockets = new Set<Socket>()
  const timers = new Set<NodeJS.Timeout>()

  function hold(res: ServerResponse, tick?: () => void): void {
    const end = setTimeout(() => {
      cleanup()
      res.destroy()
    }, HOLD_MS)
    const every = tick ? setInterval(tick, TRICKLE_EVERY_MS) : undefined
    const cleanup = () => {
      clearTimeout(end)
      timers.delete(end)
      if (every) {
        clearInterval(every)
        timers.delete(every)
      }
    }
    timers.add(end)
    if (every) timers.add(every)
    // The gateway gives up at its timeout and closes the connection: stop there.
    res.on('close', cleanup)
  }

  function fault(mode: OdooFault, body: string, res: ServerResponse): void {
    applied[mode]++
    switch (mode) {
      case 'http_500': {
        const payload = odooServerError(requestId(body))
        res.writeHead(500, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }).end(payload)
        return
      }
      case 'html_page':
        res.writeHead(500, { 'content-type': 'text/html; charset=utf-8' }).end(HTML_ERROR_PAGE)
        return
      case 'invalid_json':
        // Cut mid-record, as a proxy timing out mid-body would.
        res.writeHead(200, { 'content-type': 'application/json' }).end(`{"jsonrpc": "2.0", "id": ${JSON.stringify(requestId(body))}, "result": [{"id": 1, "name": "Az`)
        return
      case 'stall':
        // Nothing at all, not even headers.
        hold(res)
        return
      case 'trickle':
        // Headers at once, then a byte of JSON whitespace every 100 ms: each read makes progress, the whole never ends.
        res.writeHead(200, { 'content-type': 'application/json' })
        res.write(`{"jsonrpc": "2.0", "id": ${JSON.stringify(requestId(body))}, "result": `)
        hold(res, () => res.write(' '))
        return
    }
  }

  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req)
      const text = body.toString('utf8')
      const marker = text.indexOf(FAULT_MARKER)
      if (marker >= 0) {
        const mode = /^[a-z_0-9]+/.exec(text.slice(marker + FAULT_MARKER.length))?.[0] as OdooFault | undefined
        if (mode && (ODOO_FAULTS as readonly string[]).includes(mode)) return fault(mode, text, res)
      }
      applied.passed++
      const send = (retry: boolean) => {
        const forward = httpRequest(
          { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host }, agent },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers)
            answer.pipe(res)
          },
        )
        // A kept-alive socket the simulator closed as it was reused (its keep-alive timeout is 5 s): the request
        // never reached it, so it is sent again on a fresh socket, as HTTP clients do (Node's documented pattern).
        forward.on('error', () => (retry && forward.reusedSocket ? send(false) : res.destroy()))
        forward.end(body)
      }
      send(true)
    })().catch(() => res.destroy())
  })
  // Never close an idle connection from this side: workerd pools them, and one closed just as workerd reuses it
  // fails the gateway's call with "connection failed". That race exists with any server, but how often it strikes
  // here would measure this proxy's timeout, not the gateway. workerd closes its own idle connections; close() cuts
  // the rest.
  server.keepAliveTimeout = 0
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
  const stopListening = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve())
      // Keep-alive connections would otherwise go on serving the gateway.
      for (const socket of sockets) socket.destroy()
    })

  await listen(0)
  const port = (server.address() as AddressInfo).port
  let listening = true

  return {
    url: `http://127.0.0.1:${port}`,
    applied,
    async refuseConnections() {
      if (!listening) return
      listening = false
      await stopListening()
    },
    async acceptConnections() {
      if (listening) return
      // The same port: ODOO_URL cannot change under a running gateway. Nothing else takes a loopback port this fast.
      await listen(port)
      listening = true
    },
    async close() {
      for (const timer of timers) clearTimeout(timer)
      if (listening) await stopListening()
      listening = false
      agent.destroy()
    },
  }
}
