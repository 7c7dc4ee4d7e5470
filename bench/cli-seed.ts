/**
 * Synthetic audit log for `npm run bench:cli`: `records` audit records in `chains` valid hash chains, with the variety
 * of real traffic (methods, tools, models, record ids, client addresses, outcomes, times spread over 90 days), so every
 * `audit search` filter has an index to use and finds something, and `audit verify` finds nothing wrong.
 *
 * Hashes are the Worker's (src/audit/chain.ts `canonicalContent`, SHA-256 of `prevHash + "\n" + content`), computed with
 * Node's crypto: WebCrypto's async digest costs ~10× more per record. Everything is drawn from a seeded PRNG, so the
 * same (records, chains, end time) gives the same rows.
 */
import { createHash } from 'node:crypto'
import { canonicalContent } from '../src/audit/chain'
import { GENESIS_HASH, TOOL_OPERATIONS, type AuditQuery, type AuditRecord } from '../src/audit/record'

/** How far back the records reach: inside AUDIT_RETENTION_DAYS (90), so retention would delete none of them. */
export const SPAN_MS = 89 * 86_400_000

/** Unauthenticated requests go to `anon-0` … `anon-3` (src/audit/unauthenticated-object.ts); the rest to keys. */
const ANON_CHAINS = 4

/** Deterministic PRNG (mulberry32): fast, and good enough to spread values. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function weighted<T>(entries: [T, number][]): (r: number) => T {
  const values = entries.map(([value]) => value)
  const total = entries.reduce((sum, [, weight]) => sum + weight, 0)
  let running = 0
  const bounds = entries.map(([, weight]) => (running += weight) / total)
  return (r) => {
    for (let i = 0; i < bounds.length - 1; i++) if (r < bounds[i]!) return values[i]!
    return values[values.length - 1]!
  }
}

/** Models by share of calls, with the largest record id in use and the fields agents ask for. */
const MODELS: [string, number, number, string[]][] = [
  ['res.partner', 30, 20_000, ['name', 'email', 'phone', 'city', 'country_id', 'is_company']],
  ['sale.order', 14, 8_000, ['name', 'partner_id', 'date_order', 'amount_total', 'state']],
  ['account.move', 12, 15_000, ['name', 'partner_id', 'invoice_date', 'amount_total', 'state', 'payment_state']],
  ['product.product', 9, 3_000, ['name', 'default_code', 'list_price', 'qty_available']],
  ['crm.lead', 8, 5_000, ['name', 'partner_id', 'stage_id', 'expected_revenue', 'user_id']],
  ['stock.picking', 5, 6_000, ['name', 'partner_id', 'scheduled_date', 'state']],
  ['project.task', 5, 4_000, ['name', 'project_id', 'user_ids', 'stage_id', 'date_deadline']],
  ['purchase.order', 5, 3_000, ['name', 'partner_id', 'date_order', 'amount_total', 'state']],
  ['account.payment', 3, 6_000, ['name', 'partner_id', 'amount', 'date', 'state']],
  ['hr.employee', 3, 500, ['name', 'job_id', 'department_id', 'work_email']],
  ['res.users', 2, 200, ['name', 'login']],
  ['res.country', 2, 250, ['name', 'code']],
]
const pickModel = weighted(MODELS.map((entry) => [entry, entry[1]]))
const pickMethod = weighted<string>([['tools/call', 86], ['tools/list', 6], ['initialize', 5], ['ping', 3]])
const pickTool = weighted<string>([
  ['search_records', 42], ['read_records', 20], ['count_records', 8], ['aggregate_records', 6], ['describe_model', 5],
  ['list_models', 3], ['create_record', 7], ['update_records', 7], ['delete_records', 2],
])
const pickDenied = weighted<[string, number]>([[['policy_denied', 200], 70], [['rate_limited', 429], 25], [['ip_not_allowed', 403], 5]])
const pickError = weighted<string>([['odoo_access_error', 50], ['odoo_unavailable', 20], ['odoo_timeout', 10], ['invalid_arguments', 20]])
const USER_AGENTS = ['n8n/1.64.0', 'Claude-User/1.0', 'python-httpx/0.27.2', 'node', 'openai-mcp/1.0', 'Make/2026', 'curl/8.5.0']
const CLIENTS = ['claude-ai/0.1.0', 'n8n-mcp-client/1.0.0', 'openai-mcp/1.0.0', 'mcp-inspector/0.22.0', 'python-mcp/1.9.0']

