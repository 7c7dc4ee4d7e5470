// The public ORM methods a client may call, with their Python signatures: JSON-2 binds the body to them like
// inspect.signature().bind (422 on a bad argument), /jsonrpc calls them like Python would (TypeError). The
// signatures are those of Odoo's BaseModel for each version.
import { OdooError, accessError, httpError, typeError } from '../errors'
import type { RuntimeModel } from '../models'
import type { Json, JsonObject, OdooVersion, Out } from '../types'
import { isPublicProjection, type Env } from './env'
import { formattedReadGroup, readGroup } from './group'
import { checkAccessRights, contextGet, defaultGet, exists, fieldsGet, getParam, hasAccess, nameSearch } from './meta'
import { read, searchRead, toLimit, toOffset, toOrder } from './read'
import { searchRecords } from './search'
import { changeOrderState, createRecords, unlinkRecords, writeRecords } from './write'

interface Param {
  name: string
  required?: boolean
}

type Args = Record<string, Json>

export interface MethodSpec {
  /** 'model': @api.model (no ids); 'records': called on the records given by ids. */
  kind: 'model' | 'records'
  params: readonly Param[]
  /** Extra keyword arguments accepted through **kwargs. */
  varKw?: readonly string[]
  qualname: string
  models?: readonly string[]
  onlyIn?: OdooVersion
  run(env: Env, model: RuntimeModel, ids: number[], args: Args): Out
}

/**
 * hr.employee._search for users reading through hr.employee.public: a domain or order the public model cannot
 * satisfy becomes "You do not have access to this document." (transcript 29). search_read does not go through
 * this override and keeps the ValueError (transcript 30).
 */
function publicSearch<T>(env: Env, model: RuntimeModel, run: () => T): T {
  if (!isPublicProjection(env, model)) return run()
  try {
    return run()
  } catch (error) {
    if (error instanceof OdooError && error.exceptionName === 'builtins.ValueError') {
      throw accessError('You do not have access to this document.', 'hr-search')
    }
    throw error
  }
}

const req = (name: string): Param => ({ name, required: true })
const opt = (name: string): Param => ({ name })

function jsonObject(value: Json | undefined): JsonObject {
  return value && typeof value === 'object' && !Array.isArray(value) ? value : {}
}

