/**
 * `odoo-mcp connectors add|list|show|remove`: the connector profiles of OAuth sign-in (docs/OAUTH.md).
 *
 * A connector profile says who may connect through OAuth (Odoo logins, client, redirect URIs) and with which policy.
 * The gateway reads profiles from D1 at every sign-in, so adding or removing one needs no call to it; removing one
 * revokes its connections, and those the gateway is told about (connections.ts, which also has
 * `odoo-mcp connections list|revoke`).
 */
import type { ConnectorProfile } from '../../src/oauth/connector-profile'
import { print, printJson, stringOption, type Command } from '../command'
import { checkClientName, checkLogins, checkProfileName, checkRedirectUris, checkTtl, CONNECTION_TTL, formatDuration, TOKEN_TTL } from '../connector-input'
import { executeSql, type Row } from '../d1'
import { CliError, EXIT_OK, UsageError } from '../errors'
import { formatTable, formatTime, isoOrNull } from '../format'
import { readPolicyFile } from '../policy'
import { sql } from '../sql'
import { applyNow, connectionJson, connectionOf, connectionsSelect, connectionsTable, GATEWAY_NOTE, liveConnectionSql } from './connections'

/**
 * Revokes the connections left unrevoked under a profile that is not active (removed, or its row deleted): the
 * gateway counts them revoked only through the profile, so re-adding the name must not bring them back to life.
 */
export function retireOrphanedConnectionsSql(name: string, now: number): string {
  return sql`UPDATE connections SET revoked_at = ${now}, revoked_reason = 'profile_removed'
              WHERE profile = ${name} AND revoked_at IS NULL
                AND NOT EXISTS (SELECT 1 FROM connector_profiles WHERE name = ${name} AND removed_at IS NULL)`
}

/** A profile as the gateway reads it, and what the CLI shows besides. */
interface Profile extends ConnectorProfile {
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

/** With each profile's live connections, counted by the same rule as `connections list` (connections.ts). */
function profileSelect(now: number, where: string): string {
  return `SELECT p.name, p.policy, p.logins, p.client_name, p.redirect_uris, p.token_ttl_seconds, p.connection_ttl_seconds,
                 p.created_at, p.removed_at,
                 (SELECT COUNT(*) FROM connections c WHERE c.profile = p.name AND ${liveConnectionSql(now)}) AS live
            FROM connector_profiles p WHERE ${where} ORDER BY p.name`
}

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

export const connectorCommands: Command[] = [add, list, show, remove]
