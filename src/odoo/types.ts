/** What the rest of the gateway knows about Odoo: one client per API key and request, acting as the key's user. */

export type OdooProtocol = 'jsonrpc' | 'json2'

/** The `ODOO_PROTOCOL` setting: a protocol, or `auto` (detected from the server's version). */
export const ODOO_PROTOCOLS = ['jsonrpc', 'json2', 'auto'] as const
export type OdooProtocolSetting = (typeof ODOO_PROTOCOLS)[number]

export interface OdooCredentials {
  login: string
  /** The user's Odoo API key (JSON-2 needs one) or password (JSON-RPC accepts both). */
  secret: string
}

export interface OdooCallParams {
  /** Record ids, for record methods (`read`, `write`, `unlink`). */
  ids?: number[]
  /** Named arguments (`domain`, `fields`, `limit`, `vals_list`...). Always named, so both protocols take them as is. */
  kwargs?: Record<string, unknown>
  /** Odoo context (`lang`, `tz`, `active_test`). */
  context?: Record<string, unknown>
}

export interface OdooServerInfo {
  protocol: OdooProtocol
  /** Major version, e.g. 18 or 19. */
  majorVersion: number
}

export interface OdooClient {
  /** Calls `model.method` as the key's Odoo user. @throws OdooError | OdooUnavailableError */
  call<T = unknown>(model: string, method: string, params?: OdooCallParams): Promise<T>
  /** Protocol and version of the server (detected once per isolate, then cached). */
  serverInfo(): Promise<OdooServerInfo>
  /** The id of the user the client acts as (record filters' `$uid`); cached, asked with `common.authenticate` once. */
  uid?(): Promise<number>
}
