// read_group (Odoo 18; still served by 19, deprecated) and formatted_read_group (19), after Odoo's BaseModel
// read_group / _read_group / _read_group_groupby / _read_group_select / _read_group_orderby / _read_group_fill_results
// / _read_group_format_result (odoo/models.py in 18, odoo/orm/models.py in 19) and web's formatted_read_group
// (addons/web/models/models.py in 19): grouping by fields (dates by hour/day/week/month/quarter/year; a many2many gives
// one group per related record), aggregates, group order (groupby terms, many2one by the comodel's _order, aggregate
// specs such as 'amount_total:sum desc'), __domain / __extra_domain, and Odoo's ValueError messages.
import { andDomains, compileDomain, mentionsField, type DomainJson, type Predicate } from '../domain'
import { OdooError, valueError } from '../errors'
import type { RuntimeField, RuntimeModel } from '../models'
import { pyRepr } from '../python'
import { PyFloat, type Json, type Out, type OutObject, type StoredRecord, type StoredValue } from '../types'
import type { Env } from './env'
import {
  checkAcl,
  checkFieldToSql,
  compareKeys,
  hasColumn,
  NUMBER_GRANULARITIES,
  ranks,
  relatedTarget,
  rulePredicate,
  searchRecords,
  type SortKey,
} from './search'

const GRANULARITIES = ['hour', 'day', 'week', 'month', 'quarter', 'year'] as const
type Granularity = (typeof GRANULARITIES)[number]
/** READ_GROUP_AGGREGATE (19 adds array_agg_distinct; 'sum_currency' is handled apart). */
const AGGREGATES_18 = new Set([
  'sum',
  'avg',
  'max',
  'min',
  'bool_and',
  'bool_or',
  'array_agg',
  'recordset',
  'count',
  'count_distinct',
])
const AGGREGATES_19 = new Set([...AGGREGATES_18, 'array_agg_distinct'])
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
]

/** Python's `\w` (str patterns): letters, digits, underscore. */
const W = '[\\p{L}\\p{N}_]'
/** regex_read_group_spec: 18 `(\w+)(\.(\w+))?(?::(\w+))?$`, 19 `(\w+)(\.([\w\.]+))?(?::(\w+))?$` (re.match). */
const READ_GROUP_SPEC: Record<18 | 19, RegExp> = {
  18: new RegExp(`^(${W}+)(\\.(${W}+))?(?::(${W}+))?$`, 'u'),
  19: new RegExp(`^(${W}+)(\\.([\\p{L}\\p{N}_.]+))?(?::(${W}+))?$`, 'u'),
}
/** regex_field_agg, used with re.match (anchored at the start only): 'field', 'field:agg', 'name:agg(field)'. */
const FIELD_AGG = new RegExp(`^(${W}+)(?::(${W}+)(?:\\((${W}+)\\))?)?`, 'u')
/** One part of a read_group order: 18 applies regex_order to it, 19 regex_order_part_read_group.fullmatch. */
const ORDER_PART: Record<18 | 19, RegExp> = {
  18: /^\s*(?<term>(?:[a-z0-9_]+|"[a-z0-9_]+")(?:\.[a-z0-9_]+)?(?::[a-z_]+)?)(?:\s+(?<direction>desc|asc))?(?:\s+(?<nulls>nulls first|nulls last))?\s*$/i,
  19: /^\s*(?<term>[a-z0-9_]+(?:\.[\p{L}\p{N}_.]+)?(?::[a-z_]+)?)(?:\s+(?<direction>desc|asc))?(?:\s+(?<nulls>nulls first|nulls last))?\s*$/iu,
}

interface GroupSpec {
  /** The groupby spec Odoo's _read_group gets (read_group: 'date_order' becomes 'date_order:month'). */
  spec: string
  /** Key of the value in the answer: the spec as the caller wrote it. */
  key: string
  field: RuntimeField
  granularity: Granularity | null
}

