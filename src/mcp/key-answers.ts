/**
 * The answers that need the key: tools/list (the tools its policy lets it use) and tools/call (the call itself).
 * They are made inside the key's object (gateway/serve.ts), as complete JSON-RPC response bodies, so the audit
 * record appended there has the exact size of what the client receives.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import type { ToolAudit } from '../audit/trail'
import { refusalError, type ToolAvailability } from './availability'
import { runTool, toolErrorResult, type ToolContext } from './tool'
import { toolListEntry } from './tool-schemas'

/** A JSON-RPC success response. */
export function resultBody(rpcId: string | number, result: unknown): string {
  return JSON.stringify({ jsonrpc: '2.0', id: rpcId, result })
}

/** The `tools` array of each availability, serialized once (availabilities are cached per policy). */
const listedTools = new WeakMap<ToolAvailability, string>()

export function listToolsBody(rpcId: string | number, availability: ToolAvailability): string {
  let tools = listedTools.get(availability)
  if (tools === undefined) listedTools.set(availability, (tools = JSON.stringify(availability.listed.map(toolListEntry))))
  return `{"jsonrpc":"2.0","id":${JSON.stringify(rpcId)},"result":{"tools":${tools}}}`
}

export interface ToolCall {
  tool: string
  /** Validated by the edge (mcp/edge-requests.ts), unless `argumentsError` says why they are not valid. */
  arguments: Record<string, unknown>
  argumentsError?: string
}

export interface CallContext extends Pick<ToolContext, 'requestId' | 'logError'> {
  availability: ToolAvailability
  /** Builds the key's Odoo session (credentials, client, guard); only when the call is going to run. */
  session(): Promise<ToolContext>
  audit: ToolAudit
}

/**
 * Runs one tools/call. A tool the key may not use is refused with why, whatever its arguments; a tool it may use with
 * arguments the edge found invalid gets that error; otherwise the call runs (mcp/tool.ts: plan, guard, Odoo, filter).
 */
export async function callTool(call: ToolCall, context: CallContext): Promise<CallToolResult> {
  const refusal = context.availability.refused.get(call.tool)
  if (refusal) {
    const error = refusalError(refusal, call.arguments)
    context.audit.failed(error)
    return toolErrorResult(error, context)
  }
  const tool = context.availability.listed.find((listed) => listed.name === call.tool)
  if (!tool) throw new Error(`the edge sent a call to ${JSON.stringify(call.tool)}, which is not a tool of this gateway`)
  if (call.argumentsError !== undefined) {
    context.audit.invalidArguments()
    return { content: [{ type: 'text', text: call.argumentsError }], isError: true }
  }
  let session: ToolContext
  try {
    session = await context.session()
  } catch (error) {
    context.audit.failed(error)
    return toolErrorResult(error, context)
  }
  return runTool(tool, call.arguments, session, context.audit)
}
