/**
 * Which tools a key is shown: those its policy lets it use at all. A read-only key is not offered create_record, so
 * an agent does not plan with a tool it would be refused.
 *
 * A tool is listed when the policy allows the tool's operation (`ToolDefinition.requires`) on at least one model,
 * its own entry or `"*"`; list_models when the policy names any model at all. Whether a given call is allowed is
 * still the guard's decision (src/guard/policy-guard.ts): listing is only the first, coarse answer.
 *
 * A call to a tool that is not listed is refused with why (not the SDK's "Tool create_record not found", which reads
 * like a bug), and audited as a policy refusal. A key without a policy, or whose stored policy no longer validates
 * (admission refuses it first: src/keys/key-object.ts), is listed no tool.
 */
import { ToolError, type PolicyRefusal } from '../errors'
import type { KeyPolicy } from '../policy/key-policy'
import type { Operation, Policy } from '../policy/schema'
import { modelName } from './schemas'
import type { ToolDefinition } from './tool'
import { ALL_TOOLS } from './tools'

const TOOLS = ALL_TOOLS as unknown as ToolDefinition[]

/** Why a tool is not offered: the text the agent reads, the audit code, and what the alert rules are told. */
export interface ToolRefusal {
  message: string
  code: 'policy_denied' | 'policy_invalid'
  /** The operation the policy allows on no model; absent when the key has no usable policy at all. */
  operation?: Operation
  /** The key has no policy. */
  noPolicy?: true
}

/**
 * The error a call to an unavailable tool ends in. Like the guard's refusals, a `policy_denied` one tells the alert
 * rules what was refused: the operation on the model the call named (when it is a model name), or the model itself
 * for a key without a policy.
 */
export function refusalError(refusal: ToolRefusal, args: unknown): ToolError {
  const model = (args as { model?: unknown } | undefined)?.model
  let refused: PolicyRefusal | undefined
  if (refusal.code === 'policy_denied' && modelName.safeParse(model).success) {
    if (refusal.operation) refused = { kind: 'operation', model: model as string, operation: refusal.operation }
    else if (refusal.noPolicy) refused = { kind: 'model', model: model as string, noPolicy: true }
  }
  return new ToolError(refusal.message, refusal.code, refused)
}

export interface ToolAvailability {
  /** The tools to register and list, in ALL_TOOLS order. */
  listed: readonly ToolDefinition[]
  /** The other tools of the gateway, each with why it is not available. */
  refused: ReadonlyMap<string, ToolRefusal>
}

function availability(refusal: (tool: ToolDefinition) => ToolRefusal | undefined): ToolAvailability {
  const listed: ToolDefinition[] = []
  const refused = new Map<string, ToolRefusal>()
  for (const tool of TOOLS) {
    const why = refusal(tool)
    if (why) refused.set(tool.name, why)
    else listed.push(tool)
  }
  return { listed, refused }
}

const NO_POLICY = availability((tool) => ({
  message:
    `${tool.name} is not available: this API key has no policy, so it may not use any Odoo model. ` +
    'An administrator can set one with "odoo-mcp keys policy set".',
  code: 'policy_denied',
  noPolicy: true,
}))

const INVALID_POLICY = availability((tool) => ({
  message: `${tool.name} is not available: this API key's stored policy is invalid, so it may not use any model. An administrator must set it again.`,
  code: 'policy_invalid',
}))

/** Parsed policies are cached per isolate by their text (src/policy/key-policy.ts), so this is computed once each. */
const byPolicy = new WeakMap<Policy, ToolAvailability>()

function forPolicy(policy: Policy): ToolAvailability {
  const operations = new Set<Operation>()
  const entries = Object.values(policy.models)
  for (const entry of entries) for (const operation of entry.operations) operations.add(operation)
  const allowed = [...operations].sort().join(', ')
  return availability((tool) => {
    if (tool.requires === 'any') {
      if (entries.length > 0) return undefined
      return { message: `${tool.name} is not available: this API key's policy lists no model, so it may not use any.`, code: 'policy_denied' }
    }
    if (operations.has(tool.requires)) return undefined
    return {
      message:
        `${tool.name} is not available: this API key's policy allows '${tool.requires}' on no model` +
        (allowed ? ` (it allows: ${allowed}). Use the tools that tools/list shows.` : ', nor any other operation.'),
      code: 'policy_denied',
      operation: tool.requires,
    }
  })
}

export function toolAvailability(policy: KeyPolicy): ToolAvailability {
  if (policy.kind === 'none') return NO_POLICY
  if (policy.kind === 'invalid') return INVALID_POLICY
  let found = byPolicy.get(policy.policy)
  if (!found) byPolicy.set(policy.policy, (found = forPolicy(policy.policy)))
  return found
}
