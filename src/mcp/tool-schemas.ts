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
import type { KeyToolWork } from '../gateway/key-call'
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

/** Which protocol generation an answer is for: the 2025 revisions (SDK 1.32) or 2026-07-28 (SDK 2.x). */
export type Era = 'legacy' | 'modern'

type JsonSchemaOf = (options: { target: 'draft-2020-12' }) => Record<string, unknown>
const standardJsonSchema = (schema: z.ZodObject) => (schema as unknown as { '~standard': { jsonSchema: { input: JsonSchemaOf; output: JsonSchemaOf } } })['~standard'].jsonSchema

/** How each SDK generation renders a tool's schemas and what else it lists. */
const LIST_FORMAT: Record<Era, { input(schema: z.ZodObject): Tool['inputSchema']; output(schema: z.ZodObject): Tool['outputSchema']; extra: Partial<Tool> }> = {
  // McpServer.registerTool of SDK 1.32: draft-07 through its own converter, `execution` for a tool without tasks.
  legacy: {
    input: (schema) => toJsonSchemaCompat(schema, { strictUnions: true, pipeStrategy: 'input' }) as Tool['inputSchema'],
    output: (schema) => toJsonSchemaCompat(schema, { strictUnions: true, pipeStrategy: 'output' }) as Tool['outputSchema'],
    extra: { execution: { taskSupport: 'forbidden' } },
  },
  // McpServer of SDK 2.x: JSON Schema 2020-12 from the schema's Standard Schema converter, `type: "object"` first.
  modern: {
    input: (schema) => ({ type: 'object', ...standardJsonSchema(schema).input({ target: 'draft-2020-12' }) }) as Tool['inputSchema'],
    output: (schema) => standardJsonSchema(schema).output({ target: 'draft-2020-12' }) as Tool['outputSchema'],
    extra: {},
  },
}

const entries: Record<Era, Map<string, Tool>> = { legacy: new Map(), modern: new Map() }

/**
 * The tools/list entry of a tool, as the SDK of that generation lists a registered tool (key-answers.test.ts and
 * modern.test.ts compare them).
 */
export function toolListEntry(tool: ToolDefinition, era: Era = 'legacy'): Tool {
  let entry = entries[era].get(tool.name)
  if (!entry) {
    const schemas = TOOL_SCHEMAS.get(tool.name)!
    const format = LIST_FORMAT[era]
    entry = {
      name: tool.name,
      title: tool.title,
      description: tool.description,
      inputSchema: format.input(schemas.input),
      annotations: { title: tool.title, ...tool.annotations },
      ...format.extra,
      ...(schemas.output ? { outputSchema: format.output(schemas.output) } : {}),
    }
    entries[era].set(tool.name, entry)
  }
  return entry
}

export type ArgumentsCheck = { ok: true; arguments: Record<string, unknown> } | { ok: false; message: string }

/** Each SDK generation's words for a zod refusal of a tool's arguments. */
const REFUSAL_WORDS: Record<Era, (tool: string, error: z.ZodError) => string> = {
  // McpServer.validateToolInput of SDK 1.32, its McpError prefix included.
  legacy: (tool, error) => `MCP error -32602: Input validation error: Invalid arguments for tool ${tool}: ${getParseErrorMessage(error)}`,
  // McpServer.validateToolInput of SDK 2.x (its formatIssue).
  modern: (tool, error) =>
    `Input validation error: Invalid arguments for tool ${tool}: ` +
    error.issues.map((issue) => (issue.path.length ? `${issue.path.map(String).join('.')}: ${issue.message}` : issue.message)).join(', '),
}

/**
 * Validates a tool call's arguments against the tool's input schema, with the SDK's wording for a refusal (the text
 * an agent reads is the same as when the SDK validated them itself).
 */
export function checkToolArguments(tool: ToolDefinition, args: unknown, era: Era = 'legacy'): ArgumentsCheck {
  const parsed = TOOL_SCHEMAS.get(tool.name)!.input.safeParse(args ?? {})
  if (parsed.success) return { ok: true, arguments: parsed.data as Record<string, unknown> }
  return { ok: false, message: REFUSAL_WORDS[era](tool.name, parsed.error) }
}

export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value)

/**
 * The key's work for a tools/call of a gateway tool whose params the edge found well-formed: the parsed arguments, or
 * the refusal of them — then only the model travels with the call (a refusal of the tool names it:
 * mcp/availability.ts).
 */
export function toolCallWork(tool: ToolDefinition, rpcId: string | number, args: Record<string, unknown> | undefined, era: Era): KeyToolWork {
  const checked = checkToolArguments(tool, args, era)
  const base = { kind: 'call_tool' as const, rpcId, tool: tool.name, ...(era === 'modern' ? { era } : {}) }
  if (checked.ok) return { ...base, arguments: checked.arguments }
  return { ...base, arguments: typeof args?.model === 'string' ? { model: args.model } : {}, argumentsError: checked.message }
}
