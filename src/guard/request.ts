/**
 * The request every tool call is reduced to before anything reaches Odoo. Tools build one from their arguments; the
 * guard checks it (models, operations, fields, filters, ordering, grouping, values) and only then is Odoo called.
 */
import type { ParsedDomain } from '../domain/domain'
import type { AggregateSpec, GroupBySpec, ParsedOrder } from '../domain/query-parts'

/** What a call does to a model; the unit of per-key permissions. */
export type Operation = 'read' | 'create' | 'write' | 'unlink'

/** The only context keys an agent may set (others, like `allowed_company_ids`, change what Odoo lets through). */
export interface OdooContext {
  lang?: string
  tz?: string
  active_test?: boolean
}

export interface ToolRequest {
  tool: string
  model: string
  operation: Operation
  /** Fields the caller wants back; `undefined` means "the default set", never "all fields". */
  fields?: string[]
  domain?: ParsedDomain
  order?: ParsedOrder
  groupby?: GroupBySpec[]
  aggregates?: AggregateSpec[]
  /** Values to create or write. */
  values?: Record<string, unknown>
  ids?: number[]
  context?: OdooContext
  /** Paging of searches and aggregates. */
  limit?: number
  offset?: number
  /** search_records: count every match too (a second Odoo query), instead of only when it is known for free. */
  countTotal?: boolean
  /** Free-text filter of list_models. */
  search?: string
}

/** A request the guard accepted, with the exact field list to ask Odoo for. */
export interface AuthorizedRequest extends ToolRequest {
  /** Explicit list sent to Odoo as `fields` on reads; empty for calls that return no records. */
  readFields: string[]
  /** Relational fields (many2one values, x2many group keys) returned as bare ids: the key may not see the related
   * model's display names. */
  idOnlyFields: string[]
  /**
   * The order clause actually sent to Odoo: for searches, the requested (or the model's default) order rebuilt from
   * fields the key may see, ending with `id`; for aggregates, the group order. `undefined` for calls that do not sort.
   */
  odooOrder?: string
  /**
   * Record filters (policy version 2, guard/record-scope.ts). For read_records, update_records and delete_records
   * on a filtered model: F(model), which the ids must match (ids outside it answer as missing).
   */
  recordFilter?: ParsedDomain
  /** Ids named by the values (many2one, x2many commands) that must be inside their model's record filter. */
  within?: ScopedIds[]
  /** Relational fields (or group keys) into filtered models: their display names shown only for records inside. */
  namesWithin?: { field: string; model: string; filter: unknown[] }[]
}

/** Ids of `model` that must all be inside `filter` (its record filter, resolved). */
export interface ScopedIds {
  model: string
  ids: number[]
  filter: unknown[]
}

export type OdooRecord = Record<string, unknown>
