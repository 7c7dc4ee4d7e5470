// Searching: access check, domain (with the implicit active filter and the record rules), order, offset, limit.
// Ordering follows Odoo's _order_to_sql / _order_field_to_sql / _field_to_sql (odoo/models.py in 18,
// odoo/orm/models.py in 19): a many2one sorts by its comodel's _order, except `x_id.id` (the raw id); fields without
// a column (x2many, store=False) cannot be sorted on; a `.property` after any other field is an error.
import { aclAllows, aclError, envCompanyIds, fieldAccessError18, fieldAccessError19, fieldAllowed, ruleDomain } from '../access'
import { compileDomain, mentionsField, type Predicate } from '../domain'
import { valueError, type TraceSite } from '../errors'
import type { Operation } from '../models/model'
import type { RuntimeField, RuntimeModel } from '../models'
import { pyRepr } from '../python'
import type { Json, StoredRecord } from '../types'
import { isPublicProjection, type Env } from './env'

const collator = new Intl.Collator('en-US')

/** READ_GROUP_NUMBER_GRANULARITY: the date parts Odoo accepts after a date(time) field (`date_order.year_number`). */
export const NUMBER_GRANULARITIES: readonly string[] = [
  'year_number',
  'quarter_number',
  'month_number',
  'iso_week_number',
  'day_of_year',
  'day_of_month',
  'day_of_week',
  'hour_number',
  'minute_number',
  'second_number',
]

interface OrderTerm {
  field: RuntimeField
  desc: boolean
  nullsFirst: boolean
  /** `x_id.id`: the raw id ("special case: ordering by "x_id.id" doesn't recurse on x_id's comodel"). */
  rawId?: boolean
  /** Odoo 19 `date_field.<part>` (Field.property_to_sql): a date part, or 'tz' (the value itself). */
  datePart?: string
}

// odoo/models.py regex_order: Odoo 18 also accepts a quoted field name ("name"), 19 (odoo/orm/models.py) does not.
const ORDER_RE_18 =
  /^(\s*(([a-z0-9_]+|"[a-z0-9_]+")(\.([a-z0-9_]+))?(:([a-z_]+))?)(\s+(desc|asc))?(\s+(nulls first|nulls last))?\s*(,|$))+(?<!,)$/i
const ORDER_RE_19 =
  /^(\s*(([a-z0-9_]+)(\.([a-z0-9_]+))?(:([a-z_]+))?)(\s+(desc|asc))?(\s+(nulls first|nulls last))?\s*(,|$))+(?<!,)$/i
/** One comma-separated part of an order that passed the regex above (the `:func` suffix is ignored by Odoo). */
const ORDER_PART_RE =
  /^\s*(?<field>[a-z0-9_]+|"[a-z0-9_]+")(?:\.(?<property>[a-z0-9_]+))?(?::[a-z_]+)?(?:\s+(?<direction>desc|asc))?(?:\s+(?<nulls>nulls first|nulls last))?\s*$/i

/** Odoo's `field.store and field.column_type`: x2many fields have no column (one2many: the comodel's, many2many: a table). */
export function hasColumn(field: RuntimeField): boolean {
  return field.store !== false && field.type !== 'one2many' && field.type !== 'many2many'
}

/** The field a related path ends on (`country_id.code` → res.country.code), with its model. */
export function relatedTarget(env: Env, model: RuntimeModel, field: RuntimeField): { model: RuntimeModel; field: RuntimeField } {
  const names = (field.related ?? '').split('.')
  let current = model
  for (const name of names.slice(0, -1)) {
    const step = current.field(name)
    if (!step?.relation) return { model, field }
    current = env.db.model(step.relation)
  }
  const target = current.field(names.at(-1) ?? '')
  return target ? { model: current, field: target } : { model, field }
}

export interface FieldToSqlOptions {
  /** The model name Odoo shows in messages (hr.employee.public for the public projection of hr.employee). */
  label: string
  /** Trace site of the "Invalid field 'x.y'" ValueError (Odoo 18). */
  site: TraceSite
  /** Inside a related field's traversal, which Odoo does as superuser: no field access check. */
  sudo?: boolean
}

