/**
 * The agents' side of the load: MCP `tools/call` requests over plain HTTP (what an MCP client sends to a stateless
 * Streamable HTTP server), the call mix, and the drivers that keep N calls of one key in flight.
 *
 * Every answer is classified and kept (10 000 small records), with its X-Request-Id, so the checks can ask the
 * audit log for each one by id afterwards.
 */

import { Agent, request } from 'node:http'

/** A call that takes longer than this counts as unanswered (the gateway's own limits are far shorter). */
const CALL_TIMEOUT_MS = 30_000

/**
 * node:http with keep-alive rather than fetch: the harness shares two cores with wrangler and workerd, and undici's
 * fetch costs about twice the CPU per request.
 */
const agent = new Agent({ keepAlive: true, maxSockets: 256 })

function post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number; requestId: string | null; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => {
        const requestId = res.headers['x-request-id']
        resolve({ status: res.statusCode ?? 0, requestId: typeof requestId === 'string' ? requestId : null, text: Buffer.concat(chunks).toString('utf8') })
      })
      res.on('error', reject)
    })
    req.setTimeout(CALL_TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${CALL_TIMEOUT_MS} ms`)))
    req.on('error', reject)
    req.end(body)
  })
}

/**
 * The code given to wrangler dev's own 503 "Your worker restarted mid-request": its proxy lost the connection to the
 * Worker without any reload, and the Worker never finished the request (no X-Request-Id, no audit record). Seen a
 * few times per run locally, nearly always on webhook posts, which query D1 on their path, and also with no fault
 * injected while only the CLI's `wrangler d1 execute` wrote the D1 file. Reported as a warning, apart from the
 * gateway's own answers.
 */
export const LOST_IN_WRANGLER = 'lost_in_wrangler_dev_proxy'

export const isLostInWrangler = (status: number, requestId: string | null, body: string) =>
  status === 503 && !requestId && body.startsWith('Your worker restarted mid-request')

export type AnswerKind = 'ok' | 'tool_error' | 'rate_limited' | 'http_error' | 'jsonrpc_error' | 'no_answer'

export interface Answer {
  status: number
  requestId: string | null
  kind: AnswerKind
  /** The error code of an HTTP error body (`invalid_token`...), or the JSON-RPC error code. */
  code: string | null
  /** The tool's text for tool errors, the message for other errors; empty for successes. */
  text: string
  /** Milliseconds since the run started. */
  sentAt: number
  ms: number
}

export interface ToolCall {
  tool: string
  arguments: Record<string, unknown>
  expect: 'ok' | 'tool_error'
  /** What the tool error must say (tool errors on purpose). */
  expectText?: RegExp
}

export interface CallRecord extends Answer {
  /** Label of the key (`traffic-03`, `limited-1`...). */
  key: string
  call: ToolCall
  /** Which secret of a rotated key was used. */
  secret?: 'old' | 'new'
}

export const runClock = (() => {
  const t0 = performance.now()
  return () => Math.round((performance.now() - t0) * 10) / 10
})()

export interface McpTarget {
  baseUrl: string
  userAgent: string
}

let rpcId = 0

export async function callTool(target: McpTarget, apiKey: string, call: ToolCall): Promise<Answer> {
  const sentAt = runClock()
  const answer = (fields: Omit<Answer, 'sentAt' | 'ms'>): Answer => ({ ...fields, sentAt, ms: Math.round((runClock() - sentAt) * 10) / 10 })
  let response: Awaited<ReturnType<typeof post>>
  try {
    response = await post(
      `${target.baseUrl}/mcp`,
      {
        authorization: `Bearer ${apiKey}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-06-18',
        'user-agent': target.userAgent,
      },
      JSON.stringify({ jsonrpc: '2.0', id: ++rpcId, method: 'tools/call', params: { name: call.tool, arguments: call.arguments } }),
    )
  } catch (error) {
    return answer({ status: 0, requestId: null, kind: 'no_answer', code: null, text: String(error) })
  }
  const { requestId, text: raw } = response
  let json: { error?: unknown; message?: unknown; result?: { isError?: boolean; content?: { text?: string }[] } } | undefined
  try {
    json = JSON.parse(raw) as typeof json
  } catch {
    json = undefined
  }
  const status = response.status
  if (status === 429) {
    const error = json?.error as { code?: number; message?: string } | undefined
    return answer({ status, requestId, kind: 'rate_limited', code: String(error?.code ?? ''), text: error?.message ?? '' })
  }
  if (status !== 200 || !json) {
    const code = isLostInWrangler(status, requestId, raw) ? LOST_IN_WRANGLER : typeof json?.error === 'string' ? json.error : null
    return answer({ status, requestId, kind: 'http_error', code, text: typeof json?.message === 'string' ? json.message : raw.slice(0, 300) })
  }
  if (json.error) {
    const error = json.error as { code?: number; message?: string }
    return answer({ status, requestId, kind: 'jsonrpc_error', code: String(error.code ?? ''), text: error.message ?? '' })
  }
  if (json.result?.isError) {
    return answer({ status, requestId, kind: 'tool_error', code: null, text: json.result.content?.map((part) => part.text ?? '').join('') ?? '' })
  }
  return answer({ status, requestId, kind: 'ok', code: null, text: '' })
}

