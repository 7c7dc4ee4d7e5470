/**
 * The audit record: one per MCP request, refused ones included. Field names here are the stable names of
 * `odoo-mcp audit search --json` (docs/AUDIT.md); D1 columns are their snake_case forms.
 */

import type { PolicyRefusal } from '../errors'

export type AuditOutcome = 'ok' | 'denied' | 'error'

export interface AuditRecord {
  /** Request start, ms since the epoch (UTC). */
  time: number
  requestId: string
  /** null for requests without a valid key. */
  keyId: string | null
  keyName: string | null
  /** For a key the gateway could not match: the presented display prefix (omk_ + 8), never more of the secret. */
  keyPrefix: string | null
  odooUser: string | null
  ip: string | null
  userAgent: string | null
  /** MCP clientInfo ("name/version") when the request carried it (initialize). */
  clientInfo: string | null
  /** JSON-RPC method: initialize, tools/list, tools/call... */
  method: string | null
  tool: string | null
  model: string | null
  /** search, read, count, aggregate, describe, list, create, update, delete. */
  operation: string | null
  /** Record ids returned or written (capped at MAX_RECORDED_IDS, see recordIdsTruncated). */
  recordIds: number[]
  recordIdsTruncated: boolean
  /** Fields returned or written. */
  fields: string[]
  /** The domain as sent, literal values replaced by "?" when AUDIT_REDACT_DOMAIN_VALUES is on. */
  domain: unknown
  /**
   * The rest of what decided a tool call's answer (order, grouping, aggregates, context, paging); null when the call
   * had none of it (and for requests that are not tool calls). Absent from records written before it existed, which
   * keep verifying (src/audit/chain.ts).
   */
  query?: AuditQuery | null
  outcome: AuditOutcome
  /**
   * Why, for denied and error outcomes: invalid_token, ip_not_allowed, rate_limited, policy, odoo_access_error...
   * On an ok outcome, null, or PROTOCOL_VERSION_FALLBACK.
   */
  code: string | null
  httpStatus: number
  latencyMs: number
  odooLatencyMs: number | null
  responseBytes: number
  /**
   * For a `policy_denied` tool call: what the policy refused (a model, an operation, fields), for the alert rules
   * (src/alerts/rules.ts), which run on the record in the chain's object. Carried there with the record, but not part
   * of the stored record: not hashed (src/audit/chain.ts lists what is), not written to D1, not in `audit search`.
   * Client-chosen names in it are cut and made safe like the record's other text (src/audit/trail.ts).
   */
  refusal?: RecordedRefusal
}

/** A refusal as a record carries it: `fieldCount` when it named more fields than it keeps (MAX_REFUSED_FIELDS). */
export type RecordedRefusal = PolicyRefusal & { fieldCount?: number }

/**
 * What a tool call asked of Odoo besides its domain, each part only when the call had it. Never redacted: with
 * AUDIT_REDACT_DOMAIN_VALUES on, only the domain's literals are replaced (the context holds no business values: only
 * `lang`, `tz` and `active_test` are accepted).
 */
export interface AuditQuery {
  /**
   * The order clause sent to Odoo (`AuthorizedRequest.odooOrder`: the requested or the model's default order rebuilt
   * from visible fields; for aggregates, the group order); for a call refused before it was authorized, the order
   * it asked for.
   */
  order?: string
  /** Group-by specs as Odoo takes them: `partner_id`, `date_order:month`. */
  groupby?: string[]
  /** Aggregate specs: `amount_total:sum`. */
  aggregates?: string[]
  /** The Odoo context the agent sent. */
  context?: Record<string, unknown>
  limit?: number
  offset?: number
  /** search_records asked for the exact total (`count_total: true`: a second Odoo query). */
  countTotal?: true
  /** The text filter of `list_models`. */
  search?: string
}

/** A record as it sits in a chain: its place and the links that make the chain tamper-evident. */
export interface ChainedAuditRecord extends AuditRecord {
  chainId: string
  seq: number
  prevHash: string
  hash: string
}

/**
 * The code of an `ok` record for a protocol version negotiation the client falls back from: a newer client's
 * `server/discover`, or a request with a newer MCP-Protocol-Version than the gateway speaks (src/http/audit.ts).
 * Not an error: the client retries with a version the gateway supports.
 */
export const PROTOCOL_VERSION_FALLBACK = 'protocol_version_fallback'

/** A record with nothing known yet (outcome `ok`, no key, no method), to fill in from `fields`. */
export function newAuditRecord(fields: Partial<AuditRecord> & Pick<AuditRecord, 'time' | 'requestId'>): AuditRecord {
  return {
    keyId: null,
    keyName: null,
    keyPrefix: null,
    odooUser: null,
    ip: null,
    userAgent: null,
    clientInfo: null,
    method: null,
    tool: null,
    model: null,
    operation: null,
    recordIds: [],
    recordIdsTruncated: false,
    fields: [],
    domain: null,
    query: null,
    outcome: 'ok',
    code: null,
    httpStatus: 0,
    latencyMs: 0,
    odooLatencyMs: null,
    responseBytes: 0,
    ...fields,
  }
}

/** Most record ids kept in one record; a 500-record page fits, a bigger write is marked truncated. */
export const MAX_RECORDED_IDS = 1000

/** The hash of "no predecessor": the first record of every chain points at it. */
export const GENESIS_HASH = '0'.repeat(64)

/** Tool name → the operation word of the audit log. */
export const TOOL_OPERATIONS: Record<string, string> = {
  list_models: 'list',
  describe_model: 'describe',
  search_records: 'search',
  read_records: 'read',
  count_records: 'count',
  aggregate_records: 'aggregate',
  create_record: 'create',
  update_records: 'update',
  delete_records: 'delete',
}