interface AggSpec {
  /** Key of the value in the answer ('amount_total' in read_group, 'amount_total:sum' in formatted_read_group). */
  key: string
  /** The aggregate spec ('field:func', or '__count'). */
  spec: string
  field: RuntimeField | null
  func: string
}

/** A group value: an id, a scalar, a date bucket start, or false (NULL). */
type GroupValue = StoredValue

interface Group {
  values: GroupValue[]
  records: StoredRecord[]
}

interface GroupOrderTerm {
  key: (group: Group) => SortKey
  desc: boolean
  nulls: 'first' | 'last' | null
}

const isTemporal = (field: RuntimeField) => field.type === 'date' || field.type === 'datetime'
const isRelational = (field: RuntimeField) =>
  field.type === 'many2one' || field.type === 'one2many' || field.type === 'many2many'

/** Python truthiness of a JSON value. */
function truthy(value: Json | undefined): boolean {
  if (value === undefined) return true
  if (value === null || value === false || value === 0 || value === '') return false
  if (Array.isArray(value)) return value.length > 0
  return typeof value === 'object' ? Object.keys(value).length > 0 : true
}

/** parse_read_group_spec: (field name, path or property, granularity or aggregate). */
function parseReadGroupSpec(env: Env, spec: string): { fname: string; path: string | null; func: string | null } {
  const match = READ_GROUP_SPEC[env.version].exec(spec)
  if (!match) {
    throw valueError(
      `Invalid aggregate/groupby specification ${pyRepr(spec)}.\n` +
        '- Valid aggregate specification looks like "<field_name>:<agg>" example: "quantity:sum".\n' +
        '- Valid groupby specification looks like "<no_datish_field_name>" or "<datish_field_name>:<granularity>" ' +
        'example: "date:month" or "<properties_field_name>.<property>:<granularity>".',
      'value',
    )
  }
  return { fname: match[1] ?? '', path: match[3] ?? null, func: match[4] ?? null }
}

function invalidField(model: RuntimeModel, name: string) {
  return valueError(`Invalid field ${pyRepr(name)} on model ${pyRepr(model.name)}`, 'fields')
}

/** _read_group_groupby: the checks Odoo makes on one groupby spec (version by version). */
function groupbyTerm(env: Env, model: RuntimeModel, spec: string, key: string): GroupSpec {
  const { fname, path, func } = parseReadGroupSpec(env, spec)
  const field = model.field(fname)
  if (!field) throw invalidField(model, fname)
  if (path !== null) {
    if (env.version === 18) throw valueError(`Property access on non-property field: ${pyRepr(spec)}`, 'value')
    if (field.type !== 'many2one') {
      throw valueError(`Only many2one path is accepted for the ${pyRepr(spec)} groupby spec`, 'value')
    }
    // Odoo 19 groups by the comodel's field (LEFT JOIN); not simulated.
    throw valueError(`The simulator does not group by a many2one path (${pyRepr(spec)})`, 'value')
  }
  if (func !== null && !isTemporal(field)) {
    throw valueError(`Granularity set on a no-datetime field or property: ${pyRepr(spec)}`, 'value')
  }
  if (field.type === 'many2many') {
    // A many2many is grouped through its relation table (no _field_to_sql, hence no field access check).
    const stored = field.store !== false || field.inverseName !== undefined || field.related !== undefined
    if (!stored) throw valueError(`Group by non-stored many2many field: ${pyRepr(spec)}`, 'value')
    return { spec, key, field, granularity: null }
  }
  checkFieldToSql(env, model, field, null, { label: model.name, site: 'value' })
  if (!isTemporal(field)) return { spec, key, field, granularity: null }
  if (func === null) throw valueError(`Granularity not set on a date(time) field: ${pyRepr(spec)}`, 'value')
  if ((GRANULARITIES as readonly string[]).includes(func)) return { spec, key, field, granularity: func as Granularity }
  if (NUMBER_GRANULARITIES.includes(func)) {
    throw valueError(`The simulator does not group by a date part (${pyRepr(spec)})`, 'value')
  }
  throw valueError(`Granularity specification isn't correct: ${pyRepr(func)}`, 'value')
}

