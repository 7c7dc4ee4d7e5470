/**
 * The SDK's MCP server, at the edge: one per request (stateless Streamable HTTP), for everything the edge answers by
 * itself — initialize, ping, notifications, and the JSON-RPC and protocol errors of messages the key's object is not
 * asked about (mcp/edge-requests.ts decides). The requests that need the key (a well-formed tools/list, a
 * well-formed tools/call of one of the gateway's tools) are answered by the key's object instead (gateway/serve.ts).
 *
 * Every tool is registered so that a malformed tools/list or tools/call gets exactly the SDK's error; none of them
 * can run here: their handlers answer with an internal error, which would be a bug in mcp/edge-requests.ts.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js'
import { toolErrorResult } from './tool'
import { TOOL_SCHEMAS, TOOLS } from './tool-schemas'

export const SERVER_INFO = { name: 'odoo-mcp-edge', title: 'Odoo (via odoo-mcp-edge)', version: '0.1.0' }

export const INSTRUCTIONS =
  'Tools to read and change data in an Odoo ERP, acting as one Odoo user with that user\'s access rights, possibly ' +
  'narrowed further by the gateway. Typical flow: list_models to find the model (res.partner = contacts and ' +
  'companies, sale.order = sales orders, product.product = products), describe_model for its field names, then ' +
  'search_records / count_records / aggregate_records with a domain filter. Ask only for the fields you need. ' +
  'Errors prefixed "Odoo" come from Odoo itself (e.g. AccessError: the user may not see that data).'

/**
 * The SDK validates elicitation answers with a JSON Schema validator and, by default, builds a new Ajv instance for
 * every server: a few hundred microseconds of CPU per request for a feature this gateway never uses (and Ajv's code
 * generation is not allowed in Workers anyway). Any attempt to use it fails loudly instead.
 */
const NO_ELICITATION_VALIDATOR: jsonSchemaValidator = {
  getValidator() {
    throw new Error('this server does not use elicitation, so it validates no JSON Schema')
  },
}

export interface EdgeServerOptions {
  requestId: string
  logError(error: unknown, where: string): void
}

export function createEdgeMcpServer(options: EdgeServerOptions): McpServer {
  const server = new McpServer(SERVER_INFO, {
    capabilities: { tools: {} },
    instructions: INSTRUCTIONS,
    jsonSchemaValidator: NO_ELICITATION_VALIDATOR,
  })
  for (const tool of TOOLS) {
    const schemas = TOOL_SCHEMAS.get(tool.name)!
    server.registerTool(
      tool.name,
      { title: tool.title, description: tool.description, inputSchema: schemas.input, outputSchema: schemas.output, annotations: { title: tool.title, ...tool.annotations } },
      async () => toolErrorResult(new Error(`tools/call of ${tool.name} reached the edge's server: mcp/edge-requests.ts let it through`), options),
    )
  }
  // The SDK announces `listChanged: true` as soon as a tool is registered, but a stateless server never sends the
  // notification: a key's tools change only with its policy, which a client sees on its next tools/list.
  server.server.registerCapabilities({ tools: { listChanged: false } })
  return server
}
