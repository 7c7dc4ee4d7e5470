/**
 * `odoo-mcp connectors add|list|show|remove`: the connector profiles of OAuth sign-in (docs/OAUTH.md), over the admin
 * API. A connector profile says who may connect through OAuth (Odoo logins, client, redirect URIs) and with which
 * policy. The gateway checks every value again, records each change in the admin log, and applies a removal at once
 * (its connections are revoked, reloaded and their OAuth grants dropped). `odoo-mcp connections list|revoke` are in
 * connections.ts.
 */
import { adminRequest, allPages, orSay } from '../admin-api'
import { print, printJson, stringOption, type Command, type CommandContext } from '../command'
import { checkClientName, checkLogins, checkProfileName, checkRedirectUris, checkTtl, CONNECTION_TTL, formatDuration, TOKEN_TTL } from '../connector-input'
import { CliError, EXIT_OK, UsageError } from '../errors'
import { formatTable, formatTime } from '../format'
import { policyOptions, TEMPLATE_OPTION } from '../policy'
import { sql } from '../sql'
import { connectionJson, connectionsTable, GATEWAY_NOTE, liveConnections, ms, sayRevocationsApplied } from './connections'

/**
 * Revokes the connections left unrevoked under a profile that is not active (removed, or its row deleted): the
 * gateway counts them revoked only through the profile, so re-adding the name must not bring them back to life.
 * Only for `npm start`'s demo connector (cli/start/demo-connector.ts), which writes its local D1 directly.
 */
export function retireOrphanedConnectionsSql(name: string, now: number): string {
  return sql`UPDATE connections SET revoked_at = ${now}, revoked_reason = 'profile_removed'
              WHERE profile = ${name} AND revoked_at IS NULL
                AND NOT EXISTS (SELECT 1 FROM connector_profiles WHERE name = ${name} AND removed_at IS NULL)`
}

/** A profile as GET /admin/v1/connectors answers it (docs/ADMIN-API.md). */
interface ProfileApiJson {
  name: string
  status: 'active' | 'removed'
  logins: string[] | null
  client_name: string | null
  redirect_uris: string[]
  token_ttl_seconds: number
  connection_ttl_seconds: number
  live_connections: number
  created_at: string
  removed_at: string | null
  policy?: unknown
}

/** The JSON `connectors` commands print (camelCase, as since the first release). */
function profileJson(profile: ProfileApiJson) {
  return {
    name: profile.name,
    logins: profile.logins,
    clientName: profile.client_name,
    redirectUris: profile.redirect_uris,
    tokenTtlSeconds: profile.token_ttl_seconds,
    connectionTtlSeconds: profile.connection_ttl_seconds,
    liveConnections: profile.live_connections,
    createdAt: profile.created_at,
    removedAt: profile.removed_at,
  }
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
    'A removed name is not used again (a sign-in under way when it was removed could otherwise finish under the new',
    'profile): choose another name. The addition is recorded in the admin log with the policy and settings.',
  ].join('\n'),
  options: {
    policy: { type: 'string', value: 'FILE', description: 'JSON policy document of every connection (this or --template is required)' },
    template: TEMPLATE_OPTION,
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
    const text = await policyOptions(context)
    if (text === null) throw new UsageError('missing --policy FILE (or --template NAME): the policy every connection of this connector works under')
    const policy = JSON.parse(text) as unknown
    const profile = await orSay(
      adminRequest<ProfileApiJson>(context, 'POST', '/connectors', {
        body: {
          name,
          policy,
          ...(logins === null ? { any_login: true } : { logins }),
          client_name: clientName,
          redirect_uris: redirectUris,
          token_ttl_seconds: tokenTtl,
          connection_ttl_seconds: connectionTtl,
        },
      }),
      {
        connector_exists: `a connector named ${name} already exists: remove it first (\`odoo-mcp connectors remove ${name}\`), or choose another name`,
        connector_removed:
          `the connector ${name} was removed, and a removed name is not used again (a sign-in under way when it was removed ` +
          'could otherwise finish under the new profile): choose another name',
      },
    )
    if (context.json) {
      printJson(context, profileJson(profile))
      return EXIT_OK
    }
    print(
      context,
      [
        `Added connector ${name}${context.target.remote ? ' on the deployed gateway' : ''}: ${logins === null ? 'any Odoo user' : logins.join(', ')} may sign in` +
          `${clientName === null ? '' : ` through ${clientName}`}${redirectUris.length ? ` (redirect URIs: ${redirectUris.join(' ')})` : ''}.`,
        `Tokens last ${formatDuration(profile.token_ttl_seconds)}; a connection signs in again after ${formatDuration(profile.connection_ttl_seconds)}.`,
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
    const profiles = await allPages<ProfileApiJson>(context, '/connectors', { status: 'active' })
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
      profile.client_name ?? 'any',
      profile.redirect_uris.length === 0 ? 'any' : String(profile.redirect_uris.length),
      formatDuration(profile.token_ttl_seconds),
      String(profile.live_connections),
      formatTime(ms(profile.created_at)),
    ])
    print(context, formatTable(['NAME', 'LOGINS', 'CLIENT', 'REDIRECT URIS', 'TOKEN TTL', 'LIVE', 'CREATED'], table))
    return EXIT_OK
  },
}

