/**
 * What the benches that drive a running gateway over HTTP share (bench/run.ts, bench/oauth.ts): the `search_records`
 * workload, a closed-loop load generator, and the JSON-RPC POST that fails loudly on any error. A module of its own so
 * that bench/run.ts, which dispatches to the other benches, is not imported back by them.
 */
import { round, summarize, type Summary } from './stats'

/** The workload: res.partner, one domain, 4 fields, a page of 20 records (one Odoo search_read of 21). */
export const DOMAIN = [['is_company', '=', true]]
export const FIELDS = ['name', 'email', 'city', 'country_id']
export const LIMIT = 20

/** The MCP protocol version the benches' clients send. */
const MCP_PROTOCOL_VERSION = '2025-06-18'

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify(body),
  })
  const json = (await response.json()) as { error?: unknown; result?: { isError?: boolean } }
  if (!response.ok || json.error || json.result?.isError) throw new Error(`unexpected answer ${response.status}: ${JSON.stringify(json).slice(0, 300)}`)
  return json
}

/**
 * One `search_records` call of the workload at the gateway's /mcp, with `bearer` as credential: an API key or an
 * OAuth access token, which /mcp takes alike.
 */
export function searchViaGateway(gatewayUrl: string, bearer: string): Promise<unknown> {
  return postJson(
    `${gatewayUrl}/mcp`,
    { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search_records', arguments: { model: 'res.partner', domain: DOMAIN, fields: FIELDS, limit: LIMIT } } },
    { authorization: `Bearer ${bearer}`, 'mcp-protocol-version': MCP_PROTOCOL_VERSION },
  )
}

/** Runs `total` calls of `task` with `concurrency` in flight; returns each call's latency in ms. */
export async function load(task: () => Promise<unknown>, total: number, concurrency: number): Promise<number[]> {
  const latencies: number[] = []
  let started = 0
  async function worker() {
    while (started < total) {
      started++
      const t0 = performance.now()
      await task()
      latencies.push(performance.now() - t0)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return latencies
}

/** Latency summary and requests per second of `total` calls, `concurrency` at a time. */
export async function measure(task: () => Promise<unknown>, total: number, concurrency: number): Promise<Summary & { rps: number }> {
  const t0 = performance.now()
  const samples = await load(task, total, concurrency)
  return { ...summarize(samples), rps: round((total / (performance.now() - t0)) * 1000, 0) }
}
