// Searching: access check, domain (with the implicit active filter and the record rules), order, offset, limit.
import { aclAllows, aclError, fieldAccessError18, fieldAccessError19, fieldAllowed, ruleDomain } from '../access'
import { compileDomain, mentionsField, type Predicate } from '../domain'
import { valueError } from '../errors'
import type { Operation } from '../models/model'
import type { RuntimeField, RuntimeModel } from '../models'
import type { Json, StoredRecord } from '../types'
import { isPublicProjection, type Env } from './env'

const collator = new Intl.Collator('en-US')

interface OrderTerm {
  field: RuntimeField
  desc: boolean
  nullsFirst: boolean
}

// odoo/models.py regex_order
const ORDER_RE =
  /^(\s*(([a-z0-9_]+|"[a-z0-9_]+")(\.([a-z0-9_]+))?(:([a-z_]+))?)(\s+(desc|asc))?(\s+(nulls first|nulls last))?\s*(,|$))+(?<!,)$/i

/** Parses an `order` spec; unknown fields raise like Odoo's _order_field_to_sql. */
export function parseOrder(env: Env, model: RuntimeModel, order: string, label = model.name): OrderTerm[] {
  if (!ORDER_RE.test(order)) throw valueError(`Invalid order '${order}' for model '${model.name}'`, 'order')
  const terms: OrderTerm[] = []
  for (const part of order.split(',')) {
    const words = part.trim().split(/\s+/)
    const name = (words[0] ?? '').replace(/"/g, '').split(/[.:]/)[0] ?? ''
    const direction = (words[1] ?? 'asc').toLowerCase()
    const nulls = words.slice(2).join(' ').toLowerCase()
    const field = model.field(name)
    const visible = field && (name === 'id' || !isPublicProjection(env, model) || !field.groups)
    if (!field || !visible) throw valueError(`Invalid field '${name}' on model '${label}'`, 'order')
    const desc = direction === 'desc'
    terms.push({ field, desc, nullsFirst: nulls ? nulls === 'nulls first' : desc })
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

type SortKey = number | string | null

function sortKey(env: Env, model: RuntimeModel, record: StoredRecord, field: RuntimeField): SortKey {
  const value = env.db.value(model, record, field)
  switch (field.type) {
    case 'many2one':
      return typeof value === 'number' && value > 0 ? (ranks(env, field.relation ?? '').get(value) ?? value) : null
    case 'boolean':
      return value === true ? 1 : 0
    case 'integer':
    case 'float':
    case 'monetary':
      return typeof value === 'number' ? value : 0
    case 'one2many':
    case 'many2many':
      return Array.isArray(value) && value.length ? (value[0] ?? null) : null
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
  const keyed = records.map((record) => ({ record, keys: terms.map((t) => sortKey(env, model, record, t.field)) }))
  keyed.sort((a, b) => {
    for (let i = 0; i < terms.length; i++) {
      const term = terms[i] as OrderTerm
      const x = a.keys[i] ?? null
      const y = b.keys[i] ?? null
      if (x === y) continue
      if (x === null) return term.nullsFirst ? -1 : 1
      if (y === null) return term.nullsFirst ? 1 : -1
      const c =
        typeof x === 'string' && typeof y === 'string'
          ? collator.compare(x, y) || (x < y ? -1 : 1)
          : Number(x) - Number(y)
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
  const domain = ruleDomain(model, operation, env.user)
  if (!domain) return null
  return compileDomain(domain, model, { db: env.db, version: env.version })
}

/** Compiles a user domain on `model` with the user's view of the fields. */
export function compileUserDomain(env: Env, model: RuntimeModel, domain: Json): Predicate {
  const publicProjection = isPublicProjection(env, model)
  return compileDomain(domain, model, {
    db: env.db,
    version: env.version,
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
