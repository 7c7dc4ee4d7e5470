/**
 * One MCP server per request (stateless Streamable HTTP): any edge instance can serve any request, and the tools a
 * server has are those of the key that made the request: the ones its policy lets it use at all (availability.ts).
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js'
import { z } from 'zod'
import type { ToolAudit } from '../audit/trail'
import { refusalError, type ToolAvailability } from './availability'
import { runTool, toolErrorResult, type ToolContext, type ToolDefinition } from './tool'
import { ALL_TOOLS } from './tools'

export const SERVER_INFO = { name: 'odoo-mcp-edge', title: 'Odoo (via odoo-mcp-edge)', version: '0.1.0' }

const INSTRUCTIONS =
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

/**
 * Each tool's input and output schemas as zod objects, built once per isolate. Given a raw shape, the SDK would
 * build a new object schema for every tool of every per-request server: measured as the largest single cost of an
 * MCP request in the Worker's CPU profile (docs/PERFORMANCE.md).
 */
const TOOL_SCHEMAS = new Map(
  (ALL_TOOLS as unknown as ToolDefinition[]).map((tool) => [
    tool.name,
    { input: z.object(tool.inputSchema), output: tool.outputSchema ? z.object(tool.outputSchema) : undefined },
  ]),
)

/** The arguments of a refused tool: any object, so the refusal says why the tool is unavailable, not what is wrong with them. */
const ANY_ARGUMENTS = z.looseObject({})

export interface McpServerOptions {
  requestId: string
  /** The tools this key may use (the others are not listed). */
  tools: ToolAvailability
  /** The tool a tools/call request names, if any: when it is one the key may not use, the call is refused with why. */
  calledTool?: string
  logError(error: unknown, where: string): void
  /** Builds the key's Odoo session; called once, on the first tool call. */
  context(): Promise<ToolContext>
  /** Where the tool call reports what it did, for the audit log. */
  audit: ToolAudit
}

/**
 * Builds the server for one request. The tool context is created lazily, so initialize, tools/list and ping never
 * decrypt credentials or touch Odoo.
 */
export function createMcpServer(options: McpServerOptions): McpServer {
  const server = new McpServer(SERVER_INFO, {
    capabilities: { tools: {} },
    instructions: INSTRUCTIONS,
    jsonSchemaValidator: NO_ELICITATION_VALIDATOR,
  })
  let context: Promise<ToolContext> | undefined
  for (const tool of options.tools.listed) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: TOOL_SCHEMAS.get(tool.name)!.input,
        outputSchema: TOOL_SCHEMAS.get(tool.name)!.output,
        annotations: { title: tool.title, ...tool.annotations },
      },
      async (args) => {
        try {
          context ??= options.context()
          return await runTool(tool, args, await context, options.audit)
        } catch (error) {
          options.audit.failed(error)
          return toolErrorResult(error, options)
        }
      },
    )
  }
  // A tool of the gateway this key may not use: registered (unlisted: this request is the call) only to say why.
  const refusal = options.calledTool === undefined ? undefined : options.tools.refused.get(options.calledTool)
  if (refusal) {
    server.registerTool(options.calledTool!, { description: refusal.message, inputSchema: ANY_ARGUMENTS }, async (args) => {
      const error = refusalError(refusal, args)
      options.audit.failed(error)
      return toolErrorResult(error, options)
    })
  }
  // The SDK announces `listChanged: true` as soon as a tool is registered, but a stateless server never sends the
  // notification: a key's tools change only with its policy, which a client sees on its next tools/list.
  server.server.registerCapabilities({ tools: { listChanged: false } })
  return server
}
