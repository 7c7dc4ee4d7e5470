// Reading: which fields a user may read, field validation in Odoo's order of checks per version, and values in
// the format of `read()` (many2one as [id, display_name], x2many as id lists, floats as floats, false for empty).
import { fieldAccessError18, fieldAccessError19, fieldAllowed, hrPrivateFieldsError, ruleError } from '../access'
import { compileDomain, type Predicate } from '../domain'
import { valueError } from '../errors'
import type { RuntimeField, RuntimeModel } from '../models'
import { PyFloat, type Json, type Out, type OutObject, type StoredRecord } from '../types'
import { isPublicProjection, type Env } from './env'
import { checkAcl, ranks, rulePredicate, searchRecords } from './search'

/** Fields in `read()` order: declared fields, then Odoo's magic ones (id comes first in each result anyway). */
export function readableFields(env: Env, model: RuntimeModel): RuntimeField[] {
  const publicProjection = isPublicProjection(env, model)
  return model.fields.filter((field) => (publicProjection ? !field.groups : fieldAllowed(field, env.user)))
}

export function fieldNames(value: Json | undefined): string[] | null {
  if (value === undefined || value === null || value === false) return null
  if (typeof value === 'string') return [value]
  if (!Array.isArray(value) || value.length === 0) return null
  return value.map((item) => String(item))
}

/** Compiled field domains, per database (a predicate reads the database it was compiled for). */
const fieldDomains = new WeakMap<object, Map<RuntimeField, Predicate>>()

/**
 * The records an x2many value shows, like Odoo's One2many.read / Many2many.read (the field's `domain` applies) and
 * _RelationalMulti.convert_to_record: archived comodel records are left out unless the field's context, else the
 * call's, says `active_test: false` (res.partner.child_ids never shows archived contacts: its domain is active=True).
 */
export function visibleLinks(env: Env, field: RuntimeField, ids: readonly number[]): number[] {
  const comodel = env.db.registry.get(field.relation ?? '')
  if (!comodel) return [...ids]
  let inDomain: Predicate | undefined
  if (field.domain && field.domain.length > 0) {
    let perDb = fieldDomains.get(env.db)
    if (!perDb) fieldDomains.set(env.db, (perDb = new Map()))
    inDomain = perDb.get(field)
    if (!inDomain) {
      inDomain = compileDomain([...field.domain], comodel, { db: env.db, version: env.version })
      perDb.set(field, inDomain)
    }
  }
  const activeTest = comodel.hasActive && (field.context?.active_test ?? env.context['active_test'] !== false)
  if (!inDomain && !activeTest) return [...ids]
  return ids.filter((id) => {
    const record = env.db.get(comodel.name, id)
    if (!record) return false
    if (activeTest && record['active'] === false) return false
    return inDomain ? inDomain(record) : true
  })
}

export function formatValue(
  env: Env,
  model: RuntimeModel,
  record: StoredRecord,
  field: RuntimeField,
  withNames = true,
): Out {
  const value = env.db.value(model, record, field)
  switch (field.type) {
    case 'float':
    case 'monetary':
      return new PyFloat(typeof value === 'number' ? value : 0)
    case 'integer':
      return typeof value === 'number' ? value : 0
    case 'boolean':
      return value === true
    case 'many2one':
      if (typeof value !== 'number' || value <= 0) return false
      return withNames ? [value, env.db.displayName(field.relation ?? '', value)] : value
    case 'one2many':
    case 'many2many': {
      const ids = visibleLinks(env, field, Array.isArray(value) ? value : [])
      if (ids.length > 1) {
        const rank = ranks(env, field.relation ?? '')
        ids.sort((a, b) => (rank.get(a) ?? a) - (rank.get(b) ?? b))
      }
      return ids
    }
    default:
      return typeof value === 'string' || typeof value === 'number' ? value : false
  }
}

export function formatRecord(
  env: Env,
  model: RuntimeModel,
  record: StoredRecord,
  fields: RuntimeField[],
  withNames = true,
): OutObject {
  const out: OutObject = { id: record.id }
  for (const field of fields) {
    if (field.name === 'id') continue
    out[field.name] = formatValue(env, model, record, field, withNames)
  }
  return out
}

/** Odoo 18 check_field_access_rights('read', fields): groups first (unknown names pass, they fail later). */
function checkFieldGroups18(env: Env, model: RuntimeModel, names: string[]): void {
  const denied: RuntimeField[] = []
  for (const name of names) {
    const field = model.field(name)
    if (field && field.groups && !fieldAllowed(field, env.user)) denied.push(field)
  }
  if (denied.length) throw fieldAccessError18(model, denied, 'read', env.user.uid)
}

