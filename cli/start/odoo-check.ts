/**
 * `npm start` with a configured Odoo: one look at ODOO_URL before the banner, so a typo or a stopped Odoo shows at
 * start-up instead of as "Odoo unavailable" on the first tool call. The gateway starts either way: Odoo may come up
 * later, and the Worker detects the server again on its own.
 *
 * The check is the Worker's own server detection (src/odoo/client.ts: JSON-RPC `common.version`, then `/web/version`),
 * so it fails exactly where the gateway would. It needs no credentials and sends none.
 */
import { createOdooClient } from '../../src/odoo/client'
import { OdooError, OdooUnavailableError } from '../../src/odoo/errors'
import { ODOO_PROTOCOLS, type OdooProtocolSetting } from '../../src/odoo/types'

/** Start-up is not the place to wait 30 s (the gateway's ODOO_TIMEOUT_MS default) for a server that is not there. */
const CHECK_TIMEOUT_MS = 5_000

export type OdooCheck = { ok: true; line: string } | { ok: false; line: string }

export interface OdooCheckInput {
  url: string
  db: string | undefined
  protocol: string | undefined
  fetch?: (input: string, init: RequestInit) => Promise<Response>
}

export async function checkOdoo({ url, db, protocol, fetch }: OdooCheckInput): Promise<OdooCheck> {
  let base: URL
  try {
    base = new URL(url)
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error('not http(s)')
  } catch {
    // Not echoed whole: a mistyped URL may still carry user:password@.
    const shown = url.replace(/\/\/[^/@]*@/, '//…@').slice(0, 200)
    return { ok: false, line: `Warning: ODOO_URL '${shown}' is not an http(s) URL; tool calls will fail until it is fixed.` }
  }
  // Read like src/config.ts reads ODOO_PROTOCOL.
  const wanted = (protocol ?? '').trim().toLowerCase()
  const setting = (ODOO_PROTOCOLS as readonly string[]).includes(wanted) ? (wanted as OdooProtocolSetting) : 'auto'
  const client = createOdooClient({
    baseUrl: url.replace(/\/+$/, ''),
    db: db ?? '',
    protocol: setting,
    timeoutMs: CHECK_TIMEOUT_MS,
    credentials: { login: '', secret: '' },
    uidCacheKey: 'npm-start-check',
    ...(fetch ? { fetch } : {}),
  })
  try {
    const info = await client.serverInfo()
    // JSON-2 finds the database from the host name when Odoo serves one per host; JSON-RPC always needs it.
    const missingDb = !db && info.protocol === 'jsonrpc' ? ' Warning: ODOO_DB is not set; set it to the database name (JSON-RPC needs it).' : ''
    return {
      ok: !missingDb,
      line: `Odoo ${info.majorVersion} answers at ${base.origin} (${info.protocol === 'json2' ? 'JSON-2' : 'JSON-RPC'}).${missingDb}`,
    }
  } catch (error) {
    const detail =
      error instanceof OdooUnavailableError || error instanceof OdooError ? error.message : 'the check failed unexpectedly'
    return {
      ok: false,
      line: `Warning: Odoo at ${base.origin} did not answer as Odoo: ${detail}. The gateway runs anyway; tool calls fail until Odoo answers.`,
    }
  }
}
