/**
 * `odoo-mcp connectors add|list|show|remove` and `odoo-mcp connections list|revoke`: OAuth sign-in (docs/OAUTH.md).
 *
 * A connector profile says who may connect through OAuth (Odoo logins, client, redirect URIs) and with which policy;
 * a connection is one Odoo user signed in through one client under one profile, and acts like an API key (its own
 * object, rate limit and audit chain). The gateway reads profiles from D1 at every sign-in, so adding or removing one
 * needs no call to it; a revoked connection does: its object reloads it and its OAuth grant is dropped
 * (POST /admin/connections/:id/refresh), or else it is refused within the key cache time.
 */
import { print, printJson, stringOption, type Command, type CommandContext } from '../command'
import { checkClientName, checkLogins, checkProfileName, checkRedirectUris, checkTtl, CONNECTION_TTL, formatDuration, TOKEN_TTL } from '../connector-input'
import { executeSql, type Row } from '../d1'
import { CliError, EXIT_OK, UsageError } from '../errors'
import { formatTable, formatTime, isoOrNull } from '../format'
import { adminPost } from '../gateway'
import { readPolicyFile } from '../policy'
import { sql } from '../sql'

/**
 * Revokes the connections left unrevoked under a profile that is not active (removed, or its row deleted): the
 * gateway counts them revoked only through the profile, so re-adding the name must not bring them back to life.
 */
export function retireOrphanedConnectionsSql(name: string, now: number): string {
  return sql`UPDATE connections SET revoked_at = ${now}, revoked_reason = 'profile_removed'
              WHERE profile = ${name} AND revoked_at IS NULL
                AND NOT EXISTS (SELECT 1 FROM connector_profiles WHERE name = ${name} AND removed_at IS NULL)`
}

interface Profile {
  name: string
  policy: string
  logins: string[] | null
  clientName: string | null
  redirectUris: string[]
  tokenTtlSeconds: number
  connectionTtlSeconds: number
  createdAt: number
  removedAt: number | null
  liveConnections: number
}

function profileOf(row: Row): Profile {
  return {
    name: String(row.name),
    policy: String(row.policy),
    logins: row.logins === null ? null : (JSON.parse(String(row.logins)) as string[]),
    clientName: (row.client_name as string | null) ?? null,
    redirectUris: JSON.parse(String(row.redirect_uris)) as string[],
    tokenTtlSeconds: Number(row.token_ttl_seconds),
    connectionTtlSeconds: Number(row.connection_ttl_seconds),
    createdAt: Number(row.created_at),
    removedAt: (row.removed_at as number | null) ?? null,
    liveConnections: Number(row.live ?? 0),
  }
}

function profileJson(profile: Profile) {
  return {
    name: profile.name,
    logins: profile.logins,
    clientName: profile.clientName,
    redirectUris: profile.redirectUris,
    tokenTtlSeconds: profile.tokenTtlSeconds,
    connectionTtlSeconds: profile.connectionTtlSeconds,
    liveConnections: profile.liveConnections,
    createdAt: isoOrNull(profile.createdAt),
    removedAt: isoOrNull(profile.removedAt),
  }
}

/** A connection's columns, with the live count's rule: not revoked, not expired, its profile active. */
const LIVE = (now: number) => sql`c.revoked_at IS NULL AND c.expires_at > ${now} AND p.removed_at IS NULL AND p.name IS NOT NULL`

function profileSelect(now: number, where: string): string {
  return `SELECT p.name, p.policy, p.logins, p.client_name, p.redirect_uris, p.token_ttl_seconds, p.connection_ttl_seconds,
                 p.created_at, p.removed_at,
                 (SELECT COUNT(*) FROM connections c WHERE c.profile = p.name AND ${LIVE(now)}) AS live
            FROM connector_profiles p WHERE ${where} ORDER BY p.name`
}