/** Did the call end as it should? (A tool error on purpose must be that error; anything else must succeed.) */
export function asExpected(record: CallRecord): boolean {
  if (record.call.expect === 'ok') return record.kind === 'ok'
  return record.kind === 'tool_error' && (!record.call.expectText || record.call.expectText.test(record.text))
}

// ---------------------------------------------------------------------------------------------------------------
// The call mix

export const PARTNER_FIELDS = ['name', 'city', 'country_id', 'is_company', 'email']
export const ORDER_FIELDS = ['name', 'state', 'amount_total', 'partner_id', 'date_order']

/** The models and fields the traffic keys may read; `rateLimit` is set per key. */
export function trafficPolicy(rateLimit: { perMinute: number; burst?: number }, extraPartnerFields: string[] = []) {
  return {
    version: 1,
    models: {
      'res.partner': { operations: ['read'], fields: [...PARTNER_FIELDS, ...extraPartnerFields] },
      'sale.order': { operations: ['read'], fields: ORDER_FIELDS },
      'res.country': { operations: ['read'], fields: ['name', 'code'] },
    },
    rateLimit,
  }
}

/**
 * The n-th call of the traffic: mostly reads on allowed models (search, read by id, count), and one in ten a tool
 * error on purpose (a field or a model the policy does not allow), which must come back as that error.
 */
export function trafficCall(n: number): ToolCall {
  switch (n % 10) {
    case 0:
      return n % 20 === 0
        ? { tool: 'search_records', arguments: { model: 'res.partner', fields: ['name', 'phone'], limit: 5 }, expect: 'tool_error', expectText: /'phone' of model 'res\.partner' is not allowed/ }
        : { tool: 'count_records', arguments: { model: 'res.users', domain: [] }, expect: 'tool_error', expectText: /Model 'res\.users' is not allowed/ }
    case 1:
    case 4:
    case 7:
      return { tool: 'search_records', arguments: { model: 'res.partner', domain: [['is_company', '=', true]], fields: ['name', 'city', 'country_id'], limit: 10 }, expect: 'ok' }
    case 2:
    case 8:
      return { tool: 'read_records', arguments: { model: 'res.partner', ids: [1 + (n % 7), 2 + (n % 7), 3 + (n % 7)], fields: ['name', 'email'] }, expect: 'ok' }
    case 3:
    case 6:
      return { tool: 'count_records', arguments: { model: 'sale.order', domain: [['state', 'in', ['sale', 'done']]] }, expect: 'ok' }
    default:
      return { tool: 'search_records', arguments: { model: 'sale.order', fields: ORDER_FIELDS, limit: 5 }, expect: 'ok' }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Drivers

/** Hands out call numbers up to a total, no faster than `perSecond` (measured from the first call). */
export class CallQuota {
  private issued = 0
  private started: number | undefined
  constructor(
    readonly total: number,
    private readonly perSecond: number,
  ) {}

  get count(): number {
    return this.issued
  }

  /** The next call number, once its time has come; undefined when the quota is used up. */
  async next(): Promise<number | undefined> {
    if (this.issued >= this.total) return undefined
    const n = this.issued++
    this.started ??= runClock()
    const due = this.started + (n * 1000) / this.perSecond
    const wait = due - runClock()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    return n
  }
}

export interface KeyDriverOptions {
  label: string
  /** The current secret; a rotation replaces it while the driver runs. */
  secret: () => { key: string; which?: 'old' | 'new' }
  concurrency: number
  quota: CallQuota
  call: (n: number) => ToolCall
  target: McpTarget
  records: CallRecord[]
  /** Stop early (a revoked key's poller). */
  stop?: () => boolean
}

/** Keeps `concurrency` calls of one key in flight until its quota is used up. */
export async function driveKey(options: KeyDriverOptions): Promise<void> {
  async function worker() {
    for (;;) {
      if (options.stop?.()) return
      const n = await options.quota.next()
      if (n === undefined) return
      const call = options.call(n)
      const secret = options.secret()
      const answer = await callTool(options.target, secret.key, call)
      options.records.push({ ...answer, key: options.label, call, ...(secret.which ? { secret: secret.which } : {}) })
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, worker))
}

/** Several keys drawing from one quota: each key gets calls in proportion to how many it keeps in flight. */
export function sharedQuotaDrivers(keys: Omit<KeyDriverOptions, 'quota'>[], quota: CallQuota): Promise<void>[] {
  return keys.map((key) => driveKey({ ...key, quota }))
}