/** _read_group_select: the checks Odoo makes on one aggregate spec (version by version). */
function readGroupSelect(env: Env, model: RuntimeModel, spec: string, key: string): AggSpec {
  if (spec === '__count') return { key, spec, field: null, func: 'count' }
  const { fname, path, func } = parseReadGroupSpec(env, spec)
  if (path !== null) throw valueError(`Invalid ${pyRepr(spec)}, this dot notation is not supported`, 'value')
  const field = model.field(fname)
  if (!field) throw valueError(`Invalid field ${pyRepr(fname)} on model ${pyRepr(model.name)} for ${pyRepr(spec)}.`, 'value')
  if (!func) throw valueError(`Aggregate method is mandatory for ${pyRepr(fname)}`, 'value')
  if (env.version === 19 && func === 'sum_currency') {
    if (field.type !== 'monetary') {
      throw valueError(`Aggregator "sum_currency" only works on currency field for ${pyRepr(fname)}`, 'value')
    }
  } else if (!(env.version === 18 ? AGGREGATES_18 : AGGREGATES_19).has(func)) {
    throw valueError(`Invalid aggregate method ${pyRepr(func)} for ${pyRepr(spec)}.`, 'value')
  }
  if (func === 'recordset' && !(isRelational(field) || fname === 'id')) {
    throw valueError(
      `Aggregate method ${pyRepr(func)} can be only used on relational field (or id) (for ${pyRepr(spec)}).`,
      'value',
    )
  }
  checkFieldToSql(env, model, field, null, { label: model.name, site: 'value' })
  return { key, spec, field, func }
}

function pad(n: number): string {
  return String(n).padStart(2, '0')
}

function isoWeek(d: Date): [number, number] {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()))
  const day = t.getUTCDay() || 7
  t.setUTCDate(t.getUTCDate() + 4 - day)
  const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1)
  return [t.getUTCFullYear(), Math.ceil(((t.getTime() - yearStart) / 86_400_000 + 1) / 7)]
}

/** Start and end (exclusive) of the bucket holding `value`, and Odoo's label for it. */
function bucket(
  value: string,
  granularity: Granularity,
  datetime: boolean,
): { start: string; end: string; label: string } {
  const d = new Date(`${value.slice(0, 10)}T${datetime ? value.slice(11, 19) || '00:00:00' : '00:00:00'}Z`)
  let start: Date
  let end: Date
  const y = d.getUTCFullYear()
  const m = d.getUTCMonth()
  let label: string
  switch (granularity) {
    case 'hour':
      start = new Date(Date.UTC(y, m, d.getUTCDate(), d.getUTCHours()))
      end = new Date(start.getTime() + 3_600_000)
      label = `${pad(d.getUTCHours())}:00 ${pad(d.getUTCDate())} ${MONTHS[m]?.slice(0, 3)}`
      break
    case 'day':
      start = new Date(Date.UTC(y, m, d.getUTCDate()))
      end = new Date(start.getTime() + 86_400_000)
      label = `${pad(d.getUTCDate())} ${MONTHS[m]?.slice(0, 3)} ${y}`
      break
    case 'week': {
      const day = d.getUTCDay() || 7
      start = new Date(Date.UTC(y, m, d.getUTCDate() - day + 1))
      end = new Date(start.getTime() + 7 * 86_400_000)
      const [weekYear, week] = isoWeek(d)
      label = `W${week} ${weekYear}`
      break
    }
    case 'month':
      start = new Date(Date.UTC(y, m, 1))
      end = new Date(Date.UTC(y, m + 1, 1))
      label = `${MONTHS[m]} ${y}`
      break
    case 'quarter': {
      const q = Math.floor(m / 3)
      start = new Date(Date.UTC(y, q * 3, 1))
      end = new Date(Date.UTC(y, q * 3 + 3, 1))
      label = `Q${q + 1} ${y}`
      break
    }
    case 'year':
      start = new Date(Date.UTC(y, 0, 1))
      end = new Date(Date.UTC(y + 1, 0, 1))
      label = String(y)
      break
  }
  const fmt = (x: Date) =>
    `${x.getUTCFullYear()}-${pad(x.getUTCMonth() + 1)}-${pad(x.getUTCDate())}` +
    (datetime ? ` ${pad(x.getUTCHours())}:${pad(x.getUTCMinutes())}:${pad(x.getUTCSeconds())}` : '')
  return { start: fmt(start), end: fmt(end), label }
}

