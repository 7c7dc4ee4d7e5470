/**
 * Each tool's schemas, built once per isolate: the zod objects the edge validates arguments with (and the SDK
 * server registers), and the tools/list entry the key's object answers with.
 *
 * The entries are made by the SDK's own zod-to-JSON-Schema conversion with the options its tools/list handler uses
 * (`toJsonSchemaCompat`, strict unions, input/output pipe strategies), so a key's list is what the SDK would list
 * for the same tools (test/worker/mcp/key-answers.test.ts compares them).
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js'
import { getParseErrorMessage } from '@modelcontextprotocol/sdk/server/zod-compat.js'
import { toJsonSchemaCompat } from '@modelcontextprotocol/sdk/server/zod-json-schema-compat.js'
import { z } from 'zod'
import type { ToolDefinition } from './tool'
import { ALL_TOOLS } from './tools'

export const TOOLS = ALL_TOOLS as unknown as ToolDefinition[]

/**
 * The zod objects. Given a raw shape, the SDK would build a new object schema for every tool of every per-request
 * server: measured as the largest single cost of an MCP request in the Worker's CPU profile (docs/PERFORMANCE.md).
 */
export const TOOL_SCHEMAS: ReadonlyMap<string, { input: z.ZodObject; output?: z.ZodObject }> = new Map(
  TOOLS.map((tool) => [tool.name, { input: z.object(tool.inputSchema), output: tool.outputSchema ? z.object(tool.outputSchema) : undefined }]),
)

/** The gateway's tool of that name; own names only (`constructor` or `__proto__` name no tool). */
export function toolNamed(name: string): ToolDefinition | undefined {
  return TOOL_BY_NAME.get(name)
}
const TOOL_BY_NAME = new Map(TOOLS.map((tool) => [tool.name, tool]))

const entries = new Map<string, Tool>()

/** The tools/list entry of a tool, as the SDK's McpServer lists a registered tool. */
export function toolListEntry(tool: ToolDefinition): Tool {
  let entry = entries.get(tool.name)
  if (!entry) {
    const schemas = TOOL_SCHEMAS.get(tool.name)!
    entry = {
      name: tool.name,
      title: tool.title,
      description: tool.description,
      inputSchema: toJsonSchemaCompat(schemas.input, { strictUnions: true, pipeStrategy: 'input' }) as Tool['inputSchema'],
      annotations: { title: tool.title, ...tool.annotations },
      // What McpServer.registerTool declares for a tool without task support.
      execution: { taskSupport: 'forbidden' },
      ...(schemas.output ? { outputSchema: toJsonSchemaCompat(schemas.output, { strictUnions: true, pipeStrategy: 'output' }) as Tool['outputSchema'] } : {}),
    }
    entries.set(tool.name, entry)
  }
  return entry
}

const modernEntries = new Map<string, Tool>()

type JsonSchemaOf = (options: { target: 'draft-2020-12' }) => Record<string, unknown>
const standardJsonSchema = (schema: z.ZodObject) => (schema as unknown as { '~standard': { jsonSchema: { input: JsonSchemaOf; output: JsonSchemaOf } } })['~standard'].jsonSchema

/**
 * The tools/list entry of a tool on MCP 2026-07-28, as the v2 SDK's McpServer lists it: JSON Schema 2020-12 from the
 * schema's Standard Schema converter, `type: "object"` first, no `execution` (test/worker/mcp/modern.test.ts compares).
 */
export function modernToolListEntry(tool: ToolDefinition): Tool {
  let entry = modernEntries.get(tool.name)
  if (!entry) {
    const schemas = TOOL_SCHEMAS.get(tool.name)!
    entry = {
      name: tool.name,
      title: tool.title,
      description: tool.description,
      inputSchema: { type: 'object', ...standardJsonSchema(schemas.input).input({ target: 'draft-2020-12' }) } as Tool['inputSchema'],
      annotations: { title: tool.title, ...tool.annotations },
      ...(schemas.output ? { outputSchema: standardJsonSchema(schemas.output).output({ target: 'draft-2020-12' }) as Tool['outputSchema'] } : {}),
    }
    modernEntries.set(tool.name, entry)
  }
  return entry
}

export type ArgumentsCheck = { ok: true; arguments: Record<string, unknown> } | { ok: false; message: string }

/**
 * Validates a tool call's arguments against the tool's input schema, with the SDK's wording for a refusal (the text
 * an agent reads is the same as when the SDK validated them itself).
 */
export function checkToolArguments(tool: ToolDefinition, args: unknown): ArgumentsCheck {
  const parsed = TOOL_SCHEMAS.get(tool.name)!.input.safeParse(args ?? {})
  if (parsed.success) return { ok: true, arguments: parsed.data as Record<string, unknown> }
  return {
    ok: false,
    message: `MCP error -32602: Input validation error: Invalid arguments for tool ${tool.name}: ${getParseErrorMessage(parsed.error)}`,
  }
}