interface Connection {
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

function connectionsSelect(now: number, filter: { profile?: string; all: boolean }): string {
  const conditions = [...(filter.profile ? [sql`c.profile = ${filter.profile}`] : []), ...(filter.all ? [] : [LIVE(now)])]
  return `SELECT c.id, c.profile, c.client_name, c.client_id, c.redirect_uri, c.odoo_login, c.created_at, c.expires_at, c.revoked_at, c.revoked_reason,
                 c.last_used_at, (p.name IS NOT NULL AND p.removed_at IS NULL) AS profile_active
            FROM connections c LEFT JOIN connector_profiles p ON p.name = c.profile
           ${conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''} ORDER BY c.created_at`
}

/** As the gateway sees it (oauth/connection-store.ts): revoked, or revoked with its profile, or expired, or live. */
function connectionOf(row: Row, now: number): Connection {
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

function connectionJson(connection: Connection) {
  return {
    ...connection,
    createdAt: isoOrNull(connection.createdAt),
    expiresAt: isoOrNull(connection.expiresAt),
    revokedAt: isoOrNull(connection.revokedAt),
    lastUsedAt: isoOrNull(connection.lastUsedAt),
  }
}

function connectionsTable(connections: Connection[], withStatus: boolean): string {
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
async function applyNow(context: CommandContext, ids: string[]): Promise<boolean> {
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

const GATEWAY_NOTE =
  'The change is written to D1, then the gateway is told to apply it at once (--gateway, ODOO_MCP_GATEWAY_URL; local ' +
  'default http://127.0.0.1:8787): the connection is refused from the next request and its OAuth grant is dropped. If ' +
  'the gateway cannot be reached, the connection is refused within KEY_CACHE_TTL_SECONDS.'

const add: Command = {
  name: 'connectors add',
  summary: 'Let MCP clients connect through OAuth (sign in with Odoo) under a policy',
  synopsis: 'NAME --policy FILE (--logins LOGIN,... | --any-login) [--client-name NAME] [--redirect-uri URI]... [options]',
  description: [
    'Adds a connector profile: MCP clients such as Claude or ChatGPT connect to <PUBLIC_URL>/mcp, the user signs in',
    'with an Odoo login and its API key or password on the gateway\'s page, and the connection acts as that Odoo user',
    'within the policy in FILE (the same schema as a key\'s; every problem is listed with its JSON path).',
    'Who may sign in is required: --logins lists the Odoo logins, --any-login admits every Odoo user.',
    '--client-name only narrows which profiles a client is offered (any client can call itself "Claude"); pin the',
    "client's --redirect-uri to bind a profile to it (exact match; https, or http on localhost with any port).",
    'A name that was removed may be added again; its earlier connections stay revoked.',
  ].join('\n'),
  options: {
    policy: { type: 'string', value: 'FILE', description: 'JSON policy document of every connection (required)' },
    logins: { type: 'string', value: 'LIST', description: 'Odoo logins that may sign in, comma-separated' },
    'any-login': { type: 'boolean', description: 'Any Odoo user may sign in' },
    'client-name': { type: 'string', value: 'NAME', description: 'Only clients registered under this name (a label, not a proof)' },
    'redirect-uri': {
      type: 'string',
      value: 'URI',
      multiple: true,
      description: "Only clients redirecting to this URI (repeatable); default: any the client registered",
    },
    'token-ttl': { type: 'string', value: 'DURATION', description: `Access token lifetime, ${TOKEN_TTL.min} to ${TOKEN_TTL.max} (default ${TOKEN_TTL.fallback})` },
    'connection-ttl': {
      type: 'string',
      value: 'DURATION',
      description: `How long a connection lasts before signing in again, ${CONNECTION_TTL.min} to ${CONNECTION_TTL.max} (default ${CONNECTION_TTL.fallback})`,
    },
  },
  arity: 1,
  async run(context) {
    const name = checkProfileName(context.args[0])
    const logins = checkLogins(stringOption(context, 'logins'), context.values['any-login'] === true)
    const clientName = checkClientName(stringOption(context, 'client-name'))
    const given = context.values['redirect-uri']
    const redirectUris = checkRedirectUris(Array.isArray(given) ? given : [])
    const tokenTtl = checkTtl(TOKEN_TTL, stringOption(context, 'token-ttl'))
    const connectionTtl = checkTtl(CONNECTION_TTL, stringOption(context, 'connection-ttl'))
    const file = stringOption(context, 'policy')
    if (file === undefined) throw new UsageError('missing --policy FILE: the policy every connection of this connector works under')
    const policy = (await readPolicyFile(file))!
    // A removed profile of that name is replaced as a whole; an active one is left alone (RETURNING nothing).
    const [, inserted = []] = await executeSql(
      context.target,
      [
        retireOrphanedConnectionsSql(name, context.now),
        sql`INSERT INTO connector_profiles (name, policy, logins, client_name, redirect_uris, token_ttl_seconds, connection_ttl_seconds, created_at)
            VALUES (${name}, ${policy}, ${logins === null ? null : JSON.stringify(logins)}, ${clientName}, ${JSON.stringify(redirectUris)},
                    ${tokenTtl}, ${connectionTtl}, ${context.now})
            ON CONFLICT (name) DO UPDATE SET policy = excluded.policy, logins = excluded.logins, client_name = excluded.client_name,
              redirect_uris = excluded.redirect_uris, token_ttl_seconds = excluded.token_ttl_seconds,
              connection_ttl_seconds = excluded.connection_ttl_seconds, created_at = excluded.created_at, removed_at = NULL
            WHERE connector_profiles.removed_at IS NOT NULL
            RETURNING name`,
      ].join(';\n'),
    )
    if (inserted.length === 0) {
      throw new CliError(`a connector named ${name} already exists: remove it first (\`odoo-mcp connectors remove ${name}\`), or choose another name`)
    }
    const profile: Profile = {
      name,
      policy,
      logins,
      clientName,
      redirectUris,
      tokenTtlSeconds: tokenTtl,
      connectionTtlSeconds: connectionTtl,
      createdAt: context.now,
      removedAt: null,
      liveConnections: 0,
    }
    if (context.json) {
      printJson(context, profileJson(profile))
      return EXIT_OK
    }
    print(
      context,
      [
        `Added connector ${name}${context.target.remote ? ' in the deployed database' : ''}: ${logins === null ? 'any Odoo user' : logins.join(', ')} may sign in` +
          `${clientName === null ? '' : ` through ${clientName}`}${redirectUris.length ? ` (redirect URIs: ${redirectUris.join(' ')})` : ''}.`,
        `Tokens last ${formatDuration(tokenTtl)}; a connection signs in again after ${formatDuration(connectionTtl)}.`,
        'MCP clients connect to <PUBLIC_URL>/mcp (OAuth must be on: PUBLIC_URL set on the gateway).',
      ].join('\n'),
    )
    return EXIT_OK
  },
}

const list: Command = {
  name: 'connectors list',
  summary: 'List the connector profiles that take sign-ins',
  synopsis: '[--json]',
  description: 'Lists the active connector profiles: who may sign in, the client, token lifetime and live connections.',
  options: {},
  arity: 0,
  async run(context) {
    const [rows = []] = await executeSql(context.target, profileSelect(context.now, 'p.removed_at IS NULL'))
    const profiles = rows.map(profileOf)
    if (context.json) {
      printJson(context, profiles.map(profileJson))
      return EXIT_OK
    }
    if (profiles.length === 0) {
      print(context, 'No connectors yet. Add one with `odoo-mcp connectors add` (see --help).')
      return EXIT_OK
    }
    const table = profiles.map((profile) => [
      profile.name,
      profile.logins === null ? 'any' : profile.logins.join(','),
      profile.clientName ?? 'any',
      profile.redirectUris.length === 0 ? 'any' : String(profile.redirectUris.length),
      formatDuration(profile.tokenTtlSeconds),
      String(profile.liveConnections),
      formatTime(profile.createdAt),
    ])
    print(context, formatTable(['NAME', 'LOGINS', 'CLIENT', 'REDIRECT URIS', 'TOKEN TTL', 'LIVE', 'CREATED'], table))
    return EXIT_OK
  },
}

function parsedPolicy(policy: string): unknown {
  try {
    return JSON.parse(policy)
  } catch {
    return policy
  }
}

const show: Command = {
  name: 'connectors show',
  summary: 'Show one connector profile, its policy and its live connections',
  synopsis: 'NAME [--json]',
  description: 'Shows everything about a connector profile (a removed one too), its policy, and its live connections.',
  options: {},
  arity: 1,
  async run(context) {
    const name = checkProfileName(context.args[0])
    const [rows = [], connectionRows = []] = await executeSql(
      context.target,
      [profileSelect(context.now, sql`p.name = ${name}`), connectionsSelect(context.now, { profile: name, all: false })].join(';\n'),
    )
    if (rows.length === 0) throw new CliError(`no connector named ${name}`)
    const profile = profileOf(rows[0]!)
    const connections = connectionRows.map((row) => connectionOf(row, context.now))
    if (context.json) {
      printJson(context, { ...profileJson(profile), policy: parsedPolicy(profile.policy), connections: connections.map(connectionJson) })
      return EXIT_OK
    }
    const lines: [string, string][] = [
      ['Name', profile.name],
      ['Status', profile.removedAt === null ? 'active' : `removed on ${formatTime(profile.removedAt)}`],
      ['Logins', profile.logins === null ? 'any Odoo user' : profile.logins.join(', ')],
      ['Client name', profile.clientName ?? 'any'],
      ['Redirect URIs', profile.redirectUris.length === 0 ? 'any the client registered' : profile.redirectUris.join('\n')],
      ['Token TTL', formatDuration(profile.tokenTtlSeconds)],
      ['Connection TTL', formatDuration(profile.connectionTtlSeconds)],
      ['Created', formatTime(profile.createdAt)],
      ['Policy', JSON.stringify(parsedPolicy(profile.policy), null, 2)],
    ]
    const width = 16
    print(context, lines.map(([label, value]) => `${(label + ':').padEnd(width)}${value.replaceAll('\n', '\n' + ' '.repeat(width))}`).join('\n'))
    print(context, '')
    print(context, connections.length === 0 ? 'No live connections.' : `Live connections (${connections.length}):\n${connectionsTable(connections, false)}`)
    return EXIT_OK
  },
}

const remove: Command = {
  name: 'connectors remove',
  summary: 'Stop sign-ins through a connector and revoke its connections',
  synopsis: 'NAME [--json]',
  description: [
    'Removes a connector profile: no new sign-ins through it, and each of its connections is revoked',
    "(reason profile_removed). The name may be added again later; the revoked connections stay revoked.",
    GATEWAY_NOTE,
  ].join('\n'),
  options: {},
  arity: 1,
  async run(context) {
    const name = checkProfileName(context.args[0])
    const now = context.now
    const [removed = [], revoked = []] = await executeSql(
      context.target,
      [
        sql`UPDATE connector_profiles SET removed_at = ${now} WHERE name = ${name} AND removed_at IS NULL RETURNING name`,
        // Only if this very call removed it; then every connection not yet revoked, expired ones too, so none
        // comes back if the name is added again.
        sql`UPDATE connections SET revoked_at = ${now}, revoked_reason = 'profile_removed'
             WHERE profile = ${name} AND revoked_at IS NULL
               AND EXISTS (SELECT 1 FROM connector_profiles WHERE name = ${name} AND removed_at = ${now})
             RETURNING id`,
      ].join(';\n'),
    )
    if (removed.length === 0) throw new CliError(`no active connector named ${name}`)
    const ids = revoked.map((row) => String(row.id))
    const appliedNow = await applyNow(context, ids)
    if (context.json) printJson(context, { name, removedAt: isoOrNull(now), revokedConnections: ids, appliedNow })
    else print(context, `Removed connector ${name}; ${ids.length === 1 ? '1 connection' : `${ids.length} connections`} revoked.`)
    return EXIT_OK
  },
}

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

/**
 * src/oauth/connection-store.ts's CONNECTION_ID. That module cannot be imported here: it pulls the Worker's types
 * (Env, Durable Objects) into the Node build.
 */
const CONNECTION_ID = /^con_[0-9a-f]{16}$/

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

export const connectorCommands: Command[] = [add, list, show, remove, connectionsList, connectionsRevoke]