/**
 * Which related records of a many2many count for grouping: Odoo LEFT JOINs the relation table on a search of the
 * comodel (the field's domain, the active filter, the comodel's record rules; Odoo 19's _search also checks the read
 * access to the comodel). A record none of whose values remain goes into the `false` group.
 */
function many2manyFilter(env: Env, field: RuntimeField): (id: number) => boolean {
  const comodel = env.db.model(field.relation ?? '')
  if (env.version === 19) checkAcl(env, comodel, 'read')
  const context = { ...env.context, ...(field.context ?? {}) }
  const domain = (field.domain ?? []) as Json[]
  const activeTest = comodel.hasActive && context['active_test'] !== false && !mentionsField(domain, 'active')
  const rule = rulePredicate(env, comodel, 'read')
  const codomain: Predicate | null = domain.length
    ? compileDomain(domain, comodel, { db: env.db, version: env.version, context })
    : null
  return (id) => {
    const record = env.db.get(comodel.name, id)
    if (!record) return false
    if (activeTest && record['active'] === false) return false
    if (rule && !rule(record)) return false
    return !codomain || codomain(record)
  }
}

/** The group values of `record` for one groupby: several for a many2many (one per related record). */
function groupValues(
  env: Env,
  model: RuntimeModel,
  record: StoredRecord,
  gb: GroupSpec,
  keep: ((id: number) => boolean) | null,
): GroupValue[] {
  const value = env.db.value(model, record, gb.field)
  if (gb.field.type === 'many2many') {
    const ids = [...new Set(Array.isArray(value) ? value : [])].filter((id) => !keep || keep(id))
    return ids.length ? ids : [false]
  }
  if (gb.granularity) {
    return [typeof value === 'string' && value ? bucket(value, gb.granularity, gb.field.type === 'datetime').start : false]
  }
  if (gb.field.type === 'many2one') return [typeof value === 'number' && value > 0 ? value : false]
  if (gb.field.type === 'boolean') return [value === true] // COALESCE(field, FALSE)
  return [value === '' || Array.isArray(value) ? false : value]
}

function groupRecords(env: Env, model: RuntimeModel, records: StoredRecord[], specs: GroupSpec[]): Group[] {
  // Without groupby, SQL answers one row, even when no record matches.
  if (specs.length === 0) return [{ values: [], records }]
  const filters = specs.map((gb) => (gb.field.type === 'many2many' ? many2manyFilter(env, gb.field) : null))
  const groups = new Map<string, Group>()
  for (const record of records) {
    let combinations: GroupValue[][] = [[]]
    specs.forEach((gb, i) => {
      const values = groupValues(env, model, record, gb, filters[i] ?? null)
      combinations = combinations.flatMap((head) => values.map((value) => [...head, value]))
    })
    for (const values of combinations) {
      const key = JSON.stringify(values)
      const group = groups.get(key)
      if (group) group.records.push(record)
      else groups.set(key, { values, records: [record] })
    }
  }
  return [...groups.values()]
}

/** How a group value sorts: the raw value, or the comodel's order for a many2one when Odoo traverses it. */
function groupKey(env: Env, gb: GroupSpec, value: GroupValue, traverse: boolean): SortKey {
  if (typeof value === 'boolean') return gb.field.type === 'boolean' ? Number(value) : value ? 1 : null
  if (Array.isArray(value)) return null
  if (typeof value === 'number' && gb.field.type === 'many2one' && traverse) {
    return ranks(env, gb.field.relation ?? '').get(value) ?? value
  }
  return value
}

type RawAggregate = number | string | boolean | null | RawAggregate[]