/**
 * Whether Odoo's `_field_to_sql(alias, 'field[.property]')` accepts the field: a related non-stored field is followed
 * to its target (as superuser; Odoo 18 drops the property there, 19 keeps it); a field without a column raises
 * "Cannot convert ... because it is not stored"; a property raises (18: "Invalid field 'f.p' on model 'm'"; 19:
 * Field.property_to_sql, where only date(time) fields know properties: 'tz' and the date parts); the user must be
 * allowed to read the field (18 checks after the store check, 19 before). Returns the date part to apply, if any.
 */
export function checkFieldToSql(
  env: Env,
  model: RuntimeModel,
  field: RuntimeField,
  property: string | null,
  options: FieldToSqlOptions,
): { datePart?: string } {
  if (field.related && field.store === false) {
    // _traverse_related_sql: every step but the last must be a many2one.
    let step = model
    for (const name of field.related.split('.').slice(0, -1)) {
      const through = step.field(name)
      if (through?.type !== 'many2one') {
        throw valueError(
          `Cannot convert ${options.label}.${field.name} (related=${field.related}) to SQL because ${name} is not a Many2one`,
          'value',
        )
      }
      step = env.db.model(through.relation ?? '')
    }
    const target = relatedTarget(env, model, field)
    if (target.field !== field) {
      const next = env.version === 18 ? null : property
      return checkFieldToSql(env, target.model, target.field, next, { ...options, label: target.model.name, sudo: true })
    }
  }
  const checkAccess = () => {
    if (options.sudo || field.name === 'id' || isPublicProjection(env, model) || fieldAllowed(field, env.user)) return
    throw env.version === 18
      ? fieldAccessError18(model, [field], 'read', env.user.uid)
      : fieldAccessError19(model, field, 'read', env.user)
  }
  const notStored = () =>
    valueError(`Cannot convert ${options.label}.${field.name} to SQL because it is not stored`, 'value')
  if (env.version === 18) {
    if (!hasColumn(field)) throw notStored()
    if (property !== null) {
      throw valueError(`Invalid field ${pyRepr(`${field.name}.${property}`)} on model ${pyRepr(options.label)}`, options.site)
    }
    checkAccess()
    return {}
  }
  checkAccess()
  if (!hasColumn(field)) throw notStored()
  if (property === null) return {}
  if (field.type === 'date' || field.type === 'datetime') {
    if (property === 'tz' || NUMBER_GRANULARITIES.includes(property)) return { datePart: property }
    throw valueError(
      `Error when processing the granularity ${property} is not supported. Only ${NUMBER_GRANULARITIES.join(', ')} are supported`,
      'value',
    )
  }
  throw valueError(`Invalid field property ${pyRepr(property)} on ${options.label}.${field.name}`, 'value')
}

/**
 * Parses an `order` spec like Odoo's _order_to_sql: unknown fields raise like _order_field_to_sql, `x_id.id` orders
 * a many2one by its raw id, and every field goes through _field_to_sql's checks (see checkFieldToSql).
 */
export function parseOrder(env: Env, model: RuntimeModel, order: string, label = model.name): OrderTerm[] {
  const valid = env.version === 18 ? ORDER_RE_18 : ORDER_RE_19
  if (!valid.test(order)) throw valueError(`Invalid order '${order}' for model '${model.name}'`, 'order')
  const terms: OrderTerm[] = []
  for (const part of order.split(',')) {
    const groups = ORDER_PART_RE.exec(part)?.groups ?? {}
    // Odoo 18 looks the field up as written: a quoted name ("name") is no field.
    const name = groups['field'] ?? ''
    const property = groups['property'] ?? null
    const direction = (groups['direction'] ?? 'asc').toLowerCase()
    const nulls = (groups['nulls'] ?? '').toLowerCase()
    const field = model.field(name)
    const visible = field && (name === 'id' || !isPublicProjection(env, model) || !field.groups)
    if (!field || !visible) throw valueError(`Invalid field ${pyRepr(name)} on model ${pyRepr(label)}`, 'order')
    const desc = direction === 'desc'
    const term: OrderTerm = { field, desc, nullsFirst: nulls ? nulls === 'nulls first' : desc }
    const options: FieldToSqlOptions = { label, site: 'order' }
    if (field.type === 'many2one' && property === 'id') {
      checkFieldToSql(env, model, field, null, options)
      term.rawId = true
    } else {
      const { datePart } = checkFieldToSql(env, model, field, property, options)
      if (datePart) term.datePart = datePart
    }
    terms.push(term)
  }
  return terms
}

