/**
 * The CLI's side of the admin channel (docs/KEY-LIFECYCLE.md): after a key change is written to D1, the deployment
 * is told to reload that key, so the change applies on the very next request. If the gateway cannot be reached, the
 * change still applies within the key cache time (KEY_CACHE_TTL_SECONDS, 30 s by default): D1 is the truth, the
 * call only shortens the wait.
 *
 * The same channel checks Odoo credentials for `keys create` / `keys set-odoo-secret` (cli/odoo-verify.ts): the only
 * call whose body holds a secret, so it goes to https, or to plain http on loopback only.
 *
 * Where the gateway is: --gateway URL, else ODOO_MCP_GATEWAY_URL, else (local only) http://127.0.0.1:8787.
 * The signing secret: --admin-secret-file FILE, else ODOO_MCP_ADMIN_SECRET, else (local only) ADMIN_SECRET in
 * .dev.vars.
 */
import { readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { signAdminRequest } from '../src/admin/signature'
import { stringOption, type CommandContext } from './command'
import { readDotenvFile } from './dotenv'
import { CliError } from './errors'

export const LOCAL_GATEWAY_URL = 'http://127.0.0.1:8787'
/** File `npm start` writes next to its local state with the URL it serves on. */
const GATEWAY_URL_FILE = 'odoo-mcp-gateway-url'

export async function writeGatewayUrlFile(stateDir: string, url: string): Promise<void> {
  await mkdir(stateDir, { recursive: true })
  await writeFile(join(stateDir, GATEWAY_URL_FILE), `${url}\n`)
}

/** The URL the local `npm start` announced, if it wrote one. */
function localGatewayUrl(context: CommandContext): string {
  try {
    const written = readFileSync(join(context.target.persistTo ?? join(context.projectDir, '.wrangler'), GATEWAY_URL_FILE), 'utf8').trim()
    if (/^http:\/\/127\.0\.0\.1:\d{1,5}$/.test(written)) return written
  } catch {
    // No npm start yet: the default port.
  }
  return LOCAL_GATEWAY_URL
}
const NOTIFY_TIMEOUT_MS = 5_000

export type Notification =
  | { appliedNow: true; gateway: string }
  | { appliedNow: false; gateway?: string; reason: string }


export function gatewayUrl(context: CommandContext): string | undefined {
  const url = stringOption(context, 'gateway') ?? context.env.ODOO_MCP_GATEWAY_URL
  if (url) {
    if (!/^https?:\/\/[^\s/]+/.test(url)) throw new CliError(`--gateway / ODOO_MCP_GATEWAY_URL must be an http(s) URL (got '${url}')`)
    return url.replace(/\/+$/, '')
  }
  return context.target.remote ? undefined : localGatewayUrl(context)
}

export function adminSecret(context: CommandContext): string | undefined {
  const file = stringOption(context, 'admin-secret-file')
  if (file) {
    try {
      const text = readFileSync(file, 'utf8')
      return (readDotenvFileText(text) ?? text).trim()
    } catch (error) {
      throw new CliError(`cannot read --admin-secret-file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
    }
  }
  if (context.env.ODOO_MCP_ADMIN_SECRET) return context.env.ODOO_MCP_ADMIN_SECRET.trim()
  if (!context.target.remote) return readDotenvFile(join(context.projectDir, '.dev.vars'))?.ADMIN_SECRET
  return undefined
}

/** Accepts a dotenv-style file (ADMIN_SECRET=...) as well as the bare value. */
function readDotenvFileText(text: string): string | undefined {
  return /^\s*ADMIN_SECRET\s*=\s*(.+)$/m.exec(text)?.[1]?.replace(/^(['"])(.*)\1$/, '$2')
}

export type AdminCall<T> =
  | { ok: true; gateway: string; body: T }
  /**
   * `reason` is one line for humans. When the gateway answered, `status` and `code` (the error code of its JSON body,
   * e.g. odoo_credentials_refused) and `message` (its text) say what it answered; otherwise it was not reached.
   */
  | { ok: false; gateway?: string; reason: string; status?: number; code?: string; message?: string }

export interface AdminPostOptions {
  /** How long to wait for the answer; default 5 s. */
  timeoutMs?: number
  /**
   * The payload holds a secret: it is sent only to https, or to plain http on loopback (where `npm start` runs).
   */
  secretPayload?: boolean
}

/** A plain-http URL that leaves this machine: fine for a reload notice, not for a secret. */
function isRemotePlainHttp(url: string): boolean {
  try {
    const { protocol, hostname } = new URL(url)
    return protocol === 'http:' && !['127.0.0.1', 'localhost', '[::1]'].includes(hostname)
  } catch {
    return true
  }
}

/** A signed POST to the gateway's admin channel. Never throws for an unreachable or refusing gateway. */
export async function adminPost<T>(
  context: CommandContext,
  path: string,
  payload?: unknown,
  options: AdminPostOptions = {},
): Promise<AdminCall<T>> {
  const gateway = gatewayUrl(context)
  if (!gateway) return { ok: false, reason: 'no gateway URL (set ODOO_MCP_GATEWAY_URL or pass --gateway URL)' }
  if (options.secretPayload && isRemotePlainHttp(gateway)) {
    return { ok: false, gateway, reason: 'refusing to send a secret to it over plain http: use its https URL' }
  }
  const timeoutMs = options.timeoutMs ?? NOTIFY_TIMEOUT_MS
  const secret = adminSecret(context)
  if (!secret) {
    return {
      ok: false,
      gateway,
      reason: context.target.remote
        ? 'no admin secret (set ODOO_MCP_ADMIN_SECRET or pass --admin-secret-file FILE)'
        : 'no ADMIN_SECRET in .dev.vars (`npm start` adds one)',
    }
  }
  const body = payload === undefined ? '' : JSON.stringify(payload)
  try {
    const response = await fetch(gateway + path, {
      method: 'POST',
      headers: { ...(await signAdminRequest(secret, { method: 'POST', host: new URL(gateway).host, pathWithQuery: path, body })), ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body || undefined,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    })
    let json: unknown
    try {
      json = await response.json()
    } catch {
      // Not our gateway, or not JSON: the status says enough.
    }
    if (response.ok) return { ok: true, gateway, body: json as T }
    const answer = json as { error?: unknown; message?: unknown } | undefined
    const message = typeof answer?.message === 'string' ? answer.message : undefined
    const code = typeof answer?.error === 'string' ? answer.error : undefined
    return {
      ok: false,
      gateway,
      reason: `HTTP ${response.status}${message ? `: ${message}` : ''}`,
      status: response.status,
      ...(code ? { code } : {}),
      ...(message ? { message } : {}),
    }
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause
    const reason =
      (error as Error).name === 'TimeoutError'
        ? `no answer within ${Math.round(timeoutMs / 1000)} s`
        : `unreachable (${cause?.code ?? cause?.message ?? (error as Error).message})`
    return { ok: false, gateway, reason }
  }
}

/** Tells the gateway to reload key `id` now. D1 already holds the change, so a failure only means waiting. */
export async function notifyGateway(context: CommandContext, id: string): Promise<Notification> {
  const result = await adminPost(context, `/admin/keys/${id}/refresh`)
  return result.ok ? { appliedNow: true, gateway: result.gateway } : { appliedNow: false, gateway: result.gateway, reason: result.reason }
}

/** One line for humans about when the change applies. */
export function describeNotification(notification: Notification): string {
  if (notification.appliedNow) return `Applied now: the gateway at ${notification.gateway} reloaded the key.`
  const where = notification.gateway ? ` at ${notification.gateway}` : ''
  return (
    `Could not tell the gateway${where} (${notification.reason}): ` +
    'the change applies within the key cache time (KEY_CACHE_TTL_SECONDS, 30 s by default).'
  )
}
