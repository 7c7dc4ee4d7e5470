/**
 * "What can this key do?" (`odoo-mcp keys explain`, GET /admin/v1/keys/:id/explain; and the dry run for a policy not
 * stored yet, `odoo-mcp policy explain`, POST /admin/v1/policy/explain): for each model, what the policy allows
 * intersected with what Odoo lets the key's user do, asked from Odoo as that user:
 *
 * - operations: the policy's, each checked with `has_access(operation)` on the model (Odoo's model access rights);
 * - fields: the policy's (masked ones with their mask), among the fields Odoo's `fields_get` shows that user (field
 *   groups); fields the policy lists that Odoo does not show are named;
 * - the record filter as written and as resolved for this user today, the companies the key is pinned to (checked
 *   against the user's companies), IP rules, rate limit, working hours, and the tools the key's agents are offered.
 *
 * Record rules are not listed (Odoo does not tell a user its rules): they narrow what the filter leaves, and every
 * call still runs as the user. Nothing here reads records other than the user's own `company_ids`.
 */
import { OdooError, OdooUnavailableError } from '../../../odoo/errors'
import type { MetadataSource } from '../../../odoo/metadata'
import type { OdooClient } from '../../../odoo/types'
import type { GuardServices } from '../../../guard/policy-guard'
import { createPolicyView } from '../../../guard/visibility'
import { toolAvailability } from '../../../mcp/availability'
import { ALL_TOOLS } from '../../../mcp/tools'
import type { ToolDefinition } from '../../../mcp/tool'
import { resolveRecordFilter } from '../../../policy/record-filter'
import { OPERATIONS, type Operation, type Policy } from '../../../policy/schema'

const TOOLS = ALL_TOOLS as unknown as ToolDefinition[]

export interface ModelExplanation {
  model: string
  /** Which policy entry applies: the model's own, or `"*"`. */
  entry: 'own' | 'wildcard'
  operations: { allowed: Operation[]; in_policy: Operation[]; refused_by_odoo: Operation[] }
  fields: { readable: string[]; masked: Record<string, string>; listed_but_not_shown_by_odoo: string[] }
  record_filter: { written: unknown[]; for_this_user: unknown[] } | null
  /** Whether many2one values pointing to this model carry display names; whether text searches on it are allowed. */
  display_names: boolean
  name_search: boolean
  notes: string[]
}

export interface Explanation {
  odoo_user: { login: string; uid: number | null }
  policy: {
    version: number | null
    companies: number[] | null
    ip: { allow: string[]; deny: string[] }
    rate_limit: { per_minute: number; burst: number; from: 'policy' | 'deployment default' }
    working_hours: { timezone: string; days: number[]; from: string; to: string } | null
  }
  tools: { available: string[]; unavailable: { tool: string; reason: string }[] }
  models: ModelExplanation[]
  /** The `"*"` entry: what any model not listed gets (sensitive models never). */
  wildcard: { operations: Operation[]; fields: '*' | string[] } | null
  notes: string[]
}

export interface ExplainInput {
  policy: Policy | null
  login: string
  odoo: OdooClient
  metadata: MetadataSource
  services: GuardServices
  defaultRateLimit: { perMinute: number; burst: number }
  /** Only this model (which may be reached through `"*"`). */
  model?: string
}