/** `_determine_fields_to_fetch`: unknown names raise ValueError; in 19 each field's groups are checked in turn. */
function determineFields(env: Env, model: RuntimeModel, names: string[]): RuntimeField[] {
  const fields: RuntimeField[] = []
  for (const name of names) {
    const field = model.field(name)
    if (!field) {
      throw valueError(
        env.version === 18
          ? `Invalid field '${name}' on model '${model.name}'`
          : `Invalid field '${name}' on '${model.name}'`,
        'fields',
      )
    }
    if (env.version === 19 && !fieldAllowed(field, env.user) && !isPublicProjection(env, model)) {
      throw fieldAccessError19(model, field, 'read', env.user)
    }
    fields.push(field)
  }
  return fields
}

/** hr.employee._check_private_fields (Odoo 19): anything not on hr.employee.public is refused. */
function checkPublicFields19(model: RuntimeModel, names: string[]): void {
  const privateNames = names.filter((name) => {
    const field = model.field(name)
    return !field || (field.groups !== undefined && name !== 'id')
  })
  if (privateNames.length) throw hrPrivateFieldsError(privateNames)
}

/** Resolves the `fields` argument of read/search_read the way the given version checks it. */
export function resolveReadFields(env: Env, model: RuntimeModel, requested: string[] | null): RuntimeField[] {
  const publicProjection = isPublicProjection(env, model)
  if (env.version === 18) {
    if (requested === null) return readableFields(env, model)
    checkFieldGroups18(env, model, requested)
    return determineFields(env, model, requested)
  }
  if (requested === null) return readableFields(env, model)
  if (publicProjection) checkPublicFields19(model, requested)
  return determineFields(env, model, requested)
}

export function read(
  env: Env,
  model: RuntimeModel,
  ids: number[],
  fieldsArg: Json | undefined,
  load: Json | undefined,
): OutObject[] {
  const requested = fieldNames(fieldsArg)
  const withNames = load === undefined || load === '_classic_read'
  const publicProjection = isPublicProjection(env, model)
  let fields: RuntimeField[]
  if (env.version === 18) {
    if (requested) checkFieldGroups18(env, model, requested)
    if (ids.length === 0) return []
    fields = requested ? determineFields(env, model, requested) : readableFields(env, model)
  } else {
    if (requested && publicProjection) checkPublicFields19(model, requested)
    fields = requested ? determineFields(env, model, requested) : readableFields(env, model)
    if (ids.length === 0) return []
  }
  checkAcl(env, model, 'read')
  const table = env.db.table(model.name)
  const seen = new Set<number>()
  const records: StoredRecord[] = []
  for (const id of ids) {
    const record = table.get(id)
    if (!record || seen.has(id)) continue
    seen.add(id)
    records.push(record)
  }
  const rule = rulePredicate(env, model, 'read')
  if (rule && records.some((record) => !rule(record))) throw ruleError(model, 'read', env.user)
  return records.map((record) => formatRecord(env, model, record, fields, withNames))
}

export interface SearchReadArgs {
  domain?: Json
  fields?: Json
  offset?: Json
  limit?: Json
  order?: Json
  load?: Json
}

export function toLimit(value: Json | undefined): number | null {
  return typeof value === 'number' && value > 0 ? value : null
}

export function toOffset(value: Json | undefined): number {
  return typeof value === 'number' && value > 0 ? value : 0
}

export function toOrder(value: Json | undefined): string | null {
  return typeof value === 'string' && value.trim() ? value : null
}

export function searchRead(env: Env, model: RuntimeModel, args: SearchReadArgs): OutObject[] {
  const requested = fieldNames(args.fields)
  const withNames = args.load === undefined || args.load === '_classic_read'
  const publicProjection = isPublicProjection(env, model)
  if (env.version === 18 && requested) checkFieldGroups18(env, model, requested)
  if (env.version === 19 && requested && publicProjection) checkPublicFields19(model, requested)
  const records = searchRecords(env, model, args.domain ?? [], {
    offset: toOffset(args.offset),
    limit: toLimit(args.limit),
    order: toOrder(args.order),
  })
  const fields = requested ? determineFields(env, model, requested) : readableFields(env, model)
  return records.map((record) => formatRecord(env, model, record, fields, withNames))
}
