// Odoo 19's JSON-2 API: POST /json/2/<model>/<method>, Bearer API key, the body holding `ids`, `context` and the
// method's keyword arguments. The result is the bare JSON value (recordsets as id lists); errors use HTTP statuses
// (see test/fixtures/odoo/odoo-19.0/INDEX.md) with a {name, message, arguments, context, debug} body.
import { checkAllowedCompanies } from './access'
import { OdooError, httpError, json2Status } from './errors'
import { asOdooError } from './jsonrpc'
import { makeEnv } from './orm/env'
import { bindJson2, publicMethod, runMethod, toIds } from './orm/methods'
import { PyJsonDecodeError, pyJsonLoads } from './python'
import { jsonResponse, noDatabasePage } from './respond'
import { logCall, loggedHeaders, sessionUser, uidForApiKey, type CallLogEntry, type SimState } from './state'
import { buildTraceback } from './traceback'
import type { HttpRequest, HttpResponse, Json, JsonObject, Out } from './types'

type Draft = Omit<CallLogEntry, 'seq' | 'at'>

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function errorResponse(error: OdooError): HttpResponse {
  const status = json2Status(error)
  const body = {
    name: error.exceptionName,
    message: error.message,
    arguments: error.arguments,
    context: {},
    debug: buildTraceback(error, 19, 'json2'),
  }
  return jsonResponse(status, body, status === 401 ? { 'www-authenticate': 'Bearer ' } : {}, false)
}

function authenticate(state: SimState, req: HttpRequest, draft: Draft): number {
  const header = req.headers['authorization']
  const match = header ? /^bearer\s+(.+)$/i.exec(header.trim()) : null
  if (!match) {
    throw httpError(401, 'User not authenticated, use an API Key with a Bearer Authorization header.', 'json2-auth')
  }
  const uid = uidForApiKey(state, (match[1] ?? '').trim())
  if (uid === null) {
    draft.credential = 'invalid'
    throw httpError(401, 'Invalid apikey', 'json2-auth')
  }
  draft.credential = 'apikey'
  draft.uid = uid
  return uid
}

function call(state: SimState, req: HttpRequest, modelName: string, methodName: string, draft: Draft): Out {
  const uid = authenticate(state, req, draft)
  const user = sessionUser(state, uid)
  if (!user) throw httpError(401, 'Invalid apikey', 'json2-auth')
  draft.login = user.login
  let body: Json
  try {
    body = pyJsonLoads(req.body)
  } catch (error) {
    const detail = error instanceof PyJsonDecodeError ? error.message : String(error)
    throw httpError(400, `could not parse the body as json: ${detail}`, 'json2-bad-json')
  }
  if (!isObject(body))
    throw httpError(400, 'could not parse the body as json: the body must be a JSON object', 'json2-bad-json')
  const model = state.db.registry.get(modelName)
  if (!model) throw httpError(404, `the model '${modelName}' does not exist`, 'json2-unknown-model')
  const { ids: rawIds, context: rawContext, ...kwargs } = body
  draft.kwargs = kwargs
  draft.context = isObject(rawContext) ? rawContext : null
  const spec = publicMethod(19, model, methodName, 'json2')
  const ids = toIds(rawIds)
  draft.ids = rawIds === undefined ? null : ids
  if (spec.kind === 'model' && ids.length > 0) {
    throw httpError(422, `cannot call ${model.name}.${methodName} with ids`, 'json2-ids')
  }
  const bound = bindJson2(spec, kwargs)
  const env = makeEnv(state.db, user, isObject(rawContext) ? rawContext : {})
  checkAllowedCompanies(env, model)
  const result = runMethod(env, model, methodName, spec, spec.kind === 'records' ? ids : [], bound)
  // JSON-2 serializes recordsets as their ids: create() always answers a list.
  return methodName === 'create' && typeof result === 'number' ? [result] : result
}

export function handleJson2(state: SimState, req: HttpRequest, path: string): HttpResponse {
  const database = req.headers['x-odoo-database']
  if (database !== undefined && database !== state.dbName) return noDatabasePage()
  const segments = path.split('/').slice(3)
  const draft: Draft = {
    protocol: 'json2',
    service: 'json2',
    method: segments[1] ?? '',
    model: segments[0] ?? null,
    db: database ?? null,
    uid: null,
    login: null,
    credential: req.headers['authorization'] ? 'invalid' : 'none',
    args: [],
    kwargs: {},
    ids: null,
    context: null,
    headers: loggedHeaders(req.headers),
    rawArgs: null,
    status: 200,
    error: null,
  }
  let response: HttpResponse
  try {
    if (req.method !== 'POST' || segments.length !== 2 || !segments[0] || !segments[1]) {
      throw httpError(404, 'Did you mean POST /json/2/<model>/<method>?', 'json2-route')
    }
    const result = call(state, req, decodeURIComponent(segments[0]), decodeURIComponent(segments[1]), draft)
    response = jsonResponse(200, result)
  } catch (error) {
    const odooError = asOdooError(error)
    draft.error = odooError.exceptionName
    response = errorResponse(odooError)
  }
  draft.status = response.status
  logCall(state, draft)
  return response
}
