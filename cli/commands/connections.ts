/**
 * `odoo-mcp connections list|revoke`: the OAuth connections made through sign-in (docs/OAUTH.md), and the parts of
 * them `connectors show` and `connectors remove` share (connectors.ts).
 *
 * A connection is one Odoo user signed in through one client under one connector profile, and acts like an API key
 * (its own object, rate limit and audit chain). Revoking one is written to D1, then the gateway is told: its object
 * reloads it and its OAuth grant is dropped (POST /admin/connections/:id/refresh), or else it is refused within the
 * key cache time.
 */
import { CONNECTION_ID } from '../../src/oauth/connection-id'
import { print, printJson, stringOption, type Command, type CommandContext } from '../command'
import { checkProfileName } from '../connector-input'
import { executeSql, type Row } from '../d1'
import { CliError, EXIT_OK, UsageError } from '../errors'
import { formatTable, formatTime, isoOrNull } from '../format'
import { adminPost } from '../gateway'
import { sql } from '../sql'

/** The rule of a live connection (`c`, joined to its profile `p`): not revoked, not expired, its profile active. */
export const liveConnectionSql = (now: number) =>
  sql`c.revoked_at IS NULL AND c.expires_at > ${now} AND p.removed_at IS NULL AND p.name IS NOT NULL`

export interface Connection {
  id: string
  profile: string
  clientName: string
  clientId: string
  /** Where the client sends its user back: what `connectors add --redirect-uri` pins. */
  redirectUri: string
  odooLogin: string
  status: string
  revokedReason: string | null
  createdAt: number
  expiresAt: number
  revokedAt: number | null
  lastUsedAt: number | null
}

export function connectionsSelect(now: number, filter: { profile?: string; all: boolean }): string {
  const conditions = [...(filter.profile ? [sql`c.profile = ${filter.profile}`] : []), ...(filter.all ? [] : [liveConnectionSql(now)])]
  return `SELECT c.id, c.profile, c.client_name, c.client_id, c.redirect_uri, c.odoo_login, c.created_at, c.expires_at, c.revoked_at, c.revoked_reason,
                 c.last_used_at, (p.name IS NOT NULL AND p.removed_at IS NULL) AS profile_active
            FROM connections c LEFT JOIN connector_profiles p ON p.name = c.profile
           ${conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''} ORDER BY c.created_at`
}

/** As the gateway sees it (oauth/connection-store.ts): revoked, or revoked with its profile, or expired, or live. */
export function connectionOf(row: Row, now: number): Connection {
  const revokedReason = (row.revoked_reason as string | null) ?? (Number(row.profile_active) ? null : 'profile_removed')
  const revoked = row.revoked_at !== null || !Number(row.profile_active)
  return {
    id: String(row.id),
    profile: String(row.profile),
    clientName: String(row.client_name),
    clientId: String(row.client_id),
    redirectUri: String(row.redirect_uri),
    odooLogin: String(row.odoo_login),
    status: revoked ? 'revoked' : Number(row.expires_at) <= now ? 'expired' : 'live',
    revokedReason: revoked ? revokedReason : null,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    revokedAt: (row.revoked_at as number | null) ?? null,
    lastUsedAt: (row.last_used_at as number | null) ?? null,
  }
}

export function connectionJson(connection: Connection) {
  return {
    ...connection,
    createdAt: isoOrNull(connection.createdAt),
    expiresAt: isoOrNull(connection.expiresAt),
    revokedAt: isoOrNull(connection.revokedAt),
    lastUsedAt: isoOrNull(connection.lastUsedAt),
  }
}

export function connectionsTable(connections: Connection[], withStatus: boolean): string {
  const headers = ['ID', 'PROFILE', 'CLIENT', 'ODOO LOGIN', 'CREATED', 'EXPIRES', 'LAST USED', ...(withStatus ? ['STATUS'] : [])]
  const rows = connections.map((connection) => [
    connection.id,
    connection.profile,
    connection.clientName,
    connection.odooLogin,
    formatTime(connection.createdAt),
    formatTime(connection.expiresAt),
    formatTime(connection.lastUsedAt, 'never'),
    ...(withStatus ? [connection.revokedReason ? `revoked (${connection.revokedReason})` : connection.status] : []),
  ])
  return formatTable(headers, rows)
}

/**
 * Tells the gateway about revoked connections, one call each, and says on stderr when the change applies (like
 * `keys revoke`): stdout keeps exactly the documented output. Stops at the first gateway that cannot be reached,
 * rather than waiting out the timeout once per connection.
 */
