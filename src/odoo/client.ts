/**
 * The only code that speaks Odoo's wire protocols: JSON-RPC (`POST /jsonrpc`, Odoo 8-19) and JSON-2
 * (`POST /json/2/<model>/<method>`, Odoo 19+). Every call runs as the API key's own Odoo user, with that user's own
 * secret: Odoo's access rights and record rules apply exactly as in Odoo's UI.
 */
import { OdooError, OdooUnavailableError, odooErrorFromPayload } from './errors'
import { describeNonJson, odooHttp, type FetchLike } from './http'
import type { OdooCallParams, OdooClient, OdooCredentials, OdooProtocol, OdooProtocolSetting, OdooServerInfo } from './types'

export interface OdooClientOptions {
  baseUrl: string
  db: string
  protocol: OdooProtocolSetting
  timeoutMs: number
  credentials: OdooCredentials
  /** Identifies the credentials in the per-isolate uid cache; changes when the secret changes. */
  uidCacheKey: string
  /** A uid resolved earlier (stored in D1), so a fresh isolate need not authenticate again. */
  knownUid?: number | null
  /** Called once when `common.authenticate` resolved the uid, so the caller can persist it. */
  onUidResolved?: (uid: number) => void
  fetch?: FetchLike
}

/** How long a detected protocol/version is trusted before asking the server again: 10 minutes. */
const SERVER_INFO_TTL_MS = 10 * 60 * 1000
/** First Odoo major version with the JSON-2 API. */
const FIRST_JSON2_VERSION = 19

const serverInfoCache = new Map<string, { info: Promise<OdooServerInfo>; at: number }>()
const uidCache = new Map<string, number>()

/** Forgets detected server versions and resolved uids (tests; credential changes). */
export function clearOdooCaches(): void {
  serverInfoCache.clear()
  uidCache.clear()
}

