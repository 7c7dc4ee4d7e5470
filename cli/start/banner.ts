/** The text `npm start` prints once the gateway answers: where it is, the key, and settings to paste into clients. */

export interface BannerInput {
  mcpUrl: string
  /** The demo key, or undefined in real-Odoo mode (a placeholder is shown instead). */
  key?: string
  /** One line about the Odoo in use. */
  odoo: string
  /** Lines shown after the Odoo line (key id, where the key is saved, how to create keys...). */
  notes: string[]
  /** The demo Odoo's users, one aligned line each (demo mode only). */
  demoUsers?: string[]
  oauth: OAuthBannerInput
}

export interface OAuthBannerInput {
  /** The gateway's PUBLIC_URL, as configured or the local default. */
  publicUrl: string
  /** http://localhost:<port>: where a tunnel forwards to. */
  localUrl: string
  /** The demo connector's name (demo mode only). */
  demoConnector?: string
}

/**
 * Inspector releases after 0.22.0 declare Node 22 or newer, so a bare `npx @modelcontextprotocol/inspector` on Node 20
 * resolves to 0.15, whose CLI has no --header. 0.22.0 runs on Node 20 (npm prints an EBADENGINE warning) and newer.
 * test/node/cli-start.test.ts runs this exact command, as the README prints it, against `npm start`.
 */
export const INSPECTOR = '@modelcontextprotocol/inspector@0.22.0'

/** The terminal command that lists the gateway's tools with MCP Inspector; `token` may be a shell expression. */
export function inspectorCommand(mcpUrl: string, token: string): string {
  return `npx ${INSPECTOR} --cli ${mcpUrl} --transport http --header "Authorization: Bearer ${token}" --method tools/list`
}

const RULE = '─'.repeat(78)

function indent(text: string, spaces: number): string {
  return text
    .split('\n')
    .map((line) => ' '.repeat(spaces) + line)
    .join('\n')
}

const LOOPBACK = /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?\/?$/

/**
 * Claude and ChatGPT as custom connectors: the user pastes one URL and signs in with Odoo (docs/OAUTH.md). Both
 * connect from the vendor's cloud, so a local URL is only good for clients on this machine.
 */
function oauthLines({ publicUrl, localUrl, demoConnector }: OAuthBannerInput): string[] {
  let connectorUrl: string
  try {
    connectorUrl = `${new URL(publicUrl).origin}/mcp`
  } catch {
    return [`  OAuth sign-in is off: PUBLIC_URL '${publicUrl}' is not a URL (the gateway refuses it too).`, '']
  }
  const local = LOOPBACK.test(publicUrl)
  return [
    '  Connect Claude / ChatGPT (OAuth: the user signs in with Odoo, no key to paste):',
    `    Connector URL:  ${connectorUrl}${local ? '' : '   (PUBLIC_URL)'}`,
    '    Claude:   Settings → Connectors → Add custom connector, paste the URL.',
    '    ChatGPT:  Settings → Connectors (developer mode) → Create, paste the URL, authentication OAuth.',
    demoConnector
      ? `    Sign in as any demo Odoo user above (connector "${demoConnector}"; each password is the login).`
      : '    First add a connector: npx odoo-mcp connectors add NAME --policy FILE --any-login (or --logins A,B).',
    ...(local
      ? [
          "    Both connect from the vendor's cloud: they need a deployed gateway or a public tunnel, e.g.",
          `    \`cloudflared tunnel --url ${localUrl}\`, then PUBLIC_URL=<the tunnel's https URL> in .dev.vars.`,
          '    Clients on this machine (Claude Desktop via mcp-remote, Claude Code, MCP Inspector) use the URL above.',
        ]
      : []),
    '',
  ]
}

export function formatBanner({ mcpUrl, key, odoo, notes, demoUsers, oauth }: BannerInput): string {
  const token = key ?? '<API key>'
  const bearer = `Bearer ${token}`
  // Hand-formatted so the args stay on one line; every value goes through JSON.stringify. mcp-remote's documented
  // way to pass a header: a space inside an argument breaks some launchers, so the header comes from env.
  const args = ['mcp-remote', mcpUrl, '--header', 'Authorization:${ODOO_MCP_AUTH}'].map((arg) => JSON.stringify(arg))
  const claudeDesktop = [
    '{',
    '  "mcpServers": {',
    '    "odoo": {',
    '      "command": "npx",',
    `      "args": [${args.join(', ')}],`,
    `      "env": { "ODOO_MCP_AUTH": ${JSON.stringify(bearer)} }`,
    '    }',
    '  }',
    '}',
  ].join('\n')
  const publicUrl = 'https://<public host>/mcp'
  const claudeApi = `mcp_servers: [{ type: 'url', url: '${publicUrl}', name: 'odoo', authorization_token: '${token}' }]`
  const openAi =
    `tools: [{ type: 'mcp', server_label: 'odoo', server_url: '${publicUrl}',\n` +
    `                  headers: { Authorization: '${bearer}' }, require_approval: 'never' }]`

  return [
    RULE,
    `  odoo-mcp-edge is running. ${odoo}`,
    ...notes.map((note) => `  ${note}`),
    '',
    `  MCP URL:  ${mcpUrl}`,
    `  API key:  ${token}`,
    '',
    `  MCP Inspector (web UI: npx ${INSPECTOR}; on Node 20 npm warns about its engine, harmlessly):`,
    `    Transport Type: Streamable HTTP    URL: ${mcpUrl}`,
    `    Header:         Authorization: ${bearer}`,
    '    or from a terminal:',
    `    ${inspectorCommand(mcpUrl, token)}`,
    '',
    ...(demoUsers
      ? [
          '  Demo Odoo users (login, Odoo API key, what the user may do; each password is the login):',
          ...demoUsers.map((line) => `    ${line}`),
          '  A key acting as one of them (write a policy file first: README, "Key policies"):',
          '    echo odoo-apikey-sales_agent | npx odoo-mcp keys create --name "sales agent" --odoo-login sales_agent \\',
          '        --odoo-secret-file - --policy policy.json',
          '',
        ]
      : []),
    '  Claude Desktop (claude_desktop_config.json, through mcp-remote):',
    indent(claudeDesktop, 4),
    '',
    ...oauthLines(oauth),
    '  Claude API (MCP connector) and OpenAI Responses API: these are called from the vendor\'s cloud, so they need',
    '  a public https URL (a deployed gateway, or a tunnel to this one, e.g. `cloudflared tunnel --url',
    `  ${new URL(mcpUrl).origin}\`). With that URL:`,
    `    Claude:  ${claudeApi}`,
    `    OpenAI:  ${openAi}`,
    '',
    '  Ctrl-C stops everything.',
    RULE,
  ].join('\n')
}
