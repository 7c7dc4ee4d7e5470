/** The text `npm start` prints once the gateway answers: where it is, the key, and settings to paste into clients. */

export interface BannerInput {
  mcpUrl: string
  /** The demo key, or undefined in real-Odoo mode (a placeholder is shown instead). */
  key?: string
  /** One line about the Odoo in use. */
  odoo: string
  /** Lines shown after the Odoo line (key id, where the key is saved, how to create keys...). */
  notes: string[]
}

const RULE = '─'.repeat(78)

function indent(text: string, spaces: number): string {
  return text
    .split('\n')
    .map((line) => ' '.repeat(spaces) + line)
    .join('\n')
}

export function formatBanner({ mcpUrl, key, odoo, notes }: BannerInput): string {
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
    '  MCP Inspector (npx @modelcontextprotocol/inspector):',
    `    Transport Type: Streamable HTTP    URL: ${mcpUrl}`,
    `    Header:         Authorization: ${bearer}`,
    '    or from a terminal:',
    `    npx @modelcontextprotocol/inspector --cli ${mcpUrl} --transport http --header "Authorization: ${bearer}" --method tools/list`,
    '',
    '  Claude Desktop (claude_desktop_config.json, through mcp-remote):',
    indent(claudeDesktop, 4),
    '',
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