/** The bench's seeded keys: `key_be0c` + 12 hex, so they are easy to tell from keys the bench creates. */
export const seededKeyId = (index: number) => `key_be0c${index.toString(16).padStart(12, '0')}`
export const seededLogin = (index: number) => `agent${index % 50}@example.com`

/** A client address: each key uses a few from a pool; IPv6 for some. */
export function addressOf(n: number): string {
  return n % 10 === 9 ? `2001:db8:${(n % 997).toString(16)}::${(n % 4093).toString(16)}` : `203.0.${(n >> 8) % 256}.${n % 256}`
}

export interface ChainPlan {
  id: string
  /** The seeded key's index, or null for an `anon-N` chain. */
  keyIndex: number | null
  records: number
}

/** Chains and their sizes: `anon-0..3` take 2 % of the records between them, the keys share the rest evenly. */
export function planChains(records: number, chains: number): ChainPlan[] {
  const anon = chains >= 20 ? ANON_CHAINS : 0
  const keys = chains - anon
  const anonRecords = anon ? Math.floor(records * 0.02) : 0
  const plan: ChainPlan[] = []
  for (let k = 0; k < keys; k++) {
    const share = Math.floor((records - anonRecords) / keys) + (k < (records - anonRecords) % keys ? 1 : 0)
    plan.push({ id: seededKeyId(k + 1), keyIndex: k + 1, records: share })
  }
  for (let a = 0; a < anon; a++) {
    plan.push({ id: `anon-${a}`, keyIndex: null, records: Math.floor(anonRecords / anon) + (a < anonRecords % anon ? 1 : 0) })
  }
  return plan
}

/** One stored row: the audit_log columns in schema order, and the audit_record_access rows it implies. */
export interface SeedRow {
  values: (string | number | null)[]
  access: { model: string; recordId: number }[]
}

/** Record ids skewed towards small ones (recent customers, common products), as real access is. */
function recordId(r: () => number, max: number): number {
  return 1 + Math.floor(max * r() ** 3)
}

function idsFor(r: () => number, operation: string, max: number): number[] {
  const count =
    operation === 'search' ? Math.floor(r() * 21) : operation === 'read' ? 1 + Math.floor(r() * 5)
      : operation === 'create' || operation === 'delete' ? 1 : operation === 'update' ? 1 + Math.floor(r() * 3) : 0
  const ids = new Set<number>()
  while (ids.size < count) ids.add(recordId(r, max))
  return [...ids].sort((a, b) => a - b)
}

function recordFor(r: () => number, chain: ChainPlan, time: number, n: number): AuditRecord {
  // No object spread below: V8 builds spread-then-extended literals on a slow path (half the generation time).
  const requestId = `${(n >>> 0).toString(16).padStart(8, '0')}-${Math.floor(r() * 0xffff).toString(16).padStart(4, '0')}-4000-8000-${Math.floor(r() * 2 ** 48).toString(16).padStart(12, '0')}`
  const userAgent = USER_AGENTS[Math.floor(r() * USER_AGENTS.length)]!
  if (chain.keyIndex === null) {
    // Requests without a valid key: refused at the door, recorded with the presented prefix only.
    return {
      time, requestId, userAgent, keyId: null, keyName: null, keyPrefix: r() < 0.7 ? `omk_${Math.floor(r() * 2 ** 40).toString(36).padStart(8, '0').slice(0, 8)}` : null,
      odooUser: null, ip: addressOf(5000 + Math.floor(r() * 300)), clientInfo: null, method: r() < 0.8 ? 'tools/call' : null, tool: null,
      model: null, operation: null, recordIds: [], recordIdsTruncated: false, fields: [], domain: null, query: null,
      outcome: 'denied', code: 'invalid_token', httpStatus: 401, latencyMs: Math.floor(1 + r() * 4), odooLatencyMs: null, responseBytes: 120,
    }
  }
  const k = chain.keyIndex
  const method = pickMethod(r())
  const record: AuditRecord = {
    time, requestId, userAgent, keyId: chain.id, keyName: `bench agent ${k}`, keyPrefix: `omk_${k.toString(36).padStart(8, 'b')}`,
    odooUser: seededLogin(k), ip: addressOf(k * 3 + Math.floor(r() * 3)), clientInfo: method === 'initialize' ? CLIENTS[k % CLIENTS.length]! : null,
    method, tool: null, model: null, operation: null, recordIds: [], recordIdsTruncated: false, fields: [], domain: null, query: null,
    outcome: 'ok', code: null, httpStatus: 200, latencyMs: Math.floor(2 + r() * 8), odooLatencyMs: null, responseBytes: 200 + Math.floor(r() * 2000),
  }
  if (method !== 'tools/call') return record
  const tool = pickTool(r())
  const operation = TOOL_OPERATIONS[tool]!
  const [model, , maxId, fields] = pickModel(r())
  record.tool = tool
  record.operation = operation
  record.model = tool === 'list_models' ? null : model
  const roll = r()
  if (roll < 0.06) {
    const [code, status] = pickDenied(r())
    record.outcome = 'denied'
    record.code = code
    record.httpStatus = status
    return record
  }
  const odooLatencyMs = Math.floor(15 + 300 * r() ** 4)
  record.odooLatencyMs = odooLatencyMs
  record.latencyMs = odooLatencyMs + Math.floor(3 + r() * 10)
  if (roll < 0.08) {
    record.outcome = 'error'
    record.code = pickError(r())
    record.responseBytes = 300
    return record
  }
  if (record.model) {
    record.recordIds = idsFor(r, operation, maxId)
    if (operation === 'search' || operation === 'read' || operation === 'create' || operation === 'update') {
      record.fields = fields.slice(0, 2 + Math.floor(r() * (fields.length - 1)))
    }
    if (operation === 'search' || operation === 'count' || operation === 'aggregate') {
      record.domain = r() < 0.5 ? [[fields[1]!, '=', r() < 0.5 ? true : '?']] : [[fields[0]!, 'ilike', 'a'], [fields[1]!, '!=', false]]
    }
    // About half the calls carry a query part (v2 records), the rest none (v1), as after an upgrade.
    const query: AuditQuery = {}
    if (operation === 'search' && r() < 0.6) Object.assign(query, { order: `${fields[0]} asc, id`, limit: 20 + 20 * Math.floor(r() * 3), offset: 0 })
    if (operation === 'aggregate') Object.assign(query, { groupby: [fields[1]!], aggregates: ['__count'] })
    if (Object.keys(query).length > 0) record.query = query
  } else if (tool === 'list_models') {
    record.query = r() < 0.5 ? { search: 'sale' } : null
  }
  record.responseBytes = 300 + record.recordIds.length * 180 + Math.floor(r() * 400)
  return record
}