export async function applyNow(context: CommandContext, ids: string[]): Promise<boolean> {
  let reloaded = 0
  let grants = 0
  let failure: { gateway?: string; reason: string } | undefined
  for (const id of ids) {
    const call = await adminPost<{ grant_revoked?: boolean }>(context, `/admin/connections/${id}/refresh`)
    if (call.ok) {
      reloaded++
      if (call.body?.grant_revoked) grants++
      continue
    }
    failure = call
    if (call.status === undefined) break
  }
  if (ids.length === 0) return true
  const what = ids.length === 1 ? 'the connection' : `${ids.length} connections`
  if (failure) {
    const where = failure.gateway ? ` at ${failure.gateway}` : ''
    context.io.stderr.write(
      `Could not tell the gateway${where} about ${reloaded === 0 ? what : `${ids.length - reloaded} of ${ids.length} connections`} ` +
        `(${failure.reason}): ${ids.length === 1 ? 'it is' : 'they are'} refused within the key cache time (KEY_CACHE_TTL_SECONDS, 30 s by default).\n`,
    )
    return false
  }
  const dropped = grants === 0 ? '' : grants === reloaded ? ` and dropped ${ids.length === 1 ? 'its OAuth grant' : 'their OAuth grants'}` : ` and dropped ${grants} OAuth grants`
  context.io.stderr.write(`Applied now: the gateway reloaded ${what}${dropped}.\n`)
  return true
}

export const GATEWAY_NOTE =
  'The change is written to D1, then the gateway is told to apply it at once (--gateway, ODOO_MCP_GATEWAY_URL; local ' +
  'default http://127.0.0.1:8787): the connection is refused from the next request and its OAuth grant is dropped. If ' +
  'the gateway cannot be reached, the connection is refused within KEY_CACHE_TTL_SECONDS.'

const connectionsList: Command = {
  name: 'connections list',
  summary: 'List OAuth connections (live ones unless --all)',
  synopsis: '[--profile NAME] [--all] [--json]',
  description: [
    'Lists the connections made through OAuth sign-in: one per Odoo user, client and connector profile.',
    'Live ones only by default; --all adds the expired and revoked ones, with the reason (admin, client,',
    'refresh_reuse, reauthorized, profile_removed). --json adds each client\'s id and redirect URI (to pin with',
    '`connectors add --redirect-uri`). LAST USED is copied from the gateway at most once a minute.',
  ].join('\n'),
  options: {
    profile: { type: 'string', value: 'NAME', description: 'Only the connections of this connector profile' },
    all: { type: 'boolean', description: 'Expired and revoked connections too' },
  },
  arity: 0,
  async run(context) {
    const profileOption = stringOption(context, 'profile')
    const profile = profileOption === undefined ? undefined : checkProfileName(profileOption, '--profile NAME')
    const all = context.values.all === true
    const [rows = []] = await executeSql(context.target, connectionsSelect(context.now, { ...(profile ? { profile } : {}), all }))
    const connections = rows.map((row) => connectionOf(row, context.now))
    if (context.json) printJson(context, connections.map(connectionJson))
    else if (connections.length === 0) print(context, all ? 'No connections.' : 'No live connections.')
    else print(context, connectionsTable(connections, all))
    return EXIT_OK
  },
}

function connectionIdArgument(context: CommandContext): string {
  const id = context.args[0]
  if (id === undefined) throw new UsageError('missing connection ID (con_ + 16 hex characters, see `odoo-mcp connections list`)')
  // An OAuth token starts with its connection id: never echo the rest of a pasted token.
  if (/^con_[0-9a-f]{16}:/.test(id)) {
    throw new UsageError(`that is an OAuth token, not a connection ID: the ID is its part before the first ':' (${id.slice(0, 20)})`)
  }
  if (!CONNECTION_ID.test(id)) throw new UsageError(`'${id.slice(0, 20)}' is not a connection ID (con_ + 16 hex characters, see \`odoo-mcp connections list\`)`)
  return id
}

const connectionsRevoke: Command = {
  name: 'connections revoke',
  summary: 'Revoke an OAuth connection',
  synopsis: 'ID [--json]',
  description: [
    'Revokes a connection for good (reason admin): its tokens are refused; the user may sign in again while the',
    'connector allows it. Revoking a revoked connection changes nothing.',
    GATEWAY_NOTE,
  ].join('\n'),
  options: {},
  arity: 1,
  async run(context) {
    const id = connectionIdArgument(context)
    const [updated = [], rows = []] = await executeSql(
      context.target,
      [
        sql`UPDATE connections SET revoked_at = ${context.now}, revoked_reason = 'admin' WHERE id = ${id} AND revoked_at IS NULL RETURNING id`,
        sql`SELECT client_name, odoo_login, profile, revoked_at, revoked_reason FROM connections WHERE id = ${id}`,
      ].join(';\n'),
    )
    const row = rows[0]
    if (!row) throw new CliError(`no connection with ID ${id}`)
    const alreadyRevoked = updated.length === 0
    await applyNow(context, [id])
    const revokedAt = Number(row.revoked_at)
    const who = `${String(row.client_name)} as ${String(row.odoo_login)}, connector ${String(row.profile)}`
    if (context.json) printJson(context, { id, revokedAt: isoOrNull(revokedAt), revokedReason: row.revoked_reason, alreadyRevoked })
    else if (alreadyRevoked) print(context, `Connection ${id} (${who}) was already revoked on ${formatTime(revokedAt)} (${String(row.revoked_reason)}).`)
    else print(context, `Revoked connection ${id} (${who}).`)
    return EXIT_OK
  },
}

export const connectionCommands: Command[] = [connectionsList, connectionsRevoke]