const METHODS: Record<string, MethodSpec | ((version: OdooVersion) => MethodSpec)> = {
  search: {
    kind: 'model',
    params: [req('domain'), opt('offset'), opt('limit'), opt('order')],
    qualname: 'BaseModel.search',
    run: (env, model, _ids, a) =>
      publicSearch(env, model, () =>
        searchRecords(env, model, a['domain'] ?? [], {
          offset: toOffset(a['offset']),
          limit: toLimit(a['limit']),
          order: toOrder(a['order']),
        }),
      ).map((r) => r.id),
  },
  search_count: {
    kind: 'model',
    params: [req('domain'), opt('limit')],
    qualname: 'BaseModel.search_count',
    run: (env, model, _ids, a) =>
      publicSearch(env, model, () => searchRecords(env, model, a['domain'] ?? [], { limit: toLimit(a['limit']) }))
        .length,
  },
  search_read: {
    kind: 'model',
    params: [opt('domain'), opt('fields'), opt('offset'), opt('limit'), opt('order')],
    varKw: ['load'],
    qualname: 'BaseModel.search_read',
    run: (env, model, _ids, a) => searchRead(env, model, a),
  },
  search_fetch: {
    kind: 'model',
    params: [req('domain'), req('field_names'), opt('offset'), opt('limit'), opt('order')],
    qualname: 'BaseModel.search_fetch',
    run: (env, model, _ids, a) =>
      searchRecords(env, model, a['domain'] ?? [], {
        offset: toOffset(a['offset']),
        limit: toLimit(a['limit']),
        order: toOrder(a['order']),
      }).map((r) => r.id),
  },
  read: {
    kind: 'records',
    params: [opt('fields'), opt('load')],
    qualname: 'BaseModel.read',
    run: (env, model, ids, a) => read(env, model, ids, a['fields'], a['load']),
  },
  write: {
    kind: 'records',
    params: [req('vals')],
    qualname: 'BaseModel.write',
    run: (env, model, ids, a) => writeRecords(env, model, ids, jsonObject(a['vals'])),
  },
  create: {
    kind: 'model',
    params: [req('vals_list')],
    qualname: 'BaseModel.create',
    run: (env, model, _ids, a) => {
      const vals = a['vals_list']
      const list = Array.isArray(vals) ? vals.map((v) => jsonObject(v)) : [jsonObject(vals)]
      const ids = createRecords(env, model, list)
      // Odoo returns one record for one dict, a recordset for a list (the protocols turn them into id / ids).
      return Array.isArray(vals) ? ids : (ids[0] ?? false)
    },
  },
  unlink: {
    kind: 'records',
    params: [],
    qualname: 'BaseModel.unlink',
    run: (env, model, ids) => unlinkRecords(env, model, ids),
  },
  exists: {
    kind: 'records',
    params: [],
    qualname: 'BaseModel.exists',
    run: (env, model, ids) => exists(env, model, ids),
  },
  fields_get: {
    kind: 'model',
    params: [opt('allfields'), opt('attributes')],
    qualname: 'BaseModel.fields_get',
    run: (env, model, _ids, a) => fieldsGet(env, model, a['allfields'], a['attributes']),
  },
  name_search: (version) => ({
    kind: 'model',
    params: [opt('name'), opt(version === 18 ? 'args' : 'domain'), opt('operator'), opt('limit')],
    qualname: 'BaseModel.name_search',
    run: (env, model, _ids, a) => {
      const domain = version === 18 ? a['args'] : a['domain']
      return publicSearch(env, model, () =>
        nameSearch(env, model, {
          ...(a['name'] !== undefined ? { name: a['name'] } : {}),
          ...(domain !== undefined ? { domain } : {}),
          ...(a['operator'] !== undefined ? { operator: a['operator'] } : {}),
          ...(a['limit'] !== undefined ? { limit: a['limit'] } : {}),
        }),
      )
    },
  }),
  read_group: {
    kind: 'model',
    params: [req('domain'), req('fields'), req('groupby'), opt('offset'), opt('limit'), opt('orderby'), opt('lazy')],
    qualname: 'BaseModel.read_group',
    run: (env, model, _ids, a) => readGroup(env, model, a),
  },
  formatted_read_group: {
    kind: 'model',
    params: [
      req('domain'),
      opt('groupby'),
      opt('aggregates'),
      opt('having'),
      opt('offset'),
      opt('limit'),
      opt('order'),
    ],
    qualname: 'BaseModel.formatted_read_group',
    onlyIn: 19,
    run: (env, model, _ids, a) => formattedReadGroup(env, model, a),
  },
  default_get: {
    kind: 'model',
    params: [req('fields_list')],
    qualname: 'BaseModel.default_get',
    run: (env, model, _ids, a) => defaultGet(env, model, a['fields_list']),
  },
  has_access: {
    kind: 'records',
    params: [req('operation')],
    qualname: 'BaseModel.has_access',
    run: (env, model, ids, a) => hasAccess(env, model, ids, a['operation']),
  },
  check_access_rights: {
    kind: 'model',
    params: [req('operation'), opt('raise_exception')],
    qualname: 'BaseModel.check_access_rights',
    onlyIn: 18,
    run: (env, model, _ids, a) => checkAccessRights(env, model, a['operation'], a['raise_exception']),
  },
  context_get: {
    kind: 'model',
    params: [],
    qualname: 'ResUsers.context_get',
    models: ['res.users'],
    run: (env) => contextGet(env),
  },
  get_param: {
    kind: 'model',
    params: [req('key'), opt('default')],
    qualname: 'IrConfigParameter.get_param',
    models: ['ir.config_parameter'],
    run: (env, model, _ids, a) => getParam(env, model, a['key'], a['default']),
  },
  action_confirm: {
    kind: 'records',
    params: [],
    qualname: 'SaleOrder.action_confirm',
    models: ['sale.order'],
    run: (env, model, ids) => changeOrderState(env, model, ids, 'sale'),
  },
  action_cancel: {
    kind: 'records',
    params: [],
    qualname: 'SaleOrder.action_cancel',
    models: ['sale.order'],
    run: (env, model, ids) => changeOrderState(env, model, ids, 'cancel'),
  },
  action_draft: {
    kind: 'records',
    params: [],
    qualname: 'SaleOrder.action_draft',
    models: ['sale.order'],
    run: (env, model, ids) => changeOrderState(env, model, ids, 'draft'),
  },
}

/** Methods that exist on every model but are decorated @api.private (or are Python plumbing). */
const PRIVATE_PUBLIC_NAMES = new Set([
  'check_access',
  'fetch',
  'browse',
  'sudo',
  'with_user',
  'with_context',
  'with_env',
  'with_company',
  'ensure_one',
  'filtered',
  'mapped',
  'sorted',
  'init',
])

