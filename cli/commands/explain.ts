/**
 * `keys explain` and `policy explain`: what a key (or a policy not stored yet, for an Odoo login) lets an agent do,
 * per model, as the policy intersected with the Odoo user's rights (src/admin/v1/keys/explain.ts). The text form is
 * Markdown, to paste into a compliance document ("document your API key permissions"); `--json` gives the answer as
 * the admin API does.
 */
import { adminRequest, orSay } from '../admin-api'
import { print, printJson, stringOption, type Command, type CommandContext } from '../command'
import { EXIT_OK, UsageError } from '../errors'
import { checkLogin, readSecret } from '../key-input'
import { policyOptions, TEMPLATE_OPTION } from '../policy'
import { credentialsRefused, keyIdArgument, noKey, ODOO_CHECK_TIMEOUT_MS, requiredSecretFile } from './keys'

interface ModelJson {
  model: string
  entry: 'own' | 'wildcard'
  operations: { allowed: string[]; in_policy: string[]; refused_by_odoo: string[] }
  fields: { readable: string[]; masked: Record<string, string>; listed_but_not_shown_by_odoo: string[] }
  record_filter: { written: unknown[]; for_this_user: unknown[] } | null
  display_names: boolean
  name_search: boolean
  notes: string[]
}

export interface ExplainJson {
  key?: { id: string; name: string; status: string; expires_at: string | null }
  odoo_user: { login: string; uid: number | null }
  policy: {
    version: number | null
    companies: number[] | null
    ip: { allow: string[]; deny: string[] }
    rate_limit: { per_minute: number; burst: number; from: string }
    working_hours: { timezone: string; days: number[]; from: string; to: string } | null
  }
  tools: { available: string[]; unavailable: { tool: string; reason: string }[] }
  models: ModelJson[]
  wildcard: { operations: string[]; fields: '*' | string[] } | null
  notes: string[]
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const list = (items: string[], none = '(none)') => (items.length > 0 ? items.join(', ') : none)

/** The explanation as Markdown: headings per model, one line per fact. */
export function explanationText(answer: ExplainJson): string {
  const lines: string[] = []
  const who = `Odoo user '${answer.odoo_user.login}'${answer.odoo_user.uid === null ? '' : ` (uid ${answer.odoo_user.uid})`}`
  lines.push(answer.key ? `# API key ${answer.key.id} "${answer.key.name}"` : '# Policy (dry run, not stored)', '')
  if (answer.key) lines.push(`- Status: ${answer.key.status}${answer.key.expires_at ? `, expires ${answer.key.expires_at}` : ', no expiry'}`)
  lines.push(`- Acts as: ${who}; every call runs with that user's Odoo access rights and record rules, narrowed by the policy below.`)
  const { policy } = answer
  lines.push(`- Policy: ${policy.version === null ? 'none (the key may use no model)' : `version ${policy.version}`}`)
  if (policy.companies) lines.push(`- Companies (allowed_company_ids, set by the gateway on every call): ${policy.companies.join(', ')}`)
  lines.push(`- Client addresses: ${policy.ip.allow.length ? `only ${policy.ip.allow.join(', ')}` : 'any'}${policy.ip.deny.length ? `; never ${policy.ip.deny.join(', ')}` : ''}`)
  lines.push(`- Rate limit: ${policy.rate_limit.per_minute} requests a minute, bursts of ${policy.rate_limit.burst} (${policy.rate_limit.from})`)
  if (policy.working_hours) {
    const days = policy.working_hours.days.map((day) => DAYS[day]).join(', ')
    lines.push(`- Working hours: ${days} ${policy.working_hours.from}-${policy.working_hours.to} ${policy.working_hours.timezone} (use outside raises an alert)`)
  }
  lines.push(`- Tools offered to agents: ${list(answer.tools.available)}`)
  if (answer.wildcard) {
    lines.push(`- Any other model ("*", never the sensitive ones such as users, API keys, settings): ${answer.wildcard.operations.join(', ')}; fields ${answer.wildcard.fields === '*' ? 'all but sensitive ones' : answer.wildcard.fields.join(', ')}`)
  }
  for (const note of answer.notes) lines.push(`- Note: ${note}`)
  for (const model of answer.models) {
    lines.push('', `## ${model.model}${model.entry === 'wildcard' ? ' (through "*")' : ''}`, '')
    const refused = model.operations.refused_by_odoo.length ? ` (the policy also allows ${model.operations.refused_by_odoo.join(', ')}, which Odoo refuses this user)` : ''
    lines.push(`- Operations: ${list(model.operations.allowed)}${refused}`)
    lines.push(`- Records: ${model.record_filter ? `only those matching ${JSON.stringify(model.record_filter.written)}, for this user today ${JSON.stringify(model.record_filter.for_this_user)}; others answer as missing` : "all the Odoo user's record rules allow"}`)
    const masked = Object.entries(model.fields.masked).map(([field, mask]) => `${field} (${mask})`)
    lines.push(`- Fields (${model.fields.readable.length}): ${list(model.fields.readable.filter((field) => !(field in model.fields.masked)))}`)
    if (masked.length) lines.push(`- Masked fields (readable masked only; never filtered, sorted, grouped or written): ${masked.join(', ')}`)
    if (model.fields.listed_but_not_shown_by_odoo.length) lines.push(`- Listed in the policy, but Odoo does not show them to this user (or they do not exist): ${model.fields.listed_but_not_shown_by_odoo.join(', ')}`)
    lines.push(`- Display names of related ${model.model} records: ${model.display_names ? 'shown' : 'not shown (ids only)'}; text (name) searches on it: ${model.name_search ? 'allowed' : 'refused'}`)
    for (const note of model.notes) lines.push(`- Note: ${note}`)
  }
  return lines.join('\n')
}

const MODEL_OPTION = { type: 'string', value: 'MODEL', description: 'Only this model (it may be reached through "*")' } as const

function modelOption(context: CommandContext): string | undefined {
  const model = stringOption(context, 'model')
  if (model !== undefined && !/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/.test(model)) throw new UsageError(`--model '${model.slice(0, 64)}' is not a model name (such as res.partner)`)
  return model
}

const keysExplain: Command = {
  name: 'keys explain',
  summary: 'What the key lets an agent do: its policy intersected with the Odoo user\'s rights, per model',
  synopsis: 'ID [--model MODEL] [--json]',
  description: [
    "Asks Odoo, as the key's user, what that user may do (access rights per operation, the fields its groups show),",
    'and prints it intersected with the key\'s policy, per model: operations, fields, masked fields, the record',
    'filter as written and as resolved for this user today, the companies the key is pinned to (checked against the',
    "user's companies), IP rules, rate limit, working hours and the tools agents are offered. Odoo's record rules",
    'apply on top and are not listed (Odoo does not tell a user its rules). Markdown, fit to paste into a',
    'compliance document; --json for the admin API\'s answer. Reads no records.',
  ].join('\n'),
  options: { model: MODEL_OPTION },
  arity: 1,
  async run(context) {
    const id = keyIdArgument(context)
    const model = modelOption(context)
    const answer = await orSay(
      adminRequest<ExplainJson>(context, 'GET', `/keys/${id}/explain${model ? `?model=${encodeURIComponent(model)}` : ''}`, { timeoutMs: ODOO_CHECK_TIMEOUT_MS }),
      noKey(id),
    )
    if (context.json) printJson(context, answer)
    else print(context, explanationText(answer))
    return EXIT_OK
  },
}

const policyExplain: Command = {
  name: 'policy explain',
  summary: 'Dry run: what a policy would let a key of an Odoo login do, before any key is made',
  synopsis: '--policy FILE | --template NAME --odoo-login LOGIN --odoo-secret-file FILE [--model MODEL] [--json]',
  description: [
    'The same answer as `keys explain`, for a policy not stored anywhere yet: the policy (--policy, --template, or',
    'both combined as `keys create` combines them) is checked, the login and secret are checked against Odoo, and',
    'Odoo is asked as that user. Nothing is stored; the secret is sent for this request only (from FILE, or standard',
    'input with `--odoo-secret-file -`, never the command line).',
  ].join('\n'),
  options: {
    policy: { type: 'string', value: 'FILE', description: 'JSON policy document' },
    template: TEMPLATE_OPTION,
    'odoo-login': { type: 'string', value: 'LOGIN', description: 'Odoo user the key would act as (required)' },
    'odoo-secret-file': { type: 'string', value: 'FILE', description: "File holding that user's Odoo API key or password; - reads standard input (required)" },
    model: MODEL_OPTION,
  },
  arity: 0,
  async run(context) {
    const login = checkLogin(stringOption(context, 'odoo-login'))
    const model = modelOption(context)
    const secretFile = requiredSecretFile(context)
    const policy = await policyOptions(context)
    if (policy === null) throw new UsageError('give the policy to explain: --policy FILE and/or --template NAME')
    const secret = await readSecret(secretFile, context.io)
    const answer = await adminRequest<ExplainJson>(context, 'POST', '/policy/explain', {
      body: { policy: JSON.parse(policy) as unknown, odoo_login: login, odoo_secret: secret, ...(model ? { model } : {}) },
      secretPayload: true,
      timeoutMs: ODOO_CHECK_TIMEOUT_MS,
    }).catch((error: unknown) => credentialsRefused(error, login, secret, 'Nothing was explained.'))
    if (context.json) printJson(context, answer)
    else print(context, explanationText(answer))
    return EXIT_OK
  },
}

export const explainCommands: Command[] = [keysExplain, policyExplain]
