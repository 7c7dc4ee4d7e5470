// fields_get, name_search and the small public methods (default_get, context_get, has_access, ...).
import { aclAllows, aclError, fieldAllowed } from '../access'
import { andDomains } from '../domain'
import { valueError } from '../errors'
import type { Operation } from '../models/model'
import type { RuntimeField, RuntimeModel } from '../models'
import type { Json, Out, OutObject } from '../types'
import { isPublicProjection, type Env } from './env'
import { rulePredicate, searchRecords } from './search'

/** `depends` of fields_get (registry.field_depends): the declared dependencies; an x2many with a domain adds its fields. */
function describedDepends(model: RuntimeModel, field: RuntimeField): string[] {
  const declared = field.name === 'display_name' ? (model.displayNameDepends ?? [model.recName]) : (field.depends ?? [])
  const out = [...declared]
  if (!field.compute && field.domain) {
    for (const item of field.domain) if (Array.isArray(item) && typeof item[0] === 'string') out.push(`${field.name}.${item[0]}`)
  }
  return [...new Set(out)]
}

/** Field.get_description(): Odoo sorts the attributes by name; `related` only on related fields. */
function describe(model: RuntimeModel, field: RuntimeField): OutObject {
  const relational = field.type === 'many2one' || field.type === 'one2many' || field.type === 'many2many'
  const stored = field.store !== false
  const d: OutObject = {
    change_default: false,
    company_dependent: false,
    depends: describedDepends(model, field),
    exportable: true,
    manual: false,
    name: field.name,
    readonly: Boolean(field.readonly) || field.name === 'id',
    required: Boolean(field.required),
    // bool(store or search): related fields and display_name have a search method.
    searchable: stored || field.related !== undefined || field.name === 'display_name',
    sortable: stored && !['one2many', 'many2many'].includes(field.type),
    store: stored,
    string: field.string,
    type: field.type,
  }
  if (field.related) d['related'] = field.related
  if (field.help) d['help'] = field.help
  if (field.aggregator) d['aggregator'] = field.aggregator
  if (relational) {
    d['context'] = field.context ? { ...field.context } : {}
    d['domain'] = field.domain ? (JSON.parse(JSON.stringify(field.domain)) as Out) : []
    d['relation'] = field.relation ?? ''
  }
  if (field.type === 'one2many') d['relation_field'] = field.inverseName ?? ''
  if (field.type === 'selection') d['selection'] = (field.selection ?? []).map(([value, label]) => [value, label])
  if (field.type === 'char' || field.type === 'text' || field.type === 'html') d['translate'] = Boolean(field.translate)
  if (field.type === 'char') d['trim'] = true
  if (field.type === 'monetary') d['currency_field'] = 'currency_id'
  const sorted: OutObject = {}
  for (const key of Object.keys(d).sort()) sorted[key] = d[key] as Out
  return sorted
}

export function fieldsGet(
  env: Env,
  model: RuntimeModel,
  allfields: Json | undefined,
  attributes: Json | undefined,
): OutObject {
  const wanted = Array.isArray(allfields) && allfields.length ? new Set(allfields.map(String)) : null
  const attrs =
    Array.isArray(attributes) && attributes.length
      ? attributes.map(String)
      : typeof attributes === 'string'
        ? [attributes]
        : null
  const publicProjection = isPublicProjection(env, model)
  const idField = model.field('id') as RuntimeField
  // Odoo lists `id` after the declared fields, before display_name and the log-access fields.
  const magicStart = model.fields.findIndex((f) => f.name === 'display_name')
  const ordered = [...model.fields.slice(0, magicStart), idField, ...model.fields.slice(magicStart)]
  const result: OutObject = {}
  for (const field of ordered) {
    if (wanted && !wanted.has(field.name)) continue
    if (publicProjection ? field.groups : !fieldAllowed(field, env.user)) continue
    const description = describe(model, field)
    if (attrs) {
      const filtered: OutObject = {}
      for (const key of Object.keys(description)) if (attrs.includes(key)) filtered[key] = description[key] as Out
      result[field.name] = filtered
    } else {
      result[field.name] = description
    }
  }
  return result
}

export interface NameSearchArgs {
  name?: Json
  domain?: Json
  operator?: Json
  limit?: Json
}

/**
 * name_search (18 and 19 BaseModel.name_search): a search on [('display_name', operator, name)] AND the domain,
 * i.e. _search_display_name over `_rec_names_search` (see domain.ts), in the model's order.
 */
export function nameSearch(env: Env, model: RuntimeModel, args: NameSearchArgs): Out[] {
  const name: Json = args.name === undefined ? '' : args.name
  const operator = typeof args.operator === 'string' ? args.operator : 'ilike'
  const extra = Array.isArray(args.domain) ? args.domain : []
  const limit = typeof args.limit === 'number' ? args.limit : 100
  const domain = andDomains([[['display_name', operator, name]], extra])
  const records = searchRecords(env, model, domain, { limit: limit > 0 ? limit : null })
  return records.map((record) => [record.id, env.db.displayName(model.name, record.id)])
}

export function defaultGet(env: Env, model: RuntimeModel, fieldsList: Json | undefined): OutObject {
  const names = Array.isArray(fieldsList) ? fieldsList.map(String) : []
  const out: OutObject = {}
  for (const name of names) {
    const field = model.field(name)
    if (!field) continue
    const makeDefault = model.defaults?.[field.column]
    if (makeDefault) {
      const value = makeDefault({ uid: env.user.uid, now: env.now, data: env.db })
      out[name] = value
    }
  }
  return out
}

export function contextGet(env: Env): OutObject {
  const user = env.db.get('res.users', env.user.uid)
  return {
    lang: typeof user?.['lang'] === 'string' ? user['lang'] : 'en_US',
    tz: typeof user?.['tz'] === 'string' ? user['tz'] : false,
    uid: env.user.uid,
  }
}

function operation(value: Json | undefined): Operation {
  if (value === 'read' || value === 'write' || value === 'create' || value === 'unlink') return value
  throw valueError(`Invalid access mode`, 'value')
}

/** has_access(operation): model access and record rules, as a boolean. */
export function hasAccess(env: Env, model: RuntimeModel, ids: number[], op: Json | undefined): boolean {
  const mode = operation(op)
  if (!(mode === 'read' && isPublicProjection(env, model)) && !aclAllows(model, mode, env.user)) return false
  const rule = rulePredicate(env, model, mode)
  if (!rule) return true
  return ids.every((id) => {
    const record = env.db.get(model.name, id)
    return record === undefined || rule(record)
  })
}

/** check_access_rights(operation, raise_exception=True) (Odoo 18). */
export function checkAccessRights(
  env: Env,
  model: RuntimeModel,
  op: Json | undefined,
  raiseException: Json | undefined,
): boolean {
  const mode = operation(op)
  if (aclAllows(model, mode, env.user)) return true
  if (raiseException === false) return false
  throw aclError(model, mode, env.version)
}

export function getParam(env: Env, model: RuntimeModel, key: Json | undefined, fallback: Json | undefined): Out {
  if (!aclAllows(model, 'read', env.user)) throw aclError(model, 'read', env.version)
  for (const record of env.db.table(model.name).values()) {
    if (record['key'] === key) return typeof record['value'] === 'string' ? record['value'] : false
  }
  return (fallback ?? false) as Out
}

export function exists(env: Env, model: RuntimeModel, ids: number[]): number[] {
  return ids.filter((id) => env.db.get(model.name, id) !== undefined)
}