const clock = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`

/** An Odoo answer that is a refusal or an error, as a note; anything else (Odoo down) is thrown to the caller. */
function odooNote(error: unknown, what: string): string {
  if (error instanceof OdooError) return `${what}: Odoo answered ${error.message.split('\n')[0]}`
  throw error
}

export async function explainAccess(input: ExplainInput): Promise<Explanation> {
  const { policy, odoo, metadata } = input
  const view = createPolicyView(policy, metadata)
  const notes: string[] = []
  let uid: number | null = null
  try {
    uid = odoo.uid ? await odoo.uid() : null
  } catch (error) {
    if (error instanceof OdooUnavailableError) throw error
    notes.push(odooNote(error, `Signing in as '${input.login}'`))
  }

  if (policy?.companies && uid !== null) {
    try {
      const [user] = await odoo.call<{ company_ids: number[] }[]>('res.users', 'read', { ids: [uid], kwargs: { fields: ['company_ids'] } })
      const outside = policy.companies.filter((id) => !(user?.company_ids ?? []).includes(id))
      if (outside.length > 0) {
        notes.push(`The key is pinned to companies ${outside.join(', ')}, which are not among the Odoo user's companies: every call will fail with Odoo's "Access to unauthorized or invalid companies".`)
      }
    } catch (error) {
      notes.push(odooNote(error, "Reading the user's companies"))
    }
  }

  const names = input.model !== undefined ? [input.model] : Object.keys(policy?.models ?? {}).filter((name) => name !== '*').sort()
  const models: ModelExplanation[] = []
  for (const model of names) {
    const entry = view.entry(model)
    if (!entry) {
      notes.push(`Model '${model}' is not reachable with this policy${policy?.models['*'] ? ' (it is not listed, and "*" never reaches sensitive models)' : ''}.`)
      continue
    }
    models.push(await explainModel(input, view, model, entry === policy?.models[model] ? 'own' : 'wildcard'))
  }

  const availability = toolAvailability(policy ? { kind: 'valid', policy } : { kind: 'none' })
  const wildcard = policy?.models['*']
  return {
    odoo_user: { login: input.login, uid },
    policy: {
      version: policy?.version ?? null,
      companies: policy?.companies ?? null,
      ip: { allow: policy?.ip.allow.map((rule) => rule.source) ?? [], deny: policy?.ip.deny.map((rule) => rule.source) ?? [] },
      rate_limit: policy?.rateLimit
        ? { per_minute: policy.rateLimit.perMinute, burst: policy.rateLimit.burst, from: 'policy' }
        : { per_minute: input.defaultRateLimit.perMinute, burst: input.defaultRateLimit.burst, from: 'deployment default' },
      working_hours: policy?.workingHours
        ? { timezone: policy.workingHours.timezone, days: policy.workingHours.days, from: clock(policy.workingHours.from), to: clock(policy.workingHours.to) }
        : null,
    },
    tools: {
      available: TOOLS.filter((tool) => !availability.refused.has(tool.name)).map((tool) => tool.name),
      unavailable: [...availability.refused].map(([tool, refusal]) => ({ tool, reason: refusal.message })),
    },
    models,
    wildcard: wildcard ? { operations: [...wildcard.operations], fields: wildcard.fields === '*' ? '*' : [...wildcard.fields] } : null,
    notes: policy ? notes : ['The key has no policy: it may use no model.', ...notes],
  }
}

async function explainModel(input: ExplainInput, view: ReturnType<typeof createPolicyView>, model: string, entryKind: 'own' | 'wildcard'): Promise<ModelExplanation> {
  const entry = view.entry(model)!
  const notes: string[] = []
  const inPolicy = OPERATIONS.filter((operation) => entry.operations.has(operation))
  const refused: Operation[] = []
  await Promise.all(
    inPolicy.map(async (operation) => {
      try {
        const allowed = await input.odoo.call<boolean>(model, 'has_access', { ids: [], kwargs: { operation } })
        if (allowed !== true) refused.push(operation)
      } catch (error) {
        refused.push(operation)
        notes.push(odooNote(error, `Asking whether '${operation}' is allowed`))
      }
    }),
  )

  let odooFields: Record<string, unknown> = {}
  try {
    odooFields = await input.metadata.fieldsOf(model)
  } catch (error) {
    notes.push(odooNote(error, 'Reading the fields'))
  }
  const readable: string[] = []
  const masked: Record<string, string> = {}
  for (const field of Object.keys(odooFields).sort()) {
    if (!(await view.fieldReadable(model, field))) continue
    readable.push(field)
    const mask = view.maskOf(model, field)
    if (mask) masked[field] = mask
  }
  const listedHidden = entry.fields === '*' ? [] : [...entry.fields].filter((field) => field !== 'id' && !Object.hasOwn(odooFields, field)).sort()
  if (listedHidden.length > 0) notes.push('Fields the policy lists but Odoo does not show this user (field groups), or that do not exist, are never returned.')

  let recordFilter: ModelExplanation['record_filter'] = null
  if (entry.filter) {
    try {
      const values = await input.services.placeholders!()
      recordFilter = { written: entry.filter.terms, for_this_user: resolveRecordFilter(entry.filter, values).terms }
    } catch (error) {
      if (error instanceof OdooUnavailableError) throw error
      recordFilter = { written: entry.filter.terms, for_this_user: [] }
      notes.push(odooNote(error, 'Resolving the record filter'))
    }
  }
  const order = (ops: Operation[]) => OPERATIONS.filter((operation) => ops.includes(operation))
  return {
    model,
    entry: entryKind,
    operations: { allowed: order(inPolicy.filter((operation) => !refused.includes(operation))), in_policy: inPolicy, refused_by_odoo: order(refused) },
    fields: { readable, masked, listed_but_not_shown_by_odoo: listedHidden },
    record_filter: recordFilter,
    display_names: view.displayNameShown(model),
    name_search: view.nameSearchAllowed(model),
    notes,
  }
}