/** The value PostgreSQL computes for an aggregate over the records of a group (NULL: null). */
function aggregateRaw(env: Env, model: RuntimeModel, records: StoredRecord[], agg: AggSpec): RawAggregate {
  if (agg.field === null) return records.length
  const field = agg.field
  const raw = (v: StoredValue): RawAggregate => {
    if (field.type === 'boolean') return v === true
    if (v === false || v === '' || Array.isArray(v)) return null
    if (field.type === 'many2one' && typeof v === 'number' && v <= 0) return null
    return v
  }
  const byId = [...records].sort((a, b) => a.id - b.id)
  const values = byId.map((r) => raw(env.db.value(model, r, field)))
  const present = values.filter((v) => v !== null)
  const numeric = byId.map((r) => {
    const v = env.db.value(model, r, field)
    return typeof v === 'number' ? v : Array.isArray(v) ? v.length : v === true ? 1 : 0
  })
  switch (agg.func) {
    case 'sum':
    case 'sum_currency':
      return records.length ? numeric.reduce((s, v) => s + v, 0) : null
    case 'avg':
      return records.length ? numeric.reduce((s, v) => s + v, 0) / numeric.length : null
    case 'min':
    case 'max': {
      if (field.type === 'boolean' || typeof present[0] === 'number' || field.type === 'integer') {
        const numbers = field.type === 'many2one' ? (present as number[]) : numeric
        if (!numbers.length) return null
        return agg.func === 'min' ? Math.min(...numbers) : Math.max(...numbers)
      }
      if (!present.length) return null
      const sorted = [...present].sort((x, y) => compareKeys(x as SortKey, y as SortKey))
      return (agg.func === 'min' ? sorted[0] : sorted.at(-1)) ?? null
    }
    case 'count':
      return present.length
    case 'count_distinct':
      return new Set(present.map((v) => JSON.stringify(v))).size
    case 'bool_and':
      return records.length ? values.every((v) => v === true) : null
    case 'bool_or':
      return records.length ? values.some((v) => v === true) : null
    case 'array_agg':
    case 'recordset':
      return records.length ? values : null // ARRAY_AGG(field ORDER BY id)
    case 'array_agg_distinct': {
      if (!records.length) return null
      const distinct = [...new Map(values.map((v) => [JSON.stringify(v), v])).values()]
      return distinct.sort((x, y) => compareKeys(toKey(x), toKey(y)))
    }
    default:
      return null
  }
}

function toKey(value: RawAggregate): SortKey {
  if (typeof value === 'boolean') return Number(value)
  if (Array.isArray(value)) return value.map(toKey)
  return value
}

/** _read_group_empty_value of an aggregate (what a NULL aggregate becomes). */
function emptyAggregate(agg: AggSpec): Out {
  if (agg.field === null || agg.func === 'count' || agg.func === 'count_distinct') return 0
  if (agg.func === 'array_agg' || agg.func === 'array_agg_distinct') return []
  return false
}

/** The aggregate as Odoo answers it (floats of float/monetary fields and averages as Python floats). */
function aggregateOut(env: Env, model: RuntimeModel, records: StoredRecord[], agg: AggSpec): Out {
  const value = aggregateRaw(env, model, records, agg)
  if (value === null) return emptyAggregate(agg)
  const asFloat = agg.field !== null && (agg.field.type === 'float' || agg.field.type === 'monetary')
  if (typeof value === 'number') {
    if (agg.func === 'avg') return new PyFloat(Math.round(value * 1e6) / 1e6)
    if (asFloat && agg.func !== 'count' && agg.func !== 'count_distinct') {
      return new PyFloat(Math.round(value * 1e6) / 1e6)
    }
    return value
  }
  if (Array.isArray(value)) return value as Out
  return value
}

