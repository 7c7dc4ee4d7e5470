/**
 * `odoo-mcp connections list|revoke`, over the admin API (docs/OAUTH.md "Connections"), and the parts of them
 * `connectors show` and `connectors remove` share (connectors.ts).
 *
 * A connection is one Odoo user signed in through one client under one connector profile, and acts like an API key
 * (its own object, rate limit and audit chain). The gateway revokes it in D1 with its admin log record, then its
 * object reloads it (refused from the next request) and its OAuth grant is dropped.
 */
import { CONNECTION_ID } from '../../src/oauth/connection-id'
import { adminRequest, allPages, orSay } from '../admin-api'
import { print, printJson, stringOption, type Command, type CommandContext } from '../command'
import { checkProfileName } from '../connector-input'
import { EXIT_OK, UsageError } from '../errors'
import { formatTable, formatTime } from '../format'

/** A connection as GET /admin/v1/connections answers it (docs/ADMIN-API.md). */
export interface ConnectionApiJson {
  id: string
  profile: string
  client_name: string
  client_id: string
  redirect_uri: string
  odoo_login: string
  odoo_uid: number | null
  status: 'live' | 'expired' | 'revoked'
  revoked_reason: string | null
  created_at: string
  expires_at: string
  revoked_at: string | null
  last_used_at: string | null
}

export const ms = (iso: string | null) => (iso === null ? null : Date.parse(iso))

/** The JSON `connections list` and `connectors show` print (camelCase, as since the first release). */
export function connectionJson(connection: ConnectionApiJson) {
  return {
    id: connection.id,
    profile: connection.profile,
    clientName: connection.client_name,
    clientId: connection.client_id,
    /** Where the client sends its user back: what `connectors add --redirect-uri` pins. */
    redirectUri: connection.redirect_uri,
    odooLogin: connection.odoo_login,
    status: connection.status,
    revokedReason: connection.revoked_reason,
    createdAt: connection.created_at,
    expiresAt: connection.expires_at,
    revokedAt: connection.revoked_at,
    lastUsedAt: connection.last_used_at,
  }
}

export function connectionsTable(connections: ConnectionApiJson[], withStatus: boolean): string {
  const headers = ['ID', 'PROFILE', 'CLIENT', 'ODOO LOGIN', 'CREATED', 'EXPIRES', 'LAST USED', ...(withStatus ? ['STATUS'] : [])]
  const rows = connections.map((connection) => [
    connection.id,
    connection.profile,
    connection.client_name,
    connection.odoo_login,
    formatTime(ms(connection.created_at)),
    formatTime(ms(connection.expires_at)),
    formatTime(ms(connection.last_used_at), 'never'),
    ...(withStatus ? [connection.revoked_reason ? `revoked (${connection.revoked_reason})` : connection.status] : []),
  ])
  return formatTable(headers, rows)
}

/** The live connections (of one profile), every page. */
export function liveConnections(context: CommandContext, profile?: string): Promise<ConnectionApiJson[]> {
  return allPages<ConnectionApiJson>(context, '/connections', { profile, status: 'live' })
}

/**
 * Says on stderr whether revocations applied at once (stdout keeps exactly the documented output): the objects
 * reloaded and the OAuth grants were dropped, or else the connections are refused within the key cache time.
 */
export function sayRevocationsApplied(context: CommandContext, count: number, applied: boolean, grantsRevoked: number): void {
  if (count === 0) return
  const what = count === 1 ? 'the connection' : `${count} connections`
  if (!applied) {
    context.io.stderr.write(
      `Recorded, but not every connection's object could reload at once: ${count === 1 ? 'it is' : 'they are'} refused within ` +
        'KEY_CACHE_TTL_SECONDS (30 s by default).\n',
    )
    return
  }
  const dropped =
    grantsRevoked === 0 ? '' : grantsRevoked === count ? ` and dropped ${count === 1 ? 'its OAuth grant' : 'their OAuth grants'}` : ` and dropped ${grantsRevoked} OAuth grants`
  context.io.stderr.write(`Applied now: the gateway reloaded ${what}${dropped}.\n`)
}

export const GATEWAY_NOTE =
  'The gateway (--gateway, ODOO_MCP_GATEWAY_URL; local default: the one `npm start` runs) revokes in D1, records ' +
  'the change in the admin log, and applies it at once: the connection is refused from the next request and its ' +
  'OAuth grant is dropped.'

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
    const connections = await allPages<ConnectionApiJson>(context, '/connections', { profile, status: all ? undefined : 'live' })
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
    'connector allows it. Revoking a revoked connection changes nothing, but the gateway applies it again.',
    GATEWAY_NOTE,
  ].join('\n'),
  options: {},
  arity: 1,
  async run(context) {
    const id = connectionIdArgument(context)
    const revoked = await orSay(
      adminRequest<ConnectionApiJson & { already_revoked: boolean; applied: boolean; grant_revoked: boolean }>(context, 'POST', `/connections/${id}/revoke`, { body: {} }),
      { connection_not_found: `no connection with ID ${id}` },
    )
    sayRevocationsApplied(context, 1, revoked.applied, revoked.grant_revoked ? 1 : 0)
    const who = `${revoked.client_name} as ${revoked.odoo_login}, connector ${revoked.profile}`
    if (context.json) printJson(context, { id, revokedAt: revoked.revoked_at, revokedReason: revoked.revoked_reason, alreadyRevoked: revoked.already_revoked })
    else if (revoked.already_revoked) print(context, `Connection ${id} (${who}) was already revoked on ${formatTime(ms(revoked.revoked_at))} (${revoked.revoked_reason}).`)
    else print(context, `Revoked connection ${id} (${who}).`)
    return EXIT_OK
  },
}

export const connectionCommands: Command[] = [connectionsList, connectionsRevoke]
