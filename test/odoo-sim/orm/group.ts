// read_group (Odoo 18, still served by 19 with a deprecation warning in its log) and formatted_read_group (19):
// grouping by fields (dates by day/week/month/quarter/year), aggregates, group order, __domain / __extra_domain.
import { andDomains, type DomainJson } from '../domain'
import { valueError } from '../errors'
import type { RuntimeField, RuntimeModel } from '../models'
import { PyFloat, type Json, type Out, type OutObject, type StoredRecord, type StoredValue } from '../types'
import type { Env } from './env'
import { ranks, searchRecords } from './search'

const GRANULARITIES = ['hour', 'day', 'week', 'month', 'quarter', 'year'] as const
type Granularity = (typeof GRANULARITIES)[number]
const FUNCS = new Set(['sum', 'avg', 'min', 'max', 'count', 'count_distinct', 'bool_and', 'bool_or', 'array_agg'])
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

interface GroupSpec {
  spec: string
  field: RuntimeField
  granularity: Granularity | null
}

interface AggSpec {
  key: string
  field: RuntimeField | null
  func: string
}

/** A group value: an id, a scalar, a date bucket start, or false. */
type GroupValue = StoredValue

function invalidField(model: RuntimeModel, name: string) {
  return valueError(`Invalid field '${name}' on model '${model.name}'`, 'fields')
}