function sortGroups(groups: Group[], terms: GroupOrderTerm[]): void {
  groups.sort((a, b) => {
    for (const term of terms) {
      const x = term.key(a)
      const y = term.key(b)
      if (x === null && y === null) continue
      // PostgreSQL: NULLS LAST for ASC, NULLS FIRST for DESC, unless the order says otherwise.
      const nullsFirst = term.nulls ? term.nulls === 'first' : term.desc
      if (x === null) return nullsFirst ? -1 : 1
      if (y === null) return nullsFirst ? 1 : -1
      const c = compareKeys(x, y)
      if (c !== 0) return term.desc ? -c : c
    }
    return 0
  })
}

/**
 * _read_group_orderby: each order part is a groupby spec (a many2one sorts by its comodel's _order) or else an
 * aggregate spec ('amount_total:sum', 'partner_id:min', '__count'), which _read_group_select validates.
 */
function groupOrder(env: Env, model: RuntimeModel, order: string, specs: GroupSpec[]): GroupOrderTerm[] {
  const terms: GroupOrderTerm[] = []
  for (const part of order.split(',')) {
    const groups = ORDER_PART[env.version].exec(part)?.groups
    if (!groups) throw valueError(`Invalid order ${pyRepr(order)} for _read_group()`, 'value')
    const term = groups['term'] ?? ''
    const desc = (groups['direction'] ?? 'asc').toLowerCase() === 'desc'
    const nulls = groups['nulls'] ? (groups['nulls'].toLowerCase() === 'nulls first' ? 'first' : 'last') : null
    const index = specs.findIndex((gb) => gb.spec === term)
    if (index < 0) {
      let agg: AggSpec
      try {
        agg = readGroupSelect(env, model, term, term)
      } catch (error) {
        if (error instanceof OdooError && error.exceptionName === 'builtins.ValueError') {
          throw valueError(`Order term ${pyRepr(part)} is not a valid aggregate nor valid groupby`, 'value')
        }
        throw error
      }
      terms.push({ key: (group) => toKey(aggregateRaw(env, model, group.records, agg)), desc, nulls })
      continue
    }
    const gb = specs[index] as GroupSpec
    // An explicit order (read_group and formatted_read_group always pass one) sorts a many2one by its comodel's _order.
    const traverse = gb.field.type === 'many2one' && env.db.model(gb.field.relation ?? '').order.trim() !== 'id'
    terms.push({ key: (group) => groupKey(env, gb, group.values[index] ?? false, traverse), desc, nulls })
  }
  return terms
}

function relationalLabel(env: Env, model: RuntimeModel, gb: GroupSpec, value: GroupValue): Out {
  if (typeof value !== 'number') return false
  return [value, env.db.displayName(gb.field.name === 'id' ? model.name : (gb.field.relation ?? ''), value)]
}

/** The group value as read_group / formatted_read_group show it, and the domain leaf of the group. */
function formatGroupValue(
  env: Env,
  model: RuntimeModel,
  gb: GroupSpec,
  value: GroupValue,
): { value: Out; leaf: DomainJson; range?: Out } {
  const name = gb.field.name
  if (gb.field.type === 'many2many') {
    // (<many2many>, '=', False) would bypass the record rules: Odoo writes "no value" as 'not any'.
    if (typeof value !== 'number') return { value: false, leaf: [[name, 'not any', []]] }
    return { value: relationalLabel(env, model, gb, value), leaf: [[name, '=', value]] }
  }
  if (gb.field.type === 'many2one' || name === 'id') {
    return { value: relationalLabel(env, model, gb, value), leaf: [[name, '=', typeof value === 'number' ? value : false]] }
  }
  if (gb.granularity) {
    if (typeof value !== 'string') return { value: false, leaf: [[name, '=', false]], range: false }
    const { start, end, label } = bucket(value, gb.granularity, gb.field.type === 'datetime')
    return { value: label, leaf: ['&', [name, '>=', start], [name, '<', end]], range: { from: start, to: end } }
  }
  const shown: Out =
    (gb.field.type === 'float' || gb.field.type === 'monetary') && typeof value === 'number'
      ? new PyFloat(value)
      : (value as Out)
  return { value: shown, leaf: [[name, '=', value as Json]] }
}

function stringList(value: Json | undefined): string[] {
  if (typeof value === 'string') return [value]
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []
}

