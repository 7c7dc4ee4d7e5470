/**
 * Validation of the other query parts an agent writes by hand: `order`, `groupby` and aggregates. Each returns the
 * base field names it touches so the policy layer can check them, and a canonical string to send to Odoo, so
 * nothing unvalidated (no SQL fragment, no extra clause) reaches Odoo. Pure.
 */
import { ToolError } from '../errors'

const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/
const MAX_ORDER_TERMS = 10
const MAX_GROUPBY = 5
const MAX_AGGREGATES = 20

export interface OrderTerm {
  field: string
  direction: 'asc' | 'desc'
  nulls?: 'first' | 'last'
}

export interface ParsedOrder {
  terms: OrderTerm[]
  /** Canonical order clause sent to Odoo; `undefined` for the model's default order. */
  odoo: string | undefined
}

/** Parses `"date_order desc, name"`. @throws ToolError (`invalid_order`). */
export function parseOrder(input: string | undefined): ParsedOrder {
  if (input === undefined || input.trim() === '') return { terms: [], odoo: undefined }
  const parts = input.split(',')
  if (parts.length > MAX_ORDER_TERMS) throw new ToolError(`Invalid order: more than ${MAX_ORDER_TERMS} terms`, 'invalid_order')
  const terms = parts.map((part) => {
    const words = part.trim().split(/\s+/)
    const [field, direction = 'asc', nullsWord, nullsWhich] = words
    const valid =
      field !== undefined &&
      FIELD_NAME.test(field) &&
      /^(asc|desc)$/i.test(direction) &&
      words.length <= 4 &&
      (nullsWord === undefined || (/^nulls$/i.test(nullsWord) && /^(first|last)$/i.test(nullsWhich ?? '')))
    if (!valid) {
      throw new ToolError(
        `Invalid order: '${part.trim()}' must be 'field', 'field asc' or 'field desc' (optionally 'nulls first|last')`,
        'invalid_order',
      )
    }
    const term: OrderTerm = { field: field!, direction: direction.toLowerCase() as 'asc' | 'desc' }
    if (nullsWhich) term.nulls = nullsWhich.toLowerCase() as 'first' | 'last'
    return term
  })
  const odoo = terms.map((t) => `${t.field} ${t.direction}${t.nulls ? ` nulls ${t.nulls}` : ''}`).join(', ')
  return { terms, odoo }
}

export const DATE_GRANULARITIES = ['day', 'week', 'month', 'quarter', 'year'] as const

export interface GroupBySpec {
  field: string
  granularity?: (typeof DATE_GRANULARITIES)[number]
  /** `field` or `field:granularity`, as Odoo takes it. */
  spec: string
}

/** Parses `["partner_id", "date_order:month"]`. @throws ToolError (`invalid_groupby`). */
export function parseGroupBy(input: string[]): GroupBySpec[] {
  if (input.length === 0) throw new ToolError('Invalid groupby: name at least one field to group by', 'invalid_groupby')
  if (input.length > MAX_GROUPBY) throw new ToolError(`Invalid groupby: at most ${MAX_GROUPBY} fields`, 'invalid_groupby')
  return input.map((spec) => {
    const [field, granularity, extra] = spec.split(':')
    if (!field || !FIELD_NAME.test(field) || extra !== undefined) {
      throw new ToolError(`Invalid groupby: '${spec}' must be 'field' or 'field:granularity'`, 'invalid_groupby')
    }
    if (granularity !== undefined && !(DATE_GRANULARITIES as readonly string[]).includes(granularity)) {
      throw new ToolError(
        `Invalid groupby: '${spec}' has unknown granularity '${granularity}'; use ${DATE_GRANULARITIES.join(', ')}`,
        'invalid_groupby',
      )
    }
    return granularity
      ? { field, granularity: granularity as GroupBySpec['granularity'], spec }
      : { field, spec }
  })
}

export const AGGREGATE_FUNCTIONS = ['sum', 'avg', 'min', 'max', 'count', 'count_distinct'] as const
export type AggregateFunction = (typeof AGGREGATE_FUNCTIONS)[number]

export interface AggregateSpec {
  field: string
  fn: AggregateFunction
  /** `field:fn`, the key under which the value is returned. */
  spec: string
}

/** Parses `["amount_total:sum"]`. @throws ToolError (`invalid_aggregate`). */
export function parseAggregates(input: string[]): AggregateSpec[] {
  if (input.length > MAX_AGGREGATES) throw new ToolError(`Invalid aggregates: at most ${MAX_AGGREGATES}`, 'invalid_aggregate')
  return input.map((spec) => {
    const [field, fn, extra] = spec.split(':')
    if (!field || !FIELD_NAME.test(field) || !fn || extra !== undefined || !(AGGREGATE_FUNCTIONS as readonly string[]).includes(fn)) {
      throw new ToolError(
        `Invalid aggregate '${spec}': use 'field:function' with function one of ${AGGREGATE_FUNCTIONS.join(', ')}`,
        'invalid_aggregate',
      )
    }
    return { field, fn: fn as AggregateFunction, spec }
  })
}