function parseGroupby(model: RuntimeModel, specs: string[]): GroupSpec[] {
  return specs.map((spec) => {
    const [name = '', gran] = spec.split(':')
    const field = model.field(name)
    if (!field) throw invalidField(model, name)
    const temporal = field.type === 'date' || field.type === 'datetime'
    if (gran !== undefined && (!temporal || !(GRANULARITIES as readonly string[]).includes(gran))) {
      throw valueError(`Invalid groupby specification '${spec}' on model '${model.name}'`, 'fields')
    }
    return { spec, field, granularity: temporal ? ((gran as Granularity | undefined) ?? 'month') : null }
  })
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

function groupValue(env: Env, model: RuntimeModel, record: StoredRecord, gb: GroupSpec): GroupValue {
  const value = env.db.value(model, record, gb.field)
  if (gb.granularity && typeof value === 'string' && value)
    return bucket(value, gb.granularity, gb.field.type === 'datetime').start
  if (gb.field.type === 'many2many' || gb.field.type === 'one2many')
    return Array.isArray(value) ? (value[0] ?? false) : false
  return value === '' ? false : value
}

/** The group value as read_group shows it. */
function displayGroupValue(env: Env, gb: GroupSpec, value: GroupValue): Out {
  if (value === false) return false
  if (gb.field.type === 'many2one' || gb.field.type === 'many2many' || gb.field.type === 'one2many') {
    return typeof value === 'number' ? [value, env.db.displayName(gb.field.relation ?? '', value)] : false
  }
  if (gb.granularity && typeof value === 'string')
    return bucket(value, gb.granularity, gb.field.type === 'datetime').label
  if (gb.field.type === 'float' || gb.field.type === 'monetary') return new PyFloat(Number(value))
  return Array.isArray(value) ? value : value
}

function groupLeaves(gb: GroupSpec, value: GroupValue): DomainJson {
  if (gb.granularity && typeof value === 'string') {
    const { start, end } = bucket(value, gb.granularity, gb.field.type === 'datetime')
    return ['&', [gb.field.name, '>=', start], [gb.field.name, '<', end]]
  }
  return [[gb.field.name, '=', value as Json]]
}

function compareGroupValues(env: Env, gb: GroupSpec, a: GroupValue, b: GroupValue): number {
  if (a === b) return 0
  if (a === false) return 1
  if (b === false) return -1
  if (gb.field.type === 'many2one' && typeof a === 'number' && typeof b === 'number') {
    const rank = ranks(env, gb.field.relation ?? '')
    return (rank.get(a) ?? a) - (rank.get(b) ?? b)
  }
  if (typeof a === 'number' && typeof b === 'number') return a - b
  return String(a) < String(b) ? -1 : 1
}

function aggregate(env: Env, model: RuntimeModel, records: StoredRecord[], agg: AggSpec): Out {
  if (agg.field === null) return records.length
  if (records.length === 0) return false
  const field = agg.field
  const values = records.map((r) => env.db.value(model, r, field))
  const numeric = values.map((v) => (typeof v === 'number' ? v : Array.isArray(v) ? v.length : v === true ? 1 : 0))
  const asFloat = field.type === 'float' || field.type === 'monetary'
  const wrap = (n: number): Out => (asFloat ? new PyFloat(Math.round(n * 1e6) / 1e6) : n)
  switch (agg.func) {
    case 'sum':
      return wrap(numeric.reduce((s, v) => s + v, 0))
    case 'avg':
      return new PyFloat(Math.round((numeric.reduce((s, v) => s + v, 0) / numeric.length) * 1e6) / 1e6)
    case 'min':
      return field.type === 'many2one' || typeof values[0] === 'string'
        ? ((values.filter((v) => v !== false).sort()[0] as Out) ?? false)
        : wrap(Math.min(...numeric))
    case 'max':
      return field.type === 'many2one' || typeof values[0] === 'string'
        ? ((values
            .filter((v) => v !== false)
            .sort()
            .at(-1) as Out) ?? false)
        : wrap(Math.max(...numeric))
    case 'count':
      return values.filter((v) => v !== false).length
    case 'count_distinct':
      return new Set(values.filter((v) => v !== false).map((v) => JSON.stringify(v))).size
    case 'bool_and':
      return values.every((v) => v === true)
    case 'bool_or':
      return values.some((v) => v === true)
    case 'array_agg':
      return values.map((v) => (Array.isArray(v) ? v : v)) as Out
    default:
      return false
  }
}

interface Group {
  values: GroupValue[]
  records: StoredRecord[]
}

function groupRecords(env: Env, model: RuntimeModel, records: StoredRecord[], specs: GroupSpec[]): Group[] {
  const groups = new Map<string, Group>()
  for (const record of records) {
    const values = specs.map((gb) => groupValue(env, model, record, gb))
    const key = JSON.stringify(values)
    const group = groups.get(key)
    if (group) group.records.push(record)
    else groups.set(key, { values, records: [record] })
  }
  return [...groups.values()]
}

function sortGroups(
  env: Env,
  model: RuntimeModel,
  groups: Group[],
  specs: GroupSpec[],
  aggs: AggSpec[],
  order: string | null,
): void {
  const terms = (order ?? specs.map((s) => s.spec).join(','))
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
    .map((term) => {
      const [name = '', dir = 'asc'] = term.split(/\s+/)
      return { name, desc: dir.toLowerCase() === 'desc' }
    })
  for (const term of terms) {
    const known =
      term.name === '__count' ||
      specs.some((s) => s.spec === term.name || s.field.name === term.name) ||
      aggs.some((a) => a.key === term.name || a.field?.name === term.name)
    if (!known && !model.field(term.name))
      throw valueError(`Invalid field '${term.name}' on model '${model.name}'`, 'order')
  }
  const key = (group: Group, name: string): { gb?: GroupSpec; value: GroupValue | number } => {
    const index = specs.findIndex((s) => s.spec === name || s.field.name === name)
    if (index >= 0) return { gb: specs[index], value: group.values[index] ?? false }
    if (name === '__count') return { value: group.records.length }
    const agg = aggs.find((a) => a.key === name || a.field?.name === name)
    const out = agg ? aggregate(env, model, group.records, agg) : 0
    return { value: out instanceof PyFloat ? out.value : typeof out === 'number' ? out : 0 }
  }
  groups.sort((a, b) => {
    for (const term of terms) {
      const x = key(a, term.name)
      const y = key(b, term.name)
      const c = x.gb ? compareGroupValues(env, x.gb, x.value, y.value) : Number(x.value) - Number(y.value)
      if (c !== 0) return term.desc ? -c : c
    }
    return 0
  })
}

function parseReadGroupFields(model: RuntimeModel, specs: string[], groupbyFields: Set<string>): AggSpec[] {
  const aggs: AggSpec[] = []
  for (const spec of specs) {
    if (spec === '__count' || spec === 'sequence') continue
    const match = /^(\w+)(?::(\w+)(?:\((\w+)\))?)?$/.exec(spec.trim())
    if (!match) throw valueError(`Invalid field specification '${spec}'`, 'fields')
    const [, first = '', func, inner] = match
    const fname = inner ?? first
    const field = model.field(fname)
    if (!field) throw invalidField(model, fname)
    if (groupbyFields.has(fname)) continue
    const aggregator = func ?? field.aggregator
    if (!aggregator) continue
    if (!FUNCS.has(aggregator)) throw valueError(`Invalid aggregation function '${aggregator}'.`, 'fields')
    aggs.push({ key: inner ? first : fname, field, func: aggregator })
  }
  return aggs
}

function stringList(value: Json | undefined): string[] {
  if (typeof value === 'string') return [value]
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []
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

export function readGroup(env: Env, model: RuntimeModel, args: ReadGroupArgs): OutObject[] {
  const domain = Array.isArray(args.domain) ? args.domain : []
  const lazy = args.lazy !== false
  const allGroupby = stringList(args.groupby)
  const used = lazy ? allGroupby.slice(0, 1) : allGroupby
  const specs = parseGroupby(model, used)
  const aggs = parseReadGroupFields(model, stringList(args.fields), new Set(specs.map((s) => s.field.name)))
  const records = searchRecords(env, model, domain)
  const groups = groupRecords(env, model, records, specs)
  const orderby = typeof args.orderby === 'string' && args.orderby.trim() ? args.orderby : null
  sortGroups(env, model, groups, specs, aggs, orderby)
  const offset = typeof args.offset === 'number' ? args.offset : 0
  const limit = typeof args.limit === 'number' && args.limit > 0 ? args.limit : undefined
  let selected = groups.slice(offset, limit === undefined ? undefined : offset + limit)

  // group_expand: every selection value gets a group, in selection order (transcript 07 of Odoo 19).
  const first = specs[0]
  const expand =
    lazy && first?.field.groupExpand && first.field.selection && !orderby && offset === 0 && limit === undefined
  const countKey = lazy && first ? `${first.field.name}_count` : '__count'
  const result: OutObject[] = []
  const build = (group: Group): OutObject => {
    const out: OutObject = {}
    specs.forEach((gb, i) => (out[gb.spec] = displayGroupValue(env, gb, group.values[i] ?? false)))
    out[countKey] = group.records.length
    for (const agg of aggs) out[agg.key] = aggregate(env, model, group.records, agg)
    const ranges: OutObject = {}
    specs.forEach((gb, i) => {
      const value = group.values[i]
      if (gb.granularity && typeof value === 'string') {
        const { start, end } = bucket(value, gb.granularity, gb.field.type === 'datetime')
        ranges[gb.spec] = { from: start, to: end }
      }
    })
    if (Object.keys(ranges).length) out['__range'] = ranges
    out['__domain'] = andDomains([domain, ...specs.map((gb, i) => groupLeaves(gb, group.values[i] ?? false))]) as Out
    if (lazy && allGroupby.length > 1) out['__context'] = { group_by: allGroupby.slice(1) }
    return out
  }
  if (expand && first?.field.selection) {
    for (const [value] of first.field.selection) {
      const group = selected.find((g) => g.values[0] === value)
      if (group) result.push(build(group))
      else {
        const out: OutObject = { [countKey]: 0 }
        for (const agg of aggs) out[agg.key] = false
        out[first.spec] = value
        out['__domain'] = andDomains([domain, groupLeaves(first, value)]) as Out
        result.push(out)
      }
    }
    selected = selected.filter((g) => !first.field.selection?.some(([v]) => v === g.values[0]))
  }
  for (const group of selected) result.push(build(group))
  return result
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

export function formattedReadGroup(env: Env, model: RuntimeModel, args: FormattedReadGroupArgs): OutObject[] {
  const domain = Array.isArray(args.domain) ? args.domain : []
  const specs = parseGroupby(model, stringList(args.groupby))
  const aggs: AggSpec[] = stringList(args.aggregates).map((spec) => {
    if (spec === '__count') return { key: spec, field: null, func: 'count' }
    const [name = '', func] = spec.split(':')
    const field = model.field(name)
    if (!field) throw invalidField(model, name)
    const aggregator = func ?? field.aggregator
    if (!aggregator || !FUNCS.has(aggregator)) throw valueError(`Invalid aggregate specification '${spec}'`, 'fields')
    return { key: spec, field, func: aggregator }
  })
  const records = searchRecords(env, model, domain)
  const groups = groupRecords(env, model, records, specs)
  sortGroups(env, model, groups, specs, aggs, typeof args.order === 'string' && args.order.trim() ? args.order : null)
  const offset = typeof args.offset === 'number' ? args.offset : 0
  const limit = typeof args.limit === 'number' && args.limit > 0 ? args.limit : undefined
  return groups.slice(offset, limit === undefined ? undefined : offset + limit).map((group) => {
    const out: OutObject = {}
    specs.forEach((gb, i) => (out[gb.spec] = displayGroupValue(env, gb, group.values[i] ?? false)))
    out['__extra_domain'] = andDomains(specs.map((gb, i) => groupLeaves(gb, group.values[i] ?? false))) as Out
    for (const agg of aggs) out[agg.key] = aggregate(env, model, group.records, agg)
    return out
  })
}