function slice<T>(items: T[], offset: Json | undefined, limit: Json | undefined): T[] {
  const from = typeof offset === 'number' && offset > 0 ? offset : 0
  const count = typeof limit === 'number' && limit > 0 ? limit : undefined
  return items.slice(from, count === undefined ? undefined : from + count)
}

export interface ReadGroupArgs {
  domain?: Json
  fields?: Json
  groupby?: Json
  offset?: Json
  limit?: Json
  orderby?: Json
  lazy?: Json
}

/**
 * read_group: groupby specs annotated ('date_order' → 'date_order:month'), `fields` turned into aggregate specs
 * (keyed by name), the orderby rewritten onto them ('amount_total desc' → 'amount_total:sum desc'), then _read_group,
 * the group_expand filling of lazy calls, and the formatting (labels, __domain, __range, __context).
 */
export function readGroup(env: Env, model: RuntimeModel, args: ReadGroupArgs): OutObject[] {
  const domain = Array.isArray(args.domain) ? args.domain : []
  const lazy = truthy(args.lazy)
  const groupby = stringList(args.groupby)
  const lazyGroupby = lazy ? groupby.slice(0, 1) : groupby

  // _read_group_get_annotated_groupby
  const annotatedGroupby = new Map<string, string>()
  for (const spec of lazyGroupby) {
    const { fname, path, func } = parseReadGroupSpec(env, spec)
    const field = model.field(fname)
    if (!field) throw invalidField(model, fname)
    if (path !== null) throw valueError(`Property name ${pyRepr(path)} has to be used on a property field.`, 'value')
    annotatedGroupby.set(spec, isTemporal(field) ? `${fname}:${func ?? 'month'}` : spec)
  }

  const countKey = lazy && lazyGroupby.length === 1 ? `${(lazyGroupby[0] ?? '').split(':')[0]}_count` : '__count'
  const annotatedAggregates = new Map<string, string>([[countKey, '__count']])
  for (const fieldSpec of stringList(args.fields)) {
    if (fieldSpec === '__count') continue
    const match = FIELD_AGG.exec(fieldSpec)
    if (!match) throw valueError(`Invalid field specification ${pyRepr(fieldSpec)}.`, 'fields')
    const [, name = '', func, fname] = match
    if (fname) {
      annotatedAggregates.set(name, `${fname}:${func}`)
      continue
    }
    if (func) {
      annotatedAggregates.set(name, `${name}:${func}`)
      continue
    }
    const field = model.field(name)
    if (!field) throw invalidField(model, name)
    const base = field.related && field.store === false ? relatedTarget(env, model, field).field : field
    if (hasColumn(base) && field.aggregator && !annotatedGroupby.has(fieldSpec)) {
      annotatedAggregates.set(name, `${name}:${field.aggregator}`)
    }
  }

  let orderby: string
  if (typeof args.orderby === 'string' && args.orderby) {
    const keys = [...[...annotatedGroupby].reverse(), ...annotatedAggregates]
    orderby = args.orderby
      .split(',')
      .map((part) => {
        let term = part.trim()
        for (const [name, annotated] of keys) {
          const key = name.split(':')[0] ?? ''
          if (term.startsWith(`${key} `) || key === term) {
            term = term.split(key).join(annotated) // str.replace: every occurrence
            break
          }
        }
        return term
      })
      .join(',')
  } else {
    orderby = [...annotatedGroupby.values()].join(',')
  }

  // _read_group: access and domain (_search), the groupby terms, then (18) the order and the aggregates or (19) the
  // aggregates and the order.
  checkAcl(env, model, 'read')
  const records = searchRecords(env, model, domain)
  const specs = [...annotatedGroupby].map(([key, spec]) => groupbyTerm(env, model, spec, key))
  let aggs: AggSpec[]
  let order: GroupOrderTerm[] = []
  if (env.version === 18) {
    if (specs.length) order = groupOrder(env, model, orderby, specs)
    aggs = [...annotatedAggregates].map(([key, spec]) => readGroupSelect(env, model, spec, key))
  } else {
    aggs = [...annotatedAggregates].map(([key, spec]) => readGroupSelect(env, model, spec, key))
    if (specs.length) order = groupOrder(env, model, orderby, specs)
  }
  const groups = groupRecords(env, model, records, specs)
  sortGroups(groups, order)
  const selected = slice(groups, args.offset, args.limit)

  const rows: { row: OutObject; values: GroupValue[] }[] = selected.map((group) => {
    const row: OutObject = {}
    specs.forEach((gb, i) => (row[gb.key] = (group.values[i] ?? false) as Out))
    for (const agg of aggs) row[agg.key] = aggregateOut(env, model, group.records, agg)
    return { row, values: group.values }
  })

  // _read_group_fill_results: lazy calls show every value of a group_expand field, in its order.
  const first = specs[0]
  let filled = rows
  if (lazy && first && first.field.groupExpand && first.field.selection) {
    const expand = first.field.selection.map(([value]) => value)
    if (orderby === `${first.key} desc`) expand.reverse()
    const byValue = new Map(rows.map((entry) => [JSON.stringify(entry.values[0] ?? false), entry]))
    filled = []
    for (const value of expand) {
      const existing = byValue.get(JSON.stringify(value))
      if (existing) {
        filled.push(existing)
        byValue.delete(JSON.stringify(value))
        continue
      }
      const row: OutObject = {}
      for (const agg of aggs) row[agg.key] = emptyAggregate(agg)
      row[first.key] = value
      filled.push({ row, values: [value] })
    }
    filled.push(...byValue.values())
  }

  return filled.map(({ row, values }) => {
    row['__domain'] = domain as Out
    if (lazyGroupby.length < groupby.length) row['__context'] = { group_by: groupby.slice(lazyGroupby.length) }
    // _read_group_format_result
    const leaves: DomainJson[] = []
    specs.forEach((gb, i) => {
      const formatted = formatGroupValue(env, model, gb, values[i] ?? false)
      row[gb.key] = formatted.value
      if (formatted.range !== undefined) {
        const ranges = (row['__range'] ?? {}) as OutObject
        ranges[gb.key] = formatted.range
        row['__range'] = ranges
      }
      leaves.push(formatted.leaf)
    })
    row['__domain'] = andDomains([domain, ...leaves]) as Out
    return row
  })
}