export function createOdooClient(options: OdooClientOptions): OdooClient {
  const http = { timeoutMs: options.timeoutMs, fetch: options.fetch }
  let rpcId = 0
  let knownUid = options.knownUid

  async function jsonRpc(service: string, method: string, args: unknown[]): Promise<unknown> {
    const answer = await odooHttp(
      `${options.baseUrl}/jsonrpc`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', method: 'call', params: { service, method, args }, id: ++rpcId }),
      },
      http,
    )
    if (!answer.isJson) {
      throw new OdooUnavailableError(answer.status === 404 ? 'not_found' : 'bad_response', describeNonJson(answer))
    }
    const envelope = answer.json as { result?: unknown; error?: unknown } | null
    if (envelope && typeof envelope === 'object' && envelope.error) {
      const { error } = envelope
      // JSON-RPC 2.0 errors are objects; anything else there is not an answer from Odoo (and is never quoted).
      if (typeof error !== 'object' || Array.isArray(error)) {
        throw new OdooUnavailableError('bad_response', `Odoo answered HTTP ${answer.status} with a malformed JSON-RPC error`)
      }
      // Odoo puts the exception in `error.data`; a bare JSON-RPC error (no data) is a protocol-level problem.
      const { data, message } = error as { data?: unknown; message?: unknown }
      if (data) throw odooErrorFromPayload(data)
      throw odooErrorFromPayload({ name: 'JsonRpcError', message: typeof message === 'string' ? message : 'JSON-RPC error' })
    }
    if (!envelope || typeof envelope !== 'object' || !('result' in envelope)) {
      throw new OdooUnavailableError('bad_response', `Odoo answered HTTP ${answer.status} with JSON that is not a JSON-RPC response`)
    }
    return envelope.result
  }

  async function json2(model: string, method: string, body: Record<string, unknown>): Promise<unknown> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      authorization: `bearer ${options.credentials.secret}`,
    }
    if (options.db) headers['x-odoo-database'] = options.db
    const answer = await odooHttp(
      `${options.baseUrl}/json/2/${encodeURIComponent(model)}/${encodeURIComponent(method)}`,
      { method: 'POST', headers, body: JSON.stringify(body) },
      http,
    )
    if (answer.status >= 200 && answer.status < 300) {
      if (!answer.isJson) throw new OdooUnavailableError('bad_response', describeNonJson(answer))
      return answer.json
    }
    if (answer.isJson && answer.json && typeof answer.json === 'object' && 'name' in answer.json) {
      throw odooErrorFromPayload(answer.json, answer.status)
    }
    if (answer.status === 404) {
      throw new OdooUnavailableError(
        'not_found',
        `${describeNonJson(answer)}: the JSON-2 API was not found (Odoo older than 19, or no database selected: set ODOO_DB)`,
      )
    }
    throw new OdooUnavailableError('bad_response', describeNonJson(answer))
  }

  async function detectServer(): Promise<OdooServerInfo> {
    const setting = options.protocol
    let major: number | undefined
    if (setting !== 'json2') {
      try {
        major = parseMajor((await jsonRpc('common', 'version', [])) as { server_version_info?: unknown })
      } catch (error) {
        // A server without /jsonrpc (Odoo 22+ removes it) may still have JSON-2.
        if (setting === 'jsonrpc' || !(error instanceof OdooUnavailableError && error.reason === 'not_found')) throw error
      }
    }
    if (major === undefined) major = await webVersion()
    const protocol: OdooProtocol =
      setting === 'auto' ? (major !== undefined && major >= FIRST_JSON2_VERSION ? 'json2' : 'jsonrpc') : setting
    return { protocol, majorVersion: major ?? FIRST_JSON2_VERSION }
  }

  async function webVersion(): Promise<number | undefined> {
    const answer = await odooHttp(`${options.baseUrl}/web/version`, { method: 'GET', headers: { accept: 'application/json' } }, http)
    if (!answer.isJson) {
      if (options.protocol === 'json2') return undefined
      throw new OdooUnavailableError('not_found', `${describeNonJson(answer)}: no Odoo JSON-RPC or JSON-2 API found at ODOO_URL`)
    }
    const info = answer.json as { version_info?: unknown } | null
    return parseMajor({ server_version_info: info?.version_info })
  }

  function serverInfo(): Promise<OdooServerInfo> {
    const cacheKey = `${options.baseUrl}|${options.protocol}`
    const cached = serverInfoCache.get(cacheKey)
    if (cached && Date.now() - cached.at < SERVER_INFO_TTL_MS) return cached.info
    const info = detectServer()
    serverInfoCache.set(cacheKey, { info, at: Date.now() })
    // A failed detection must not be cached: the next call tries again.
    info.catch(() => serverInfoCache.delete(cacheKey))
    return info
  }

  async function resolveUid(): Promise<number> {
    const cached = uidCache.get(options.uidCacheKey)
    if (cached !== undefined) return cached
    if (knownUid) {
      uidCache.set(options.uidCacheKey, knownUid)
      return knownUid
    }
    const { login, secret } = options.credentials
    const uid = await jsonRpc('common', 'authenticate', [options.db, login, secret, {}])
    if (typeof uid !== 'number' || uid <= 0) {
      throw new OdooError('odoo.exceptions.AccessDenied', 'Access Denied')
    }
    uidCache.set(options.uidCacheKey, uid)
    options.onUidResolved?.(uid)
    return uid
  }

  async function call<T>(model: string, method: string, params: OdooCallParams = {}): Promise<T> {
    const { protocol } = await serverInfo()
    const kwargs: Record<string, unknown> = { ...params.kwargs }
    if (params.context) kwargs.context = params.context
    try {
      if (protocol === 'json2') {
        return (await json2(model, method, params.ids ? { ids: params.ids, ...kwargs } : kwargs)) as T
      }
      const uid = await resolveUid()
      const args = params.ids ? [params.ids] : []
      return (await jsonRpc('object', 'execute_kw', [options.db, uid, options.credentials.secret, model, method, args, kwargs])) as T
    } catch (error) {
      // Credentials changed or revoked in Odoo: forget the uid so the next call authenticates afresh (and fails closed).
      if (error instanceof OdooError && error.isAuthenticationFailure) {
        uidCache.delete(options.uidCacheKey)
        knownUid = null
      }
      throw error
    }
  }

  return { call, serverInfo, uid: resolveUid }
}

/** Reads the major version from `server_version_info` (`[18, 0, ...]`, or `['saas~17', 2, ...]` on Odoo Online). */
function parseMajor(info: { server_version_info?: unknown }): number | undefined {
  const first = Array.isArray(info?.server_version_info) ? info.server_version_info[0] : undefined
  const major = typeof first === 'number' ? first : typeof first === 'string' ? Number(first.replace(/^\D+/, '')) : NaN
  return Number.isFinite(major) && major > 0 ? major : undefined
}
