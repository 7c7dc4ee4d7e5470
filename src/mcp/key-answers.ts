/**
 * The answers that need the key: tools/list (the tools its policy lets it use) and tools/call (the call itself).
 * They are made inside the key's object (gateway/serve.ts), as complete JSON-RPC response bodies, so the audit
 * record appended there has the exact size of what the client receives.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import type { ToolAudit } from '../audit/trail'
import { refusalError, type ToolAvailability } from './availability'
import { runTool, toolErrorResult, type ToolContext } from './tool'
import { SERVER_INFO_META, TOOL_LIST_TTL_MS } from './modern'
import { SERVER_INFO } from './server'
import { toolListEntry, type Era } from './tool-schemas'

/*
 * 2026-07-28 (`modern`) results carry `resultType` and the server's info in `_meta`, and tools/list carries cache
 * hints: the v2 SDK's encoding, `{result, jsonrpc, id}` with the stamps appended in this order
 * (test/worker/mcp/modern.test.ts compares the bytes).
 */
const SERVER_INFO_JSON = JSON.stringify(SERVER_INFO)

/** A JSON-RPC success response to a tools/call. */
export function resultBody(rpcId: string | number, result: CallToolResult, era: Era = 'legacy'): string {
  if (era === 'legacy') return JSON.stringify({ jsonrpc: '2.0', id: rpcId, result })
  const { content, structuredContent, isError } = result
  return JSON.stringify({
    result: { content, structuredContent, isError, resultType: 'complete', _meta: { [SERVER_INFO_META]: SERVER_INFO } },
    jsonrpc: '2.0',
    id: rpcId,
  })
}

/** The `tools` array of each availability and era, serialized once (availabilities are cached per policy). */
const listedTools = { legacy: new WeakMap<ToolAvailability, string>(), modern: new WeakMap<ToolAvailability, string>() }

export function listToolsBody(rpcId: string | number, availability: ToolAvailability, era: Era = 'legacy'): string {
  let tools = listedTools[era].get(availability)
  if (tools === undefined) {
    tools = JSON.stringify(availability.listed.map((tool) => toolListEntry(tool, era)))
    listedTools[era].set(availability, tools)
  }
  const id = JSON.stringify(rpcId)
  if (era === 'legacy') return `{"jsonrpc":"2.0","id":${id},"result":{"tools":${tools}}}`
  return (
    `{"result":{"tools":${tools},"resultType":"complete","ttlMs":${TOOL_LIST_TTL_MS},"cacheScope":"private",` +
    `"_meta":{${JSON.stringify(SERVER_INFO_META)}:${SERVER_INFO_JSON}}},"jsonrpc":"2.0","id":${id}}`
  )
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
