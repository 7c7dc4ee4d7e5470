/** The harness's side of the load Worker's control routes (test/load/load.worker.ts). */
import { isLostInWrangler } from './traffic'

export interface ChainHead {
  chain: string
  chainId: string | null
  seq: number
  hash: string
  pending: number
}

/** [request_id, chain_id, seq, key_id, outcome, code, http_status, tool, method, latency_ms] */
export type AuditRow = [string, string, number, string | null, string, string | null, number, string | null, string | null, number]

export interface ChainVerification {
  chain: string
  records: number
  headSeq: number
  pending: number
  problems: { kind: string; chainId: string; seq?: number }[]
}

export class LoadControl {
  /** Control calls wrangler dev's proxy lost (see LOST_IN_WRANGLER in traffic.ts) and that were sent again. */
  retries = 0

  constructor(private readonly baseUrl: string) {}

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const response = await fetch(this.baseUrl + path, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      })
      const text = await response.text()
      // Every control call may be repeated (a restart or an outage window set twice is the same event).
      if (attempt < 3 && isLostInWrangler(response.status, response.headers.get('x-request-id'), text)) {
        this.retries++
        continue
      }
      if (!response.ok) throw new Error(`control ${method} ${path}: HTTP ${response.status} ${text.slice(0, 300)}`)
      return JSON.parse(text) as T
    }
  }

  /** D1 fails for the next `ms` milliseconds (for the gateway and its objects; not for the CLI, which uses wrangler). */
  d1Outage(ms: number): Promise<{ until: number }> {
    return this.call('POST', `/__load/d1-outage?ms=${ms}`)
  }

  sharedState(): Promise<{ shared: boolean; worker: number; object: number }> {
    return this.call('GET', '/__load/shared-state')
  }

  restart(kind: 'key' | 'dispatcher', name: string): Promise<{ restarted: boolean; ms: number; error?: string }> {
    return this.call('POST', '/__load/restart', { kind, name })
  }

  async heads(chains: string[]): Promise<ChainHead[]> {
    return (await this.call<{ heads: ChainHead[] }>('POST', '/__load/audit/heads', { chains })).heads
  }

  async auditRows(userAgent: string): Promise<AuditRow[]> {
    return (await this.call<{ rows: AuditRow[] }>('GET', `/__load/audit/rows?ua=${encodeURIComponent(userAgent)}`)).rows
  }

  async verify(chains: string[]): Promise<ChainVerification[]> {
    return (await this.call<{ chains: ChainVerification[] }>('POST', '/__load/audit/verify', { chains })).chains
  }

  async revokedAt(keyId: string): Promise<number | null> {
    return (await this.call<{ revokedAt: number | null }>('GET', `/__load/key?id=${keyId}`)).revokedAt
  }

  webhooks(): Promise<{ statuses: { status: string; n: number }[]; queued: { id: string; pending: number }[] }> {
    return this.call('GET', '/__load/webhooks')
  }
}
