// The state of one simulated Odoo server: its database, options and the log of the calls it received.
import type { SessionUser } from './access'
import { seedData } from './data'
import { Db } from './db'
import { registryFor } from './models'
import type { Json, JsonObject, OdooVersion, Protocol } from './types'
import { DEMO_USERS, GROUP_BY_ID, impliedClosure } from './users'

export interface CallLogEntry {
  seq: number
  /** ISO timestamp of reception. */
  at: string
  protocol: Protocol
  /** JSON-RPC service (common, object, db); 'json2' for JSON-2 calls. */
  service: string
  /** ORM method for object / JSON-2 calls, service method otherwise. */
  method: string
  model: string | null
  /** Database named by the call (JSON-RPC argument, X-Odoo-Database header), if any. */
  db: string | null
  /** User whose credentials were accepted, null when authentication failed or was not attempted. */
  uid: number | null
  login: string | null
  /** How the caller authenticated. */
  credential: 'apikey' | 'password' | 'none' | 'invalid'
  /** Positional arguments of the ORM method (JSON-RPC) or of the service method. */
  args: Json[]
  /** Keyword arguments (JSON-RPC kwargs, or the JSON-2 body without ids/context). */
  kwargs: JsonObject
  ids: number[] | null
  context: JsonObject | null
  /** Request headers (lower-case names), minus transport noise. */
  headers: Record<string, string>
  /** JSON-RPC `params.args` as received, credentials included: lets tests prove what the gateway sent. */
  rawArgs: Json[] | null
  status: number
  /** Exception name when the call failed. */
  error: string | null
}

export interface SimState {
  readonly version: OdooVersion
  readonly dbName: string
  readonly control: boolean
  latencyMs: number
  /** A delay for one login's calls instead of latencyMs (POST /__sim/latency with a login). */
  latencyByLogin: Map<string, number>
  db: Db
  calls: CallLogEntry[]
  callSeq: number
  /**
   * Calls being answered right now (inside the simulated latency), and the most at once since the last clear, per
   * login: shows whether one API key's calls overlap or wait for each other (server.ts counts; /__sim/in-flight).
   */
  inFlight: Map<string, number>
  maxInFlight: Map<string, number>
}

export const MAX_CALLS = 1000

export interface StateOptions {
  version?: OdooVersion
  db?: string
  control?: boolean
  latencyMs?: number
}

export function createState(options: StateOptions = {}): SimState {
  const version = options.version ?? 18
  const db = new Db(registryFor(version), version)
  db.load(seedData(version))
  return {
    version,
    dbName: options.db ?? 'mcp_demo',
    control: options.control ?? false,
    latencyMs: options.latencyMs ?? 0,
    latencyByLogin: new Map(),
    db,
    calls: [],
    callSeq: 0,
    inFlight: new Map(),
    maxInFlight: new Map(),
  }
}

/** Restores the initial demo data (the call log is kept; see /__sim/calls/clear). */
export function resetState(state: SimState): void {
  state.db.load(seedData(state.version))
}

export function logCall(state: SimState, entry: Omit<CallLogEntry, 'seq' | 'at'>): void {
  state.callSeq += 1
  state.calls.push({ seq: state.callSeq, at: new Date().toISOString(), ...entry })
  if (state.calls.length > MAX_CALLS) state.calls.splice(0, state.calls.length - MAX_CALLS)
}

/** The user as the ORM sees it (active, groups from res.users.groups_id, implied groups added). */
export function sessionUser(state: SimState, uid: number): SessionUser | null {
  const record = state.db.get('res.users', uid)
  if (!record || record['active'] !== true) return null
  const groupIds = Array.isArray(record['groups_id']) ? record['groups_id'] : []
  const xmlids = groupIds.map((id) => GROUP_BY_ID.get(id)?.xmlid).filter((x): x is string => x !== undefined)
  return {
    uid,
    name: String(record['name']),
    login: String(record['login']),
    groups: new Set(impliedClosure(xmlids)),
  }
}

/** res.users._check_credentials: the user's password or one of its API keys. */
export function checkCredentials(state: SimState, uid: number, secret: Json | undefined): 'password' | 'apikey' | null {
  const user = DEMO_USERS.find((u) => u.uid === uid)
  if (!user || typeof secret !== 'string' || !sessionUser(state, uid)) return null
  if (secret === user.apiKey) return 'apikey'
  if (secret === user.password) return 'password'
  return null
}

export function uidForLogin(login: Json | undefined): number | null {
  return DEMO_USERS.find((u) => u.login === login)?.uid ?? null
}

/** The user owning a JSON-2 bearer token (API keys only: a password is not a bearer token). */
export function uidForApiKey(state: SimState, key: string): number | null {
  const user = DEMO_USERS.find((u) => u.apiKey === key)
  return user && sessionUser(state, user.uid) ? user.uid : null
}

const NOISY_HEADERS = new Set([
  'host',
  'content-length',
  'connection',
  'accept-encoding',
  'keep-alive',
  'transfer-encoding',
])

export function loggedHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) if (!NOISY_HEADERS.has(name)) out[name] = value
  return out
}