/** Position of every record of `modelName` in its default order (ordering by a many2one follows the comodel). */
export function ranks(env: Env, modelName: string): Map<number, number> {
  let rank = env.ranks.get(modelName)
  if (!rank) {
    rank = new Map()
    env.ranks.set(modelName, rank) // set first: breaks cycles between models ordered by each other
    const model = env.db.model(modelName)
    const sorted = sortRecords(env, model, [...env.db.table(modelName).values()], parseOrder(env, model, model.order))
    sorted.forEach((record, index) => rank?.set(record.id, index))
  }
  return rank
}

/** A value as PostgreSQL compares it in ORDER BY: null is NULL; arrays compare element by element. */
export type SortKey = number | string | null | SortKey[]

/** Compares two keys like PostgreSQL (text by the en_US collation, approximated by ICU); NULL is greater. */
export function compareKeys(x: SortKey, y: SortKey): number {
  if (x === y) return 0
  if (x === null) return 1
  if (y === null) return -1
  if (Array.isArray(x) || Array.isArray(y)) {
    const a = Array.isArray(x) ? x : [x]
    const b = Array.isArray(y) ? y : [y]
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = compareKeys(a[i] ?? null, b[i] ?? null)
      if (c !== 0) return c
    }
    return a.length - b.length
  }
  if (typeof x === 'string' && typeof y === 'string') return collator.compare(x, y) || (x < y ? -1 : 1)
  return Number(x) - Number(y)
}

/** PostgreSQL's date_part for Odoo's date-part properties (UTC: the simulator has no time zones). */
function datePartKey(value: unknown, part: string): SortKey {
  if (typeof value !== 'string' || !value) return null
  if (part === 'tz') return value
  const d = new Date(`${value.slice(0, 10)}T${value.slice(11, 19) || '00:00:00'}Z`)
  const startOfYear = Date.UTC(d.getUTCFullYear(), 0, 1)
  switch (part) {
    case 'year_number':
      return d.getUTCFullYear()
    case 'quarter_number':
      return Math.floor(d.getUTCMonth() / 3) + 1
    case 'month_number':
      return d.getUTCMonth() + 1
    case 'iso_week_number': {
      const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()))
      t.setUTCDate(t.getUTCDate() + 4 - (t.getUTCDay() || 7))
      return Math.ceil(((t.getTime() - Date.UTC(t.getUTCFullYear(), 0, 1)) / 86_400_000 + 1) / 7)
    }
    case 'day_of_year':
      return Math.floor((d.getTime() - startOfYear) / 86_400_000) + 1
    case 'day_of_month':
      return d.getUTCDate()
    case 'day_of_week':
      return d.getUTCDay() // date_part('dow'): Sunday is 0
    case 'hour_number':
      return d.getUTCHours()
    case 'minute_number':
      return d.getUTCMinutes()
    default:
      return d.getUTCSeconds()
  }
}

function sortKey(env: Env, model: RuntimeModel, record: StoredRecord, term: OrderTerm): SortKey {
  const field = term.field
  const value = env.db.value(model, record, field)
  if (term.datePart) return datePartKey(value, term.datePart)
  switch (field.type) {
    case 'many2one':
      if (typeof value !== 'number' || value <= 0) return null
      return term.rawId ? value : (ranks(env, field.relation ?? '').get(value) ?? value)
    case 'boolean':
      return value === true ? 1 : 0 // COALESCE(field, FALSE)
    case 'integer':
    case 'float':
    case 'monetary':
      return typeof value === 'number' ? value : 0
    default:
      return typeof value === 'string' && value !== '' ? value : null
  }
}

