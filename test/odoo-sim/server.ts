// PLACEHOLDER: replaced by the real simulator.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
export interface SimulatorOptions { version?: 18 | 19; port?: number; host?: string; latencyMs?: number; control?: boolean; db?: string }
export async function startOdooSimulator(options: SimulatorOptions = {}) {
  const server = createServer((_req, res) => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { server_version: String(options.version ?? 18) } })) })
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return { url: `http://127.0.0.1:${port}`, port, close: () => new Promise<void>((r) => server.close(() => r())) }
}
