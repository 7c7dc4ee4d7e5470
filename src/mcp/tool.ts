/**
 * Tool definitions are data; `runTool` is the single path every call takes:
 * validate (zod, by the SDK) → plan the Odoo request → guard.authorize → execute as the key's Odoo user →
 * guard filters the output → shape the MCP result. A tool cannot reach Odoo without passing the guard, because
 * `execute` only receives an `AuthorizedRequest`.
 */
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js'
import type { z } from 'zod'
import { NO_TOOL_AUDIT, type ToolAudit } from '../audit/trail'
import { ToolError } from '../errors'
import type { AccessGuard } from '../guard/guard'
import type { GuardedOdoo } from '../guard/guarded-odoo'
import type { AuthorizedRequest, ToolRequest } from '../guard/request'
import { OdooError, OdooUnavailableError } from '../odoo/errors'
import type { Operation } from '../policy/schema'

export interface ToolContext {
  requestId: string
  guard: AccessGuard
  /** The only handle tools have on Odoo: authorized requests in, filtered answers out. */
  odoo: GuardedOdoo
  /** Logs our own faults (never sent to the client). */
  logError(error: unknown, where: string): void
}

export interface ToolDefinition<Shape extends z.ZodRawShape = z.ZodRawShape> {
  name: string
  title: string
  description: string
  inputSchema: Shape
  outputSchema?: z.ZodRawShape
  annotations: ToolAnnotations
  /**
   * What the key's policy must allow on at least one model for tools/list to show the tool (src/mcp/availability.ts):
   * the operation its plan asks the guard for, or `'any'` for list_models, which lists the models of every operation.
   */
  requires: Operation | 'any'
  /** Turns validated arguments into the request the guard checks. Pure; throws ToolError on bad input. */
  plan(args: z.infer<z.ZodObject<Shape>>): ToolRequest
  /** Calls Odoo (through the guarded handle) for an authorized request and returns the structured result. */
  execute(request: AuthorizedRequest, odoo: GuardedOdoo): Promise<Record<string, unknown>>
}

export function defineTool<Shape extends z.ZodRawShape>(tool: ToolDefinition<Shape>): ToolDefinition<Shape> {
  return tool
}

export async function runTool(tool: ToolDefinition, args: unknown, ctx: ToolContext, audit: ToolAudit = NO_TOOL_AUDIT): Promise<CallToolResult> {
  try {
    const request = tool.plan(args as never)
    audit.planned(request, (args as { domain?: unknown }).domain)
    const authorized = await ctx.guard.authorize(request)
    audit.authorized(authorized)
    const odooStarted = performance.now()
    let result: Record<string, unknown>
    try {
      result = await tool.execute(authorized, ctx.odoo)
    } finally {
      // Also when Odoo failed: how long a timeout or an error took is part of the record.
      audit.odooTime(performance.now() - odooStarted)
    }
    audit.succeeded(result, authorized)
    return {
      content: [{ type: 'text', text: JSON.stringify(result) }],
      structuredContent: result,
    }
  } catch (error) {
    audit.failed(error)
    return toolErrorResult(error, ctx)
  }
}

/** Maps a failure to what the model may read; our own faults become a generic message with the request id. */
export function toolErrorResult(error: unknown, ctx: Pick<ToolContext, 'requestId' | 'logError'>): CallToolResult {
  if (error instanceof ToolError) return errorText(error.message)
  if (error instanceof OdooError) {
    if (error.isAuthenticationFailure) {
      return errorText(
        `Odoo rejected the credentials bound to this API key (${error.exceptionName}). ` +
          'The gateway administrator must update the key\'s Odoo secret (JSON-2 on Odoo 19+ needs an Odoo API key, not a password).',
      )
    }
    return errorText(`Odoo ${error.exceptionName}: ${error.message}`)
  }
  if (error instanceof OdooUnavailableError) return errorText(`Odoo unavailable: ${error.message}`)
  ctx.logError(error, 'tool')
  return errorText(`Internal gateway error (request id ${ctx.requestId})`)
}

function errorText(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true }
}
