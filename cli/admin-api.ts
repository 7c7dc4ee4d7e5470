/**
 * The CLI's client of the gateway's admin API (docs/ADMIN-API.md): every command is one signed HTTPS request, or a
 * few for paged output. Where the gateway is, and the signing secret, come from gateway.ts (--gateway,
 * ODOO_MCP_GATEWAY_URL, the URL `npm start` wrote; --admin-secret-file, ODOO_MCP_ADMIN_SECRET, .dev.vars).
 *
 * Failures become CliErrors a person can act on: a gateway that is not running ("start it with npm start"), the URL
 * tried for --remote, a refused signature. Answers the command handles itself (key_not_found...) come back as
 * AdminApiError with the gateway's stable code.
 */
import { userInfo } from 'node:os'
import { ADMIN_ACTOR, signAdminRequest } from '../src/admin/signature'
import type { CommandContext } from './command'
import { CliError } from './errors'
import { adminSecret, gatewayUrl } from './gateway'

export const API_PREFIX = '/admin/v1'
const DEFAULT_TIMEOUT_MS = 30_000

/**
 * How long one request may wait for its answer: the command's own allowance (30 s unless it asks for more), or
 * ODOO_MCP_TIMEOUT seconds when that is longer (a gateway behind a slow link, or a busy local machine).
 */
function requestTimeoutMs(context: CommandContext, own: number | undefined): number {
  const allowance = own ?? DEFAULT_TIMEOUT_MS
  const text = context.env.ODOO_MCP_TIMEOUT
  if (text === undefined || text === '') return allowance
  if (!/^\d{1,4}$/.test(text) || Number(text) < 1) throw new CliError(`ODOO_MCP_TIMEOUT must be a whole number of seconds from 1 to 9999, not '${text.slice(0, 20)}'`)
  return Math.max(allowance, Number(text) * 1000)
}

/** The gateway answered with an error body: `code` is its stable error code. */
export class AdminApiError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: string[] = [],
  ) {
    super(details.length ? `${message}:\n${details.map((line) => `  ${line}`).join('\n')}` : message)
  }
}

export interface AdminRequestOptions {
  query?: Record<string, string | number | boolean | undefined>
  body?: unknown
  timeoutMs?: number
  /** The body holds a secret: sent only to https, or to plain http on loopback (where `npm start` runs). */
  secretPayload?: boolean
}

function isRemotePlainHttp(url: URL): boolean {
  return url.protocol === 'http:' && !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)
}

/** Who the request is signed as, for the admin log: ODOO_MCP_ACTOR, else the OS user name (self-asserted). */
function actorOf(context: CommandContext): string | undefined {
  let name = context.env.ODOO_MCP_ACTOR
  if (name === undefined) {
    try {
      name = userInfo().username
    } catch {
      return undefined
    }
  }
  const cleaned = name.replace(/[^\p{L}\p{N}._@+-]/gu, '_').slice(0, 64)
  return ADMIN_ACTOR.test(cleaned) ? cleaned : undefined
}

function unreachable(context: CommandContext, gateway: string, reason: string): CliError {
  if (context.target.remote) {
    return new CliError(`cannot reach the gateway at ${gateway} (${reason}). Check --gateway / ODOO_MCP_GATEWAY_URL, and that the Worker is deployed.`)
  }
  return new CliError(`cannot reach the local gateway at ${gateway} (${reason}). Start it with \`npm start\`, or point at another one with --gateway URL.`)
}

function refusedHint(code: string, context: CommandContext): string {
  switch (code) {
    case 'admin_bad_signature':
      return context.target.remote
        ? ' Is ODOO_MCP_ADMIN_SECRET / --admin-secret-file the deployed ADMIN_SECRET?'
        : ' Is .dev.vars the one the running gateway started with? (restart `npm start`)'
    case 'admin_stale':
      return " Check this machine's clock."
    case 'admin_disabled':
      return ' Set ADMIN_SECRET on the gateway (`npx wrangler secret put ADMIN_SECRET`; `npm start` sets one locally).'
    case 'admin_signature_outdated':
    case 'not_found':
      return ' Is the gateway older than this CLI? Deploy the current version.'
    default:
      return ''
  }
}