export function findMethod(version: OdooVersion, model: RuntimeModel, name: string): MethodSpec | undefined {
  const entry = METHODS[name]
  if (!entry) return undefined
  const spec = typeof entry === 'function' ? entry(version) : entry
  if (spec.onlyIn !== undefined && spec.onlyIn !== version) return undefined
  if (spec.models && !spec.models.includes(model.name)) return undefined
  return spec
}

/** odoo/service/model.py get_public_method. */
export function publicMethod(
  version: OdooVersion,
  model: RuntimeModel,
  name: string,
  protocol: 'jsonrpc' | 'json2',
): MethodSpec {
  if (name.startsWith('_') || PRIVATE_PUBLIC_NAMES.has(name)) {
    throw accessError(`Private methods (such as '${model.name}.${name}') cannot be called remotely.`, 'private-method')
  }
  const spec = findMethod(version, model, name)
  if (!spec) {
    const message = `The method '${model.name}.${name}' does not exist`
    if (protocol === 'json2') throw httpError(404, message, 'json2-unknown-method')
    throw new OdooError('builtins.AttributeError', message, 'unknown-method')
  }
  return spec
}

function pyList(names: string[]): string {
  const quoted = names.map((n) => `'${n}'`)
  if (quoted.length <= 1) return quoted.join('')
  if (quoted.length === 2) return `${quoted[0]} and ${quoted[1]}`
  return `${quoted.slice(0, -1).join(', ')}, and ${quoted.at(-1)}`
}

/** Binds positional and keyword arguments like a Python call; raises TypeError with CPython's messages. */
export function bindPython(spec: MethodSpec, positional: Json[], keywords: JsonObject): Args {
  const args: Args = {}
  const params = spec.params
  if (positional.length > params.length) {
    const required = params.filter((p) => p.required).length
    const takes = required === params.length ? `${params.length + 1}` : `from ${required + 1} to ${params.length + 1}`
    const plural = required === params.length && params.length === 0 ? 'argument' : 'arguments'
    throw typeError(`${spec.qualname}() takes ${takes} positional ${plural} but ${positional.length + 1} were given`)
  }
  positional.forEach((value, i) => (args[(params[i] as Param).name] = value))
  for (const [key, value] of Object.entries(keywords)) {
    const known = params.some((p) => p.name === key)
    if (!known && !spec.varKw?.includes(key)) {
      if (spec.varKw) throw typeError(`BaseModel._read_format() got an unexpected keyword argument '${key}'`)
      throw typeError(`${spec.qualname}() got an unexpected keyword argument '${key}'`)
    }
    if (key in args) throw typeError(`${spec.qualname}() got multiple values for argument '${key}'`)
    args[key] = value
  }
  const missing = params.filter((p) => p.required && !(p.name in args)).map((p) => p.name)
  if (missing.length) {
    throw typeError(
      `${spec.qualname}() missing ${missing.length} required positional argument${missing.length > 1 ? 's' : ''}: ${pyList(missing)}`,
    )
  }
  return args
}

/** JSON-2: inspect.signature(method).bind(records, **body) → 422 UnprocessableEntity on failure. */
export function bindJson2(spec: MethodSpec, keywords: JsonObject): Args {
  const args: Args = {}
  for (const param of spec.params) {
    if (param.name in keywords) args[param.name] = keywords[param.name] as Json
    else if (param.required) throw httpError(422, `missing a required argument: '${param.name}'`, 'json2-bind')
  }
  for (const [key, value] of Object.entries(keywords)) {
    if (spec.params.some((p) => p.name === key)) continue
    if (!spec.varKw) throw httpError(422, `got an unexpected keyword argument '${key}'`, 'json2-bind')
    if (!spec.varKw.includes(key))
      throw typeError(`BaseModel._read_format() got an unexpected keyword argument '${key}'`)
    args[key] = value
  }
  return args
}

/** Runs a bound method; errors are tagged with the method and model for their traceback. */
export function runMethod(
  env: Env,
  model: RuntimeModel,
  name: string,
  spec: MethodSpec,
  ids: number[],
  args: Args,
): Out {
  try {
    // One transaction per call, as Odoo's RPC layer opens one: a call that fails changes nothing.
    return env.db.transaction(() => spec.run(env, model, ids, args))
  } catch (error) {
    if (error instanceof OdooError) {
      error.extra.method ??= name
      error.extra.model ??= model.name
    }
    throw error
  }
}

/** ids as given to browse(): an id or a list of ids. */
export function toIds(value: Json | undefined): number[] {
  if (typeof value === 'number') return [value]
  if (Array.isArray(value)) return value.filter((v): v is number => typeof v === 'number')
  return []
}