export interface FormattedReadGroupArgs {
  domain?: Json
  groupby?: Json
  aggregates?: Json
  having?: Json
  offset?: Json
  limit?: Json
  order?: Json
}

/** formatted_read_group (19): _read_group with the order defaulting to the groupby, formatted for the web client. */
export function formattedReadGroup(env: Env, model: RuntimeModel, args: FormattedReadGroupArgs): OutObject[] {
  const domain = Array.isArray(args.domain) ? args.domain : []
  const groupby = stringList(args.groupby)
  const aggregates = stringList(args.aggregates).map((spec) => spec.split(':recordset').join(':array_agg'))
  const order = typeof args.order === 'string' && args.order ? args.order : groupby.join(', ')

  // _read_group: _search (access, domain), groupby terms, aggregates, then the order.
  checkAcl(env, model, 'read')
  const records = searchRecords(env, model, domain)
  const specs = groupby.map((spec) => groupbyTerm(env, model, spec, spec))
  const aggs = aggregates.map((spec) => readGroupSelect(env, model, spec, spec))
  const terms = specs.length ? groupOrder(env, model, order, specs) : []
  const groups = groupRecords(env, model, records, specs)
  sortGroups(groups, terms)
  return slice(groups, args.offset, args.limit).map((group) => {
    const out: OutObject = {}
    const leaves: DomainJson[] = []
    specs.forEach((gb, i) => {
      const formatted = formatGroupValue(env, model, gb, group.values[i] ?? false)
      out[gb.key] = formatted.value
      leaves.push(formatted.leaf)
    })
    out['__extra_domain'] = andDomains(leaves) as Out
    for (const agg of aggs) out[agg.key] = aggregateOut(env, model, group.records, agg)
    return out
  })
}
