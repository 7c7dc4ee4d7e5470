// POST /jsonrpc: Odoo's external JSON-RPC API (services common, object, db). Errors come back as HTTP 200 with a
// JSON-RPC error object: code 200 on Odoo 18, 0 on Odoo 19 (transcripts 11 / 34), `data` holding the Python
// exception (its key order also differs between the two versions).
import { checkAllowedCompanies } from './access'
import { OdooError, accessDenied, typeError, userError } from './errors'
import { makeEnv } from './orm/env'
import { bindPython, publicMethod, runMethod, toIds } from './orm/methods'
import { pyJsonLoads, pyRepr } from './python'
import { htmlResponse, jsonResponse, methodNotAllowedPage } from './respond'
import {
  checkCredentials,
  logCall,
  loggedHeaders,
  sessionUser,
  uidForLogin,
  type CallLogEntry,
  type SimState,
} from './state'
import { buildTraceback } from './traceback'
import type { HttpRequest, HttpResponse, Json, JsonObject, OdooVersion, Out, OutObject } from './types'

type Draft = Omit<CallLogEntry, 'seq' | 'at'>

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function versionInfo(version: OdooVersion): OutObject {
  return {
    server_version: `${version}.0`,
    server_version_info: [version, 0, 0, 'final', 0, ''],
    server_serie: `${version}.0`,
    protocol_version: 1,
  }
}

/** An unexpected failure of the simulator itself still answers like Odoo would. */
export function asOdooError(error: unknown): OdooError {
  if (error instanceof OdooError) return error
  const e = error instanceof Error ? error : new Error(String(error))
  return new OdooError(`builtins.${e.name === 'Error' ? 'Exception' : e.name}`, e.message, 'value')
}

export function errorEnvelope(version: OdooVersion, id: Json, error: OdooError): OutObject {
  const debug = buildTraceback(error, version, 'jsonrpc')
  const data: OutObject =
    version === 18
      ? { name: error.exceptionName, debug, message: error.message, arguments: error.arguments, context: {} }
      : { name: error.exceptionName, message: error.message, arguments: error.arguments, context: {}, debug }
  return { jsonrpc: '2.0', id, error: { code: version === 18 ? 200 : 0, message: 'Odoo Server Error', data } }
}

function unknownDatabase(db: Json | undefined): OdooError {
  return new OdooError(
    'psycopg2.OperationalError',
    `connection to server on socket "/var/run/postgresql/.s.PGSQL.5432" failed: FATAL:  database ${JSON.stringify(String(db))} does not exist\n`,
    'db',
  )
}

function arity(name: string, params: string[], given: Json[], required = params.length): void {
  if (given.length > params.length) {
    const takes = required === params.length ? `${params.length}` : `from ${required} to ${params.length}`
    throw typeError(
      `${name}() takes ${takes} positional argument${params.length === 1 ? '' : 's'} but ${given.length} ${given.length === 1 ? 'was' : 'were'} given`,
    )
  }
  const missing = params.slice(given.length, required)
  if (missing.length) {
    const quoted = missing.map((m) => `'${m}'`)
    const list =
      quoted.length === 1
        ? quoted[0]
        : `${quoted.slice(0, -1).join(', ')}${quoted.length > 2 ? ',' : ''} and ${quoted.at(-1)}`
    throw typeError(
      `${name}() missing ${missing.length} required positional argument${missing.length > 1 ? 's' : ''}: ${list}`,
    )
  }
}

function common(state: SimState, method: string, args: Json[], draft: Draft): Out {
  switch (method) {
    case 'version':
      arity('exp_version', [], args)
      return versionInfo(state.version)
    case 'about':
      arity('exp_about', ['extended'], args, 0)
      return args[0] ? ['See http://openerp.com', `${state.version}.0`] : 'See http://openerp.com'
    case 'login':
    case 'authenticate': {
      if (method === 'login') arity('exp_login', ['db', 'login', 'password'], args)
      else arity('exp_authenticate', ['db', 'login', 'password', 'user_agent_env'], args)
      const [db, login, password] = args
      draft.db = typeof db === 'string' ? db : null
      if (db !== state.dbName) throw unknownDatabase(db)
      const uid = uidForLogin(login)
      const kind = uid === null ? null : checkCredentials(state, uid, password)
      draft.credential = kind ?? 'invalid'
      if (uid === null || kind === null) return false
      draft.uid = uid
      draft.login = typeof login === 'string' ? login : null
      return uid
    }
    default:
      throw new OdooError('builtins.Exception', `Method not found: ${method}`, 'rpc-service')
  }
}

const DB_ADMIN_METHODS = new Set([
  'create_database',
  'duplicate_database',
  'drop',
  'dump',
  'restore',
  'rename',
  'change_admin_password',
  'migrate_databases',
])

function dbService(state: SimState, method: string, args: Json[]): Out {
  if (DB_ADMIN_METHODS.has(method)) throw accessDenied()
  switch (method) {
    case 'list':
      return [state.dbName]
    case 'db_exist':
      return args[0] === state.dbName
    case 'server_version':
      return `${state.version}.0`
    default:
      throw new OdooError('builtins.KeyError', pyRepr(`exp_${method}`), 'rpc-service')
  }
}

