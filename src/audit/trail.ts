/**
 * What one request leaves in the audit log, filled in as the request passes through the gateway: the audit
 * middleware opens it, authentication adds the key, the MCP layer the method, the tool, the model and what was
 * read or written, and the middleware closes it with the outcome, latency and size, then hands it to the chain.
 */
import { ToolError, type PolicyRefusal } from '../errors'
import type { AuthorizedRequest, ToolRequest } from '../guard/request'
import type { ApiKeyRecord } from '../keys/key-store'
import { OdooError, OdooUnavailableError } from '../odoo/errors'
import { MAX_RECORDED_IDS, newAuditRecord, PROTOCOL_VERSION_FALLBACK, TOOL_OPERATIONS, type AuditOutcome, type AuditQuery, type AuditRecord, type RecordedRefusal } from './record'

/** The hooks a tool call reports through (mcp/tool.ts). */
export interface ToolAudit {
  planned(request: ToolRequest, rawDomain: unknown): void
  authorized(request: AuthorizedRequest): void
  odooTime(ms: number): void
  succeeded(result: Record<string, unknown>, request: AuthorizedRequest): void
  failed(error: unknown): void
  /** The arguments failed the tool's input schema (the edge checked them: mcp/tool-schemas.ts). */
  invalidArguments(): void
}

const MAX_TEXT = 512

/**
 * What client-chosen text may not bring into the log: C0 and C1 control characters (terminal escape sequences reach
 * the operator's screen through `audit search`), and unpaired UTF-16 surrogates (D1 stores them as U+FFFD, so the row
 * would no longer match its chain hash and `audit verify` would report it altered).
 */
const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

/** Client-chosen text, cut to MAX_TEXT (which can split a surrogate pair, too), each unsafe character as U+FFFD. */
export const clip = (text: string | null | undefined): string | null =>
  text == null ? null : text.slice(0, MAX_TEXT).replace(UNSAFE_TEXT, '\ufffd')

/**
 * The query parts of a planned request, each only when present; null when there is none. Client-chosen text (context
 * values, the list_models filter) is made safe like the other text of the record; specs and orders were validated
 * when the request was planned (field names, fixed words).
 */
export function queryOf(request: ToolRequest): AuditQuery | null {
  const query: AuditQuery = {}
  if (request.order?.odoo !== undefined) query.order = request.order.odoo
  if (request.groupby?.length) query.groupby = request.groupby.map((spec) => spec.spec)
  if (request.aggregates?.length) query.aggregates = request.aggregates.map((spec) => spec.spec)
  if (request.context && Object.keys(request.context).length > 0) {
    query.context = Object.fromEntries(
      Object.entries(request.context).map(([key, value]) => [clip(key)!, typeof value === 'string' ? clip(value) : value]),
    )
  }
  if (typeof request.limit === 'number') query.limit = request.limit
  if (typeof request.offset === 'number') query.offset = request.offset
  if (request.countTotal === true) query.countTotal = true
  if (typeof request.search === 'string') query.search = clip(request.search)!
  return Object.keys(query).length > 0 ? query : null
}

/** Field names kept in a refusal (the rest are counted): a hostile call can name thousands. */
export const MAX_REFUSED_FIELDS = 20

/**
 * A refusal as the record carries it to the alert rules: client-chosen names cut and made safe like the record's
 * other text (they end up in alert messages, shown by `alerts list`), at most MAX_REFUSED_FIELDS field names (Odoo's
 * have at most 63 characters), and `fieldCount` when there were more.
 */
export function recordedRefusal(refusal: PolicyRefusal): RecordedRefusal {
  const via = 'via' in refusal && refusal.via !== undefined ? { via: clip(refusal.via)! } : {}
  switch (refusal.kind) {
    case 'model':
      return { kind: 'model', model: clip(refusal.model)!, ...via, ...(refusal.noPolicy ? { noPolicy: true as const } : {}) }
    case 'operation':
      return { kind: 'operation', model: clip(refusal.model)!, operation: clip(refusal.operation)!, ...via }
    case 'field': {
      const fields = refusal.fields.slice(0, MAX_REFUSED_FIELDS).map((field) => clip(field.slice(0, 64))!)
      return {
        kind: 'field',
        model: clip(refusal.model)!,
        fields,
        where: clip(refusal.where)!,
        ...(refusal.fields.length > fields.length ? { fieldCount: refusal.fields.length } : {}),
      }
    }
  }
}