async function fetchProfile(context: CommandContext, name: string): Promise<ProfileApiJson> {
  return orSay(adminRequest<ProfileApiJson>(context, 'GET', `/connectors/${name}`), { connector_not_found: `no connector named ${name}` })
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
    const profile = await fetchProfile(context, name)
    const connections = await liveConnections(context, name)
    if (context.json) {
      printJson(context, { ...profileJson(profile), policy: profile.policy ?? null, connections: connections.map(connectionJson) })
      return EXIT_OK
    }
    const lines: [string, string][] = [
      ['Name', profile.name],
      ['Status', profile.removed_at === null ? 'active' : `removed on ${formatTime(ms(profile.removed_at))}`],
      ['Logins', profile.logins === null ? 'any Odoo user' : profile.logins.join(', ')],
      ['Client name', profile.client_name ?? 'any'],
      ['Redirect URIs', profile.redirect_uris.length === 0 ? 'any the client registered' : profile.redirect_uris.join('\n')],
      ['Token TTL', formatDuration(profile.token_ttl_seconds)],
      ['Connection TTL', formatDuration(profile.connection_ttl_seconds)],
      ['Created', formatTime(ms(profile.created_at))],
      ['Policy', JSON.stringify(profile.policy ?? null, null, 2)],
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
    '(reason profile_removed). The name is not used again; the admin log keeps the policy and settings it had.',
    GATEWAY_NOTE,
  ].join('\n'),
  options: {},
  arity: 1,
  async run(context) {
    const name = checkProfileName(context.args[0])
    const removed = await orSay(
      adminRequest<{ name: string; removed_at: string; already_removed: boolean; revoked_connections: string[]; applied: boolean; grants_revoked: number }>(
        context,
        'POST',
        `/connectors/${name}/remove`,
        { body: {} },
      ),
      { connector_not_found: `no active connector named ${name}` },
    )
    if (removed.already_removed) throw new CliError(`no active connector named ${name}: it was removed on ${formatTime(ms(removed.removed_at))}`)
    const ids = removed.revoked_connections
    sayRevocationsApplied(context, ids.length, removed.applied, removed.grants_revoked)
    if (context.json) printJson(context, { name, removedAt: removed.removed_at, revokedConnections: ids, appliedNow: removed.applied })
    else print(context, `Removed connector ${name}; ${ids.length === 1 ? '1 connection' : `${ids.length} connections`} revoked.`)
    return EXIT_OK
  },
}

export const connectorCommands: Command[] = [add, list, show, remove]
