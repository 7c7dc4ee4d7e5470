/**
 * "Would this call be allowed, and why not?" for a key (`odoo-mcp keys try`, POST /admin/v1/keys/:id/try), answered
 * by the very code a real call runs, stopped before Odoo is asked for data: the key's state, its IP rules (for the
 * address given), the tool's availability under the policy (tools/list), the tool's argument schema, its plan, and
 * the guard's `authorize` (src/mcp/tool.ts runTool up to `execute`). The guard may read field metadata from Odoo as
 * the key's user (fields_get, the models' default order), never records. Rate limits are not consumed nor judged.
 */
import { z } from 'zod'
import type { GatewayConfig } from '../../../config'
import type { Env } from '../../../env'
import { ToolError } from '../../../errors'
import type { AuthorizedRequest } from '../../../guard/request'
import { keyStatus, type ApiKeyRecord } from '../../../keys/key-store'
import { toolAvailability } from '../../../mcp/availability'
import type { ToolDefinition } from '../../../mcp/tool'
import { ALL_TOOLS } from '../../../mcp/tools'
import { createKeySession } from '../../../gateway/session'
import { keyPolicy } from '../../../policy/key-policy'
import { checkClientAddress } from '../../../policy/ip-rules'

const TOOLS = ALL_TOOLS as unknown as ToolDefinition[]

export type TryStage = 'key' | 'ip' | 'tool' | 'arguments' | 'policy'

export type TryVerdict =
  | { allowed: true; tool: string; odoo_request: Record<string, unknown>; checked_when_run?: string[] }
  | { allowed: false; tool: string; stage: TryStage; reason: string; details?: string[] }

export interface TryInput {
  tool: string
  arguments: Record<string, unknown>
  /** The client address to judge the key's IP rules for; absent: IP rules are not judged. */
  ip?: string
}

const refused = (tool: string, stage: TryStage, reason: string, details?: string[]): TryVerdict => ({ allowed: false, tool, stage, reason, ...(details ? { details } : {}) })

/** Where a tool error of a real call comes from: the key's credentials, the policy, or the arguments' content. */
function stageOf(code: string): TryStage {
  if (code === 'credentials_unreadable') return 'key'
  if (code === 'policy_denied' || code === 'policy_invalid') return 'policy'
  return 'arguments'
}

/**
 * What a record filter leaves to the moment the call runs (it depends on data, which `try` does not read): ids that
 * must be inside a filter, display names shown only for records inside one.
 */
function checkedWhenRun(request: AuthorizedRequest): string[] {
  const checks: string[] = []
  if (request.recordFilter && request.ids) {
    checks.push(`ids ${request.ids.join(', ')} of ${request.model} must be inside its record filter ${JSON.stringify(request.recordFilter.terms)}; ids outside answer as missing`)
  }
  for (const scoped of request.within ?? []) {
    checks.push(`ids ${scoped.ids.join(', ')} of ${scoped.model} named by the values must be inside its record filter ${JSON.stringify(scoped.filter)}`)
  }
  for (const names of request.namesWithin ?? []) {
    checks.push(`'${names.field}' shows ${names.model} records inside its record filter only (a many2one outside as its bare id, an id list without them)`)
  }
  return checks
}

/** What the gateway would ask Odoo for: the authorized request, without the parsed internals. */
function odooRequest(request: AuthorizedRequest): Record<string, unknown> {
  return {
    model: request.model,
    operation: request.operation,
    ...(request.readFields.length ? { fields: request.readFields } : {}),
    ...(request.idOnlyFields.length ? { id_only_fields: request.idOnlyFields } : {}),
    ...(request.odooOrder ? { order: request.odooOrder } : {}),
    ...(request.domain && request.domain.terms.length > 0 ? { domain: request.domain.terms } : {}),
    ...(request.ids ? { ids: request.ids } : {}),
    ...(request.values ? { values: Object.keys(request.values).sort() } : {}),
    ...(request.limit !== undefined ? { limit: request.limit } : {}),
    ...(request.offset !== undefined ? { offset: request.offset } : {}),
    ...(request.context ? { context: request.context } : {}),
  }
}

export async function tryToolCall(
  env: Env,
  config: GatewayConfig,
  key: ApiKeyRecord,
  input: TryInput,
  now: number,
  logError: (error: unknown, where: string) => void,
): Promise<TryVerdict> {
  const status = keyStatus(key, now)
  if (status !== 'active') return refused(input.tool, 'key', `The key is ${status}: every call is refused with 401 before any tool runs`)
  const policy = keyPolicy(key)
  if (policy.kind === 'invalid') return refused(input.tool, 'policy', "The key's stored policy is invalid, so every call is refused (policy_invalid)", policy.errors)
  if (input.ip !== undefined && policy.kind === 'valid' && checkClientAddress(policy.policy.ip, input.ip) !== 'allowed') {
    return refused(input.tool, 'ip', `The key's IP rules refuse client address ${input.ip} (403 ip_not_allowed)`)
  }
  const tool = TOOLS.find((one) => one.name === input.tool)
  if (!tool) return refused(input.tool, 'tool', `The gateway has no tool '${input.tool.slice(0, 64)}'; its tools are ${TOOLS.map((one) => one.name).join(', ')}`)
  const unavailable = toolAvailability(policy).refused.get(tool.name)
  if (unavailable) return refused(tool.name, 'tool', unavailable.message)
  const args = z.object(tool.inputSchema).safeParse(input.arguments)
  if (!args.success) {
    const details = args.error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(arguments)'}: ${issue.message}`)
    return refused(tool.name, 'arguments', `The arguments do not fit ${tool.name}'s input schema`, details)
  }
  try {
    const session = await createKeySession({ env, config, key, waitUntil: () => undefined, logError })
    const request = tool.plan(args.data as never)
    const authorized = await session.guard.authorize(request)
    const checks = checkedWhenRun(authorized)
    return { allowed: true, tool: tool.name, odoo_request: odooRequest(authorized), ...(checks.length > 0 ? { checked_when_run: checks } : {}) }
  } catch (error) {
    // What the agent would read; anything else (Odoo unreachable while metadata is read) goes to the caller.
    if (error instanceof ToolError) return refused(tool.name, stageOf(error.code), error.message)
    throw error
  }
}