/** Replaces every literal of a domain by "?", keeping its shape (operators, fields, nesting). */
export function redactDomain(domain: unknown): unknown {
  if (!Array.isArray(domain)) return domain
  return domain.map((item) =>
    Array.isArray(item) && item.length === 3 && typeof item[0] === 'string' && typeof item[1] === 'string' ? [item[0], item[1], '?'] : item,
  )
}

/**
 * A record in the making. The edge opens it (constructor) and fills in what it sees; when the request has a key, the
 * record travels with the one call to the key's object, which resumes it (`resume`), adds the key and what the tool
 * call did, and finishes it there. Latency is measured from the record's `time`: from the edge receiving the request
 * to the record being finished.
 */
export class AuditTrail implements ToolAudit {
  private toolOutcomeSet = false

  constructor(input: { requestId: string; ip: string | null; userAgent: string | null; redactDomains: boolean }) {
    this.redactDomains = input.redactDomains
    this.record = newAuditRecord({
      time: Date.now(),
      requestId: input.requestId,
      ip: clip(input.ip),
      userAgent: clip(input.userAgent),
    })
  }

  /** Continues a record the edge opened (gateway/serve.ts, in the key's object). */
  static resume(record: AuditRecord, redactDomains: boolean): AuditTrail {
    const trail = Object.create(AuditTrail.prototype) as AuditTrail
    Object.assign(trail, { record, redactDomains, toolOutcomeSet: false })
    return trail
  }

  readonly record!: AuditRecord
  private readonly redactDomains: boolean

  presentedPrefix(prefix: string): void {
    this.record.keyPrefix = clip(prefix)
  }

  /** Who the request came from: the admitted key, or the one a refusal names (found, but not usable now). */
  key(key: Pick<ApiKeyRecord, 'id' | 'name' | 'prefix' | 'odooLogin'>): void {
    this.record.keyId = key.id
    this.record.keyName = key.name
    this.record.keyPrefix = key.prefix
    this.record.odooUser = key.odooLogin
  }

  /** A refusal or failure decided outside a tool (HTTP layer, JSON-RPC layer). The first one set wins. */
  outcome(outcome: AuditOutcome, code: string): void {
    if (this.record.outcome !== 'ok') return
    this.record.outcome = outcome
    this.record.code = code
  }

  /** A refusal that decides the answer whatever was noted before (the key's admission: gateway/serve.ts). */
  replaceOutcome(outcome: AuditOutcome, code: string): void {
    this.record.outcome = outcome
    this.record.code = code
    delete this.record.refusal
  }

  /**
   * A protocol version negotiation the client recovers from (http/audit.ts decides): the outcome stays `ok`, with
   * the code PROTOCOL_VERSION_FALLBACK, whatever the HTTP status of the answer the client falls back on.
   */
  versionFallback(): void {
    if (this.record.outcome !== 'ok' || this.record.code !== null) return
    this.record.code = PROTOCOL_VERSION_FALLBACK
  }

  /** The answer was a protocol version negotiation: its HTTP status is not a refusal. */
  private get versionNegotiation(): boolean {
    return this.record.outcome === 'ok' && this.record.code === PROTOCOL_VERSION_FALLBACK
  }