function object(state: SimState, method: string, params: Json[], draft: Draft): Out {
  if (method !== 'execute_kw' && method !== 'execute') {
    throw new OdooError('builtins.NameError', `Method not available ${method}`, 'rpc-service')
  }
  if (params.length < 3) throw new OdooError('builtins.IndexError', 'list index out of range', 'rpc-service')
  const [db, rawUid, password] = params
  draft.db = typeof db === 'string' ? db : null
  let uid: number
  if (typeof rawUid === 'number') uid = Math.trunc(rawUid)
  else if (rawUid === false || rawUid === true) uid = Number(rawUid)
  else if (typeof rawUid === 'string' && /^\s*-?\d+\s*$/.test(rawUid)) uid = Number(rawUid)
  else if (typeof rawUid === 'string')
    throw new OdooError(
      'builtins.ValueError',
      `invalid literal for int() with base 10: ${pyRepr(rawUid)}`,
      'rpc-service',
    )
  else
    throw typeError(
      `int() argument must be a string, a bytes-like object or a real number, not '${rawUid === null ? 'NoneType' : Array.isArray(rawUid) ? 'list' : 'dict'}'`,
    )
  if (db !== state.dbName) throw unknownDatabase(db)
  const kind = checkCredentials(state, uid, password)
  if (!kind) {
    draft.credential = 'invalid'
    throw accessDenied()
  }
  draft.credential = kind
  draft.uid = uid
  const user = sessionUser(state, uid)
  if (!user) throw accessDenied()
  draft.login = user.login

  const rest = params.slice(3)
  let modelName: Json | undefined
  let ormMethod: Json | undefined
  let args: Json[]
  let kwargs: JsonObject
  if (method === 'execute_kw') {
    arity('execute_kw', ['db', 'uid', 'obj', 'method', 'args', 'kw'], [db ?? null, uid, ...rest], 5)
    ;[modelName, ormMethod] = rest
    const rawArgs = rest[2]
    args = Array.isArray(rawArgs) ? rawArgs : []
    kwargs = isObject(rest[3]) ? { ...rest[3] } : {}
  } else {
    arity('execute', ['db', 'uid', 'obj', 'method'], [db ?? null, uid, ...rest.slice(0, 2)])
    ;[modelName, ormMethod] = rest
    args = rest.slice(2)
    kwargs = {}
  }
  const name = String(modelName)
  const methodName = String(ormMethod)
  draft.model = name
  draft.method = methodName
  draft.args = args
  draft.kwargs = kwargs

  const model = state.db.registry.get(name)
  if (!model) throw userError(`Object ${name} doesn't exist`, 'unknown-model')
  const spec = publicMethod(state.version, model, methodName, 'jsonrpc')
  const context = isObject(kwargs['context']) ? kwargs['context'] : {}
  draft.context = isObject(kwargs['context']) ? kwargs['context'] : null
  const { context: _ignored, ...callKwargs } = kwargs
  void _ignored
  let positional = args
  let ids: number[] = []
  if (spec.kind === 'records') {
    if (positional.length === 0) throw new OdooError('builtins.IndexError', 'list index out of range', 'signature')
    ids = toIds(positional[0])
    draft.ids = ids
    positional = positional.slice(1)
  }
  const bound = bindPython(spec, positional, callKwargs)
  const env = makeEnv(state.db, user, context)
  checkAllowedCompanies(env, model)
  return runMethod(env, model, methodName, spec, ids, bound)
}

export function handleJsonRpc(state: SimState, req: HttpRequest): HttpResponse {
  if (req.method !== 'POST') return methodNotAllowedPage('OPTIONS, POST')
  let body: Json
  try {
    body = pyJsonLoads(req.body)
  } catch {
    return htmlResponse(400, 'Invalid JSON data')
  }
  if (!isObject(body)) return htmlResponse(400, 'Invalid JSON-RPC data')
  const id = body['id'] ?? null
  const params = isObject(body['params']) ? body['params'] : {}
  const service = params['service']
  const method = params['method']
  const rawArgs = Array.isArray(params['args']) ? params['args'] : null
  const draft: Draft = {
    protocol: 'jsonrpc',
    service: typeof service === 'string' ? service : '',
    method: typeof method === 'string' ? method : '',
    model: null,
    db: null,
    uid: null,
    login: null,
    credential: 'none',
    args: rawArgs ?? [],
    kwargs: {},
    ids: null,
    context: null,
    headers: loggedHeaders(req.headers),
    rawArgs,
    status: 200,
    error: null,
  }
  let response: HttpResponse
  try {
    if (typeof service !== 'string' || typeof method !== 'string' || rawArgs === null) {
      const missing = ['service', 'method', 'args'].filter((k) => params[k] === undefined)
      throw typeError(
        missing.length
          ? `jsonrpc() missing ${missing.length} required positional argument${missing.length > 1 ? 's' : ''}: ${missing.map((m) => `'${m}'`).join(' and ')}`
          : 'jsonrpc() argument after * must be an iterable',
      )
    }
    let result: Out
    if (service === 'common') result = common(state, method, rawArgs, draft)
    else if (service === 'object') result = object(state, method, rawArgs, draft)
    else if (service === 'db') result = dbService(state, method, rawArgs)
    else throw new OdooError('builtins.KeyError', pyRepr(service), 'rpc-service')
    response = jsonResponse(200, { jsonrpc: '2.0', id, result })
  } catch (error) {
    const odooError = asOdooError(error)
    draft.error = odooError.exceptionName
    // Error answers are built by the error handler, without the nosniff header of successful ones.
    response = jsonResponse(200, errorEnvelope(state.version, id, odooError), {}, false)
  }
  logCall(state, draft)
  return response
}
