// The runtime-neutral entry point: one HTTP request in, one HTTP response out. node:http lives in server.ts only,
// so the same handler could be served from a Worker.
import { handleJson2 } from './json2'
import { errorEnvelope, asOdooError, handleJsonRpc, versionInfo } from './jsonrpc'
import { pyJsonLoads } from './python'
import { htmlResponse, jsonResponse, methodNotAllowedPage, notFoundPage, SERVER } from './respond'
import { resetState, type SimState } from './state'
import type { HttpRequest, HttpResponse, Json, Out } from './types'

export { createState, resetState, type SimState, type CallLogEntry } from './state'
export type { HttpRequest, HttpResponse } from './types'

const LOGIN_PAGE =
  '<!DOCTYPE html>\n<html lang="en-US">\n<head>\n<meta charset="utf-8"/>\n<title>Odoo</title>\n</head>\n<body>\n' +
  '<form class="oe_login_form" role="form" method="post" action="/web/login">\n' +
  '<input type="text" name="login" id="login" required="required" autofocus="autofocus" autocapitalize="off"/>\n' +
  '<input type="password" name="password" id="password" required="required" autocomplete="current-password"/>\n' +
  '<button type="submit">Log in</button>\n</form>\n</body>\n</html>\n'

function control(state: SimState, req: HttpRequest, path: string): HttpResponse {
  const json = (body: Out) => jsonResponse(200, body)
  if (path === '/__sim/reset' && req.method === 'POST') {
    resetState(state)
    return json({ ok: true })
  }
  if (path === '/__sim/latency' && req.method === 'POST') {
    let body: Json = null
    try {
      body = pyJsonLoads(req.body || '{}')
    } catch {
      return jsonResponse(400, { error: 'invalid JSON' })
    }
    const fields = body && typeof body === 'object' && !Array.isArray(body) ? body : {}
    const ms = fields['ms']
    const login = fields['login']
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || (login !== undefined && typeof login !== 'string'))
      return jsonResponse(400, { error: 'expected {"ms": <non-negative number>, "login"?: <string>}' })
    if (typeof login === 'string') state.latencyByLogin.set(login, ms)
    else state.latencyMs = ms
    return json({ ok: true, ms, ...(typeof login === 'string' ? { login } : {}) })
  }
  if (path === '/__sim/latency' && req.method === 'GET') return json({ ms: state.latencyMs })
  if (path === '/__sim/calls' && req.method === 'GET') {
    // ?containing=TEXT: only the calls whose JSON holds TEXT. The whole log of a long test run is far larger than a
    // Worker test may take in (its isolate would run out of memory).
    const containing = new URLSearchParams(req.path.split('?')[1] ?? '').get('containing')
    const calls = containing === null ? state.calls : state.calls.filter((call) => JSON.stringify(call).includes(containing))
    return { ...json(null), body: JSON.stringify(calls) }
  }
  if (path === '/__sim/calls/clear' && req.method === 'POST') {
    state.calls = []
    return json({ ok: true })
  }
  if (path === '/__sim/in-flight' && req.method === 'GET') return json({ max: Object.fromEntries(state.maxInFlight) })
  if (path === '/__sim/in-flight/clear' && req.method === 'POST') {
    state.maxInFlight.clear()
    return json({ ok: true })
  }
  if (path === '/__sim/info' && req.method === 'GET')
    return json({ version: state.version, db: state.dbName, latencyMs: state.latencyMs })
  return notFoundPage()
}

/** Handles one request against the simulated Odoo `state`. */
export function handleOdooRequest(state: SimState, req: HttpRequest): HttpResponse {
  const path = req.path.split('?')[0] ?? '/'
  if (state.control && path.startsWith('/__sim/')) return control(state, req, path)
  if (path === '/jsonrpc') return handleJsonRpc(state, req)
  if (path === '/json/2' || path.startsWith('/json/2/')) {
    // Odoo 18 has no JSON-2 controller: the route simply does not exist.
    return state.version === 19 ? handleJson2(state, req, path) : notFoundPage()
  }
  if (path === '/web/version' && state.version === 19) {
    if (req.method !== 'GET' && req.method !== 'HEAD') return methodNotAllowedPage('GET, HEAD, OPTIONS')
    return jsonResponse(200, { version_info: [19, 0, 0, 'final', 0, ''], version: '19.0' })
  }
  if (path === '/web/webclient/version_info') {
    if (req.method !== 'POST') return methodNotAllowedPage('OPTIONS, POST')
    let id: Json = null
    try {
      const body = pyJsonLoads(req.body)
      if (body && typeof body === 'object' && !Array.isArray(body)) id = body['id'] ?? null
    } catch (error) {
      return jsonResponse(200, errorEnvelope(state.version, null, asOdooError(error)), {}, false)
    }
    return jsonResponse(200, { jsonrpc: '2.0', id, result: versionInfo(state.version) })
  }
  if (path === '/' || path === '/odoo' || path === '/web') {
    const location = path === '/' ? '/odoo' : '/web/login?redirect=%2Fodoo%3F'
    return { status: 303, headers: { server: SERVER, location, 'content-type': 'text/html; charset=utf-8' }, body: '' }
  }
  if (path === '/web/login' && (req.method === 'GET' || req.method === 'HEAD')) return htmlResponse(200, LOGIN_PAGE)
  return notFoundPage()
}