/** One signed request to `/admin/v1<path>`; the parsed JSON answer. @throws CliError / AdminApiError */
export async function adminRequest<T>(context: CommandContext, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, options: AdminRequestOptions = {}): Promise<T> {
  const gateway = gatewayUrl(context)
  if (!gateway) throw new CliError('--remote needs the deployed gateway\'s URL: pass --gateway URL or set ODOO_MCP_GATEWAY_URL')
  const url = new URL(gateway + API_PREFIX + path)
  for (const [name, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(name, String(value))
  if (options.secretPayload && isRemotePlainHttp(url)) throw new CliError(`refusing to send a secret to ${gateway} over plain http: use its https URL`)
  const secret = adminSecret(context)
  if (!secret) {
    throw new CliError(
      context.target.remote
        ? 'no admin secret: set ODOO_MCP_ADMIN_SECRET or pass --admin-secret-file FILE (the deployed ADMIN_SECRET)'
        : `no ADMIN_SECRET in ${context.projectDir}/.dev.vars (\`npm start\` writes one), and no ODOO_MCP_ADMIN_SECRET`,
    )
  }
  const body = options.body === undefined ? '' : JSON.stringify(options.body)
  const actor = actorOf(context)
  const headers = await signAdminRequest(secret, { method, host: url.host, pathWithQuery: url.pathname + url.search, body, ...(actor ? { actor } : {}) })
  const timeoutMs = requestTimeoutMs(context, options.timeoutMs)
  let response: Response
  try {
    response = await fetch(url, {
      method,
      headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body || undefined,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    })
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause
    const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${Math.round(timeoutMs / 1000)} s` : (cause?.code ?? cause?.message ?? (error as Error).message)
    throw unreachable(context, gateway, reason)
  }
  let json: unknown
  try {
    json = await response.json()
  } catch {
    // Not JSON: not our gateway (or a proxy's error page). The status says enough.
  }
  if (response.ok && json !== undefined) return json as T
  const answer = (json ?? {}) as { error?: unknown; message?: unknown; details?: unknown }
  if (typeof answer.error !== 'string') {
    throw new CliError(`the gateway at ${gateway} answered HTTP ${response.status} without an admin API body: is that URL an odoo-mcp-edge gateway?`)
  }
  const message = typeof answer.message === 'string' ? answer.message : `HTTP ${response.status}`
  const details = Array.isArray(answer.details) ? answer.details.filter((line): line is string => typeof line === 'string') : []
  if (/^admin_|^access_/.test(answer.error) || response.status === 404 && answer.error === 'not_found') {
    throw new AdminApiError(response.status, answer.error, `the gateway at ${gateway} refused the request: ${message}.${refusedHint(answer.error, context)}`)
  }
  throw new AdminApiError(response.status, answer.error, message, details)
}

export interface Page<T> {
  items: T[]
  next_cursor: string | null
}

/**
 * Every item of a list, page after page (`onPage` sees the running count, for a progress bar). `max` stops early
 * without fetching pages nobody asked for.
 */
export async function allPages<T>(
  context: CommandContext,
  path: string,
  query: Record<string, string | number | boolean | undefined> = {},
  options: { max?: number; pageSize?: number; onPage?: (count: number) => void } = {},
): Promise<T[]> {
  const items: T[] = []
  let cursor: string | undefined
  const max = options.max ?? Infinity
  do {
    const limit = Math.min(options.pageSize ?? 1000, max - items.length)
    const page = await adminRequest<Page<T>>(context, 'GET', path, { query: { ...query, limit, cursor } })
    items.push(...page.items)
    options.onPage?.(items.length)
    cursor = page.next_cursor ?? undefined
  } while (cursor && items.length < max)
  return items
}

/** Runs `call`; an AdminApiError with one of `codes` becomes the CliError `message` says instead. */
export async function orSay<T>(call: Promise<T>, codes: Record<string, string>): Promise<T> {
  try {
    return await call
  } catch (error) {
    if (error instanceof AdminApiError && error.code in codes) throw new CliError(codes[error.code]!)
    throw error
  }
}