function columnsOf(record: AuditRecord, chainId: string, seq: number, prevHash: string, hash: string): (string | number | null)[] {
  return [
    chainId, seq, record.time, record.requestId, record.keyId, record.keyName, record.keyPrefix, record.odooUser, record.ip,
    record.userAgent, record.clientInfo, record.method, record.tool, record.model, record.operation, JSON.stringify(record.recordIds),
    record.recordIdsTruncated ? 1 : 0, JSON.stringify(record.fields), record.domain === null ? null : JSON.stringify(record.domain),
    record.outcome, record.code, record.httpStatus, record.latencyMs, record.odooLatencyMs, record.responseBytes, prevHash, hash,
    record.query ? JSON.stringify(record.query) : null,
  ]
}

/** audit_log's columns, in the order of {@link SeedRow.values}. */
export const AUDIT_COLUMNS = [
  'chain_id', 'seq', 'time', 'request_id', 'key_id', 'key_name', 'key_prefix', 'odoo_user', 'ip', 'user_agent', 'client_info',
  'method', 'tool', 'model', 'operation', 'record_ids', 'record_ids_truncated', 'fields', 'domain', 'outcome', 'code',
  'http_status', 'latency_ms', 'odoo_latency_ms', 'response_bytes', 'prev_hash', 'hash', 'query',
]

/**
 * The rows of one chain, in seq order, with times increasing from `endTime - SPAN_MS` to just before `endTime`.
 * Each chain has its own PRNG stream, so chains can be generated in any order.
 */
export function* chainRows(chain: ChainPlan, chainIndex: number, endTime: number): Generator<SeedRow> {
  const r = prng(0x5eed + chainIndex * 7919)
  const start = endTime - SPAN_MS
  const step = SPAN_MS / Math.max(1, chain.records)
  let prevHash = GENESIS_HASH
  for (let seq = 1; seq <= chain.records; seq++) {
    const time = Math.floor(start + (seq - 1 + r() * 0.9) * step)
    const record = recordFor(r, chain, time, chainIndex * 1_000_003 + seq)
    const hash = createHash('sha256').update(`${prevHash}\n${canonicalContent(chain.id, seq, record)}`).digest('hex')
    const access = record.model && record.recordIds.length ? record.recordIds.map((recordId) => ({ model: record.model!, recordId })) : []
    yield { values: columnsOf(record, chain.id, seq, prevHash, hash), access }
    prevHash = hash
  }
}