export function sortRecords(
  env: Env,
  model: RuntimeModel,
  records: StoredRecord[],
  terms: OrderTerm[],
): StoredRecord[] {
  const keyed = records.map((record) => ({ record, keys: terms.map((t) => sortKey(env, model, record, t)) }))
  keyed.sort((a, b) => {
    for (let i = 0; i < terms.length; i++) {
      const term = terms[i] as OrderTerm
      const x = a.keys[i] ?? null
      const y = b.keys[i] ?? null
      if (x === y) continue
      if (x === null) return term.nullsFirst ? -1 : 1
      if (y === null) return term.nullsFirst ? 1 : -1
      const c = compareKeys(x, y)
      if (c !== 0) return term.desc ? -c : c
    }
    return a.record.id - b.record.id
  })
  return keyed.map((k) => k.record)
}

export interface SearchOptions {
  offset?: number
  limit?: number | null
  order?: string | null
}

/** Raises the model access error unless the user may perform `operation` (public projection: read allowed). */
export function checkAcl(env: Env, model: RuntimeModel, operation: Operation): void {
  if (operation === 'read' && isPublicProjection(env, model)) return
  if (!aclAllows(model, operation, env.user)) throw aclError(model, operation, env.version)
}

/** The record-rule predicate for `operation`, or null when no rule restricts the user. */
export function rulePredicate(env: Env, model: RuntimeModel, operation: Operation): Predicate | null {
  if (isPublicProjection(env, model)) return null
  const domain = ruleDomain(model, operation, env.user, envCompanyIds(env))
  if (!domain) return null
  return compileDomain(domain, model, { db: env.db, version: env.version })
}

/** Compiles a user domain on `model` with the user's view of the fields. */
export function compileUserDomain(env: Env, model: RuntimeModel, domain: Json): Predicate {
  const publicProjection = isPublicProjection(env, model)
  return compileDomain(domain, model, {
    db: env.db,
    version: env.version,
    // active_test reaches the searches the domain makes on related models too.
    context: env.context,
    ...(publicProjection ? { modelLabel: model.publicModel, fieldFilter: (field: RuntimeField) => !field.groups } : {}),
    checkField: (fieldModel, field) => {
      if (publicProjection || fieldAllowed(field, env.user)) return
      throw env.version === 18
        ? fieldAccessError18(fieldModel, [field], 'read', env.user.uid)
        : fieldAccessError19(fieldModel, field, 'read', env.user)
    },
  })
}

/** `_search`: the ids matching `domain` that the user may read, ordered and sliced. */
export function searchRecords(
  env: Env,
  model: RuntimeModel,
  domain: Json,
  options: SearchOptions = {},
): StoredRecord[] {
  checkAcl(env, model, 'read')
  const predicate = compileUserDomain(env, model, domain ?? [])
  const activeTest = model.hasActive && env.context['active_test'] !== false && !mentionsField(domain, 'active')
  const rule = rulePredicate(env, model, 'read')
  const label = isPublicProjection(env, model) ? (model.publicModel ?? model.name) : model.name
  const terms = parseOrder(env, model, options.order || model.order, label)
  const matching: StoredRecord[] = []
  for (const record of env.db.table(model.name).values()) {
    if (activeTest && record['active'] === false) continue
    if (rule && !rule(record)) continue
    if (predicate(record)) matching.push(record)
  }
  const sorted = sortRecords(env, model, matching, terms)
  const offset = Math.max(0, Math.trunc(options.offset ?? 0))
  // Like SQL through Odoo's Query: a limit of 0 / None means no limit.
  const limit = options.limit ? Math.trunc(options.limit) : undefined
  return sorted.slice(offset, limit === undefined ? undefined : offset + limit)
}