  /** The parsed JSON-RPC message: method, MCP clientInfo, and for tools/call the tool name and model. */
  message(message: unknown): void {
    if (!message || typeof message !== 'object') return
    const { method, params } = message as { method?: unknown; params?: Record<string, unknown> }
    if (typeof method === 'string') this.record.method = clip(method)
    // initialize carries it in its params (2025), every 2026-07-28 request in its envelope.
    const meta = params?._meta as Record<string, unknown> | undefined
    const clientInfo = (params?.clientInfo ?? (meta !== null && typeof meta === 'object' ? meta['io.modelcontextprotocol/clientInfo'] : undefined)) as
      | { name?: unknown; version?: unknown }
      | undefined
    if (clientInfo && typeof clientInfo.name === 'string') {
      this.record.clientInfo = clip(`${clientInfo.name}${typeof clientInfo.version === 'string' ? `/${clientInfo.version}` : ''}`)
    }
    if (method === 'tools/call' && typeof params?.name === 'string') {
      this.record.tool = clip(params.name)
      // Own properties only: a tool named "constructor" or "__proto__" would otherwise put a function or an object
      // into the record, which D1 refuses (the chain's outbox would be stuck) or RPC cannot clone (the record lost).
      this.record.operation = Object.hasOwn(TOOL_OPERATIONS, params.name) ? TOOL_OPERATIONS[params.name]! : null
      const args = params.arguments as Record<string, unknown> | undefined
      if (typeof args?.model === 'string') this.record.model = clip(args.model)
    }
  }

  planned(request: ToolRequest, rawDomain: unknown): void {
    this.record.model = request.model
    if (rawDomain !== undefined) this.record.domain = this.redactDomains ? redactDomain(rawDomain) : rawDomain
    // Redaction is for the domain's literals only: the query parts are kept as they are.
    this.record.query = queryOf(request)
    if (request.ids) this.ids(request.ids)
  }

  authorized(request: AuthorizedRequest): void {
    const written = request.values ? Object.keys(request.values) : []
    this.record.fields = [...new Set([...request.readFields, ...written])]
    // The order Odoo actually receives (rebuilt by the guard), in place of the one asked for.
    if (request.odooOrder !== undefined) this.record.query = { ...this.record.query, order: request.odooOrder }
  }

  odooTime(ms: number): void {
    this.record.odooLatencyMs = Math.round((this.record.odooLatencyMs ?? 0) + ms)
  }

  succeeded(result: Record<string, unknown>, request: AuthorizedRequest): void {
    this.toolOutcomeSet = true
    const records = result.records
    if (Array.isArray(records)) {
      this.ids(records.map((record) => (record as { id?: unknown }).id).filter((id): id is number => typeof id === 'number'))
    } else if (typeof result.id === 'number') {
      this.ids([result.id])
    } else if (request.ids) {
      this.ids(request.ids)
    }
  }

  failed(error: unknown): void {
    this.toolOutcomeSet = true
    if (error instanceof ToolError) {
      const first = this.record.outcome === 'ok'
      this.outcome('denied', error.code)
      // Only with the code it explains (the first outcome set wins); read by the alert rules, never stored.
      if (first && error.refusal && error.code === 'policy_denied') this.record.refusal = recordedRefusal(error.refusal)
    } else if (error instanceof OdooError) {
      const name = error.exceptionName
      this.outcome(name === 'AccessError' || name === 'AccessDenied' ? 'denied' : 'error', `odoo_${snake(name)}`)
    } else if (error instanceof OdooUnavailableError) this.outcome('error', 'odoo_unavailable')
    else this.outcome('error', 'internal_error')
  }

  invalidArguments(): void {
    this.toolOutcomeSet = true
    this.outcome('denied', 'invalid_arguments')
  }

  /** Whether a tool call already reported how it ended (the SDK answers bad arguments without calling the tool). */
  get toolReported(): boolean {
    return this.toolOutcomeSet
  }

  finish(status: number, responseBytes: number): AuditRecord {
    this.record.httpStatus = status
    this.record.responseBytes = responseBytes
    this.record.latencyMs = Math.max(0, Date.now() - this.record.time)
    if (status >= 500) this.outcome('error', `http_${status}`)
    else if (status >= 400 && !this.versionNegotiation) this.outcome('denied', `http_${status}`)
    return this.record
  }

  private ids(ids: number[]): void {
    const unique = [...new Set([...this.record.recordIds, ...ids])]
    this.record.recordIdsTruncated ||= unique.length > MAX_RECORDED_IDS
    this.record.recordIds = unique.slice(0, MAX_RECORDED_IDS)
  }
}

const snake = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase()

/** A trail that records nothing, for code paths that run without a request (tests of tools in isolation). */
export const NO_TOOL_AUDIT: ToolAudit = {
  planned() {},
  authorized() {},
  odooTime() {},
  succeeded() {},
  failed() {},
  invalidArguments() {},
}
