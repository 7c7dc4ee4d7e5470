/**
 * Property tests of the policy evaluator: the policy schema (src/policy/schema.ts), the sensitive lists
 * (src/policy/sensitive.ts) and the guard (src/guard/policy-guard.ts). The per-key cache (src/policy/key-policy.ts)
 * imports Worker types, so its properties are in test/worker/properties/key-policy.property.test.ts.
 *
 * The reference model below is written from the documented semantics (README "Key policies", the guard's comments),
 * on the raw policy document rather than on what the schema parsed, with its own reading of "sensitive" (whole words
 * of a snake_case name). Random policies over a random Odoo (models, fields, types, relations, related fields) meet
 * random requests; the guard must decide as the reference does, and its output filters must never return a field the
 * reference hides.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseDomain } from '../../../src/domain/domain'
import { parseAggregates, parseGroupBy, parseOrder } from '../../../src/domain/query-parts'
import { ToolError } from '../../../src/errors'
import { createPolicyGuard } from '../../../src/guard/policy-guard'
import type { AuthorizedRequest, ToolRequest } from '../../../src/guard/request'
import type { FieldInfo, MetadataSource, ModelFields } from '../../../src/odoo/metadata'
import { parsePolicy, parsePolicyText } from '../../../src/policy/schema'

// ---------------------------------------------------------------------------------------------------------------
// The world: models, fields, metadata
// ---------------------------------------------------------------------------------------------------------------

/** Ordinary models, sensitive ones named in the README, and `constructor` (a valid model name that Object.prototype also has). */
const ORDINARY_MODELS = ['res.partner', 'sale.order', 'res.country', 'res.users', 'x_lab.sample', 'constructor']
const SENSITIVE_MODELS = ['ir.config_parameter', 'res.users.apikeys', 'ir.rule', 'ir.cron', 'ir.attachment']
const MODELS = [...ORDINARY_MODELS, ...SENSITIVE_MODELS]

/** Field names, some holding secrets (whole words), some only looking like it. */
const FIELDS = [
  'name', 'display_name', 'email', 'city', 'amount_total', 'state', 'date_order', 'partner_id', 'country_id', 'user_id',
  'order_line', 'tag_ids', 'child_ids', 'image_1920', 'value', 'key',
  'password', 'new_password', 'Password_Hash', 'api_key', 'api_key_ids', 'apikey', 'access_token', 'signup_token', 'totp_secret',
  'otp', 'pwd', 'x_secret_note', 'private_key_pem', 'signature_key',
  'hotpot', 'tokens', 'tokenizer', 'secretary', 'signature', 'passwords', 'keypad', 'x_api_keys',
]
const RELATIONAL = ['many2one', 'one2many', 'many2many']
const FIELD_TYPES = ['char', 'integer', 'boolean', 'binary', 'date', ...RELATIONAL]

type World = Record<string, ModelFields>

const fieldInfo: fc.Arbitrary<FieldInfo> = fc
  .record({
    type: fc.constantFrom(...FIELD_TYPES),
    relation: fc.constantFrom(...MODELS),
    related: fc.option(
      fc.array(fc.constantFrom(...FIELDS), { minLength: 1, maxLength: 2 }).map((parts) => parts.join('.')),
      { freq: 6 },
    ),
  })
  .map(({ type, relation, related }) => ({
    type,
    ...(RELATIONAL.includes(type) ? { relation } : {}),
    ...(related ? { related } : {}),
  }))

const world: fc.Arbitrary<World> = fc
  .tuple(...MODELS.map(() => fc.dictionary(fc.constantFrom(...FIELDS), fieldInfo, { minKeys: 2, maxKeys: 10 })))
  .map((perModel) => Object.fromEntries(MODELS.map((model, i) => [model, { id: { type: 'integer' }, ...perModel[i]! }])))

function metadataOf(world: World): MetadataSource {
  return {
    async fieldsOf(model) {
      if (!Object.hasOwn(world, model)) throw new Error(`unknown model ${model}`)
      return world[model]!
    },
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Policies, written as JSON documents
// ---------------------------------------------------------------------------------------------------------------

const OPERATIONS = ['read', 'create', 'write', 'unlink'] as const
type Operation = (typeof OPERATIONS)[number]

interface ModelEntryDocument {
  operations: Operation[]
  fields: '*' | string[]
}
interface PolicyDocument {
  version: 1
  models: Record<string, ModelEntryDocument>
}

const modelEntry: fc.Arbitrary<ModelEntryDocument> = fc.record({
  operations: fc.subarray([...OPERATIONS], { minLength: 1 }),
  fields: fc.oneof(fc.constant('*' as const), fc.subarray(FIELDS)),
})

const policyDocument: fc.Arbitrary<PolicyDocument | null> = fc.option(
  fc
    .uniqueArray(fc.tuple(fc.constantFrom('*', ...MODELS), modelEntry), { selector: ([model]) => model, maxLength: 6 })
    .map((entries) => ({ version: 1 as const, models: Object.fromEntries(entries) })),
  { freq: 12 },
)

// ---------------------------------------------------------------------------------------------------------------
// Reference model
// ---------------------------------------------------------------------------------------------------------------

/** README: sensitive models are never covered by the "*" model. */
const REFERENCE_SENSITIVE_MODELS = new Set(SENSITIVE_MODELS)
const SECRET_WORDS = new Set(['password', 'passwd', 'pwd', 'secret', 'token', 'apikey', 'totp', 'otp'])
const SECRET_WORD_PAIRS = new Set(['api key', 'private key', 'signature key'])

/** README: names with password, token, secret, api_key, totp... (whole words of a snake_case name) are never in "*". */
function referenceSensitiveField(name: string): boolean {
  const words = name.toLowerCase().split('_')
  return words.some((word) => SECRET_WORDS.has(word)) || words.slice(1).some((word, i) => SECRET_WORD_PAIRS.has(`${words[i]} ${word}`))
}

/** Odoo compares x2many command codes with Python's ==, for which False == 0 and True == 1. */
function pythonCommandCode(code: unknown): number | undefined {
  if (typeof code === 'boolean') return code ? 1 : 0
  return typeof code === 'number' ? code : undefined
}

const ALLOWED_CONTEXT_KEYS = ['lang', 'tz', 'active_test']

class ReferencePolicy {
  constructor(
    private readonly document: PolicyDocument | null,
    private readonly world: World,
  ) {}

  entry(model: string): ModelEntryDocument | undefined {
    const models = this.document?.models
    if (!models) return undefined
    if (Object.hasOwn(models, model)) return models[model]
    return REFERENCE_SENSITIVE_MODELS.has(model) ? undefined : models['*']
  }

  may(model: string, operation: Operation): boolean {
    return this.entry(model)?.operations.includes(operation) ?? false
  }

  private info(model: string, field: string): FieldInfo | undefined {
    const fields = this.world[model]
    return fields && Object.hasOwn(fields, field) ? fields[field] : undefined
  }

  /**
   * May the key see `field` of `model`? `id` always; a listed field; under "*" any field that is not sensitive and,
   * if it is a related field, whose source path the key could itself follow (`seen` cuts cycles of related fields).
   */
  visible(model: string, field: string, seen: ReadonlySet<string> = new Set()): boolean {
    const entry = this.entry(model)
    if (!entry) return false
    if (field === 'id') return true
    if (entry.fields !== '*') return entry.fields.includes(field)
    if (referenceSensitiveField(field)) return false
    const related = this.info(model, field)?.related
    if (typeof related !== 'string' || !related) return true
    const key = `${model}.${related}`
    return seen.has(key) || this.followable(model, related.split('.'), new Set([...seen, key]))
  }

  /**
   * May a filter, order or grouping use `path` from `model`? Every hop: a readable model, a visible field, a
   * relational field to go on; `display_name` only with "*" (it name-searches other fields).
   */
  followable(model: string, path: string[], seen: ReadonlySet<string> = new Set()): boolean {
    let current = model
    for (const [index, field] of path.entries()) {
      if (!this.may(current, 'read') || !this.visible(current, field, seen)) return false
      if (field === 'display_name' && this.entry(current)!.fields !== '*') return false
      if (index < path.length - 1) {
        const info = this.info(current, field)
        if (!info?.relation || !RELATIONAL.includes(info.type)) return false
        current = info.relation
      }
    }
    return true
  }

  /** May a many2one to `model` come back with its display name? Only if the key could read that name itself. */
  displayNameShown(model: string): boolean {
    const entry = this.entry(model)
    if (!entry || !this.may(model, 'read')) return false
    return entry.fields === '*' || entry.fields.includes('name') || entry.fields.includes('display_name')
  }

  private lastHop(model: string, path: string[]): FieldInfo | undefined {
    let current = model
    for (const field of path.slice(0, -1)) current = this.info(current, field)?.relation ?? current
    return this.info(current, path[path.length - 1]!)
  }

  private valuesAllowed(model: string, values: Record<string, unknown>): boolean {
    for (const [field, value] of Object.entries(values)) {
      if (!this.visible(model, field)) return false
      const info = this.info(model, field)
      if (!info?.relation || !['one2many', 'many2many'].includes(info.type) || !Array.isArray(value)) continue
      for (const command of value) {
        if (!Array.isArray(command)) continue
        const code = pythonCommandCode(command[0])
        if (code === 0 || code === 1) {
          // Create / update a related record: that operation on the related model, with values it may write.
          if (!this.may(info.relation, code === 0 ? 'create' : 'write')) return false
          const nested: unknown = command[2]
          if (!nested || typeof nested !== 'object' || Array.isArray(nested)) return false
          if (!this.valuesAllowed(info.relation, nested as Record<string, unknown>)) return false
        } else if (code === 2 && !this.may(info.relation, 'unlink')) {
          return false
        } else if (info.type === 'one2many' && [3, 5, 6].includes(code!) && !this.may(info.relation, 'unlink')) {
          // Unlink, clear and set drop lines of a one2many, which Odoo deletes when their link back cascades.
          return false
        }
        // 4 (link), and 3, 5, 6 on a many2many, change this record's field only.
      }
    }
    return true
  }

  /** The reference verdict on a request, given the raw domain it was parsed from. */
  allows(request: ToolRequest, rawDomain: unknown[]): boolean {
    if (Object.keys(request.context ?? {}).some((key) => !ALLOWED_CONTEXT_KEYS.includes(key))) return false
    if (request.tool === 'list_models') return true
    if (!this.may(request.model, request.operation)) return false
    for (const term of rawDomain) {
      if (!Array.isArray(term)) continue
      const [path, , value] = term as [string, string, unknown]
      const parts = path.split('.')
      if (!this.followable(request.model, parts)) return false
      // Text compared with a relational field is a name search of the related model: it needs that model's "*".
      const info = this.lastHop(request.model, parts)
      const texts = (Array.isArray(value) ? value : [value]).some((v) => typeof v === 'string')
      if (info?.relation && RELATIONAL.includes(info.type) && texts) {
        if (!this.displayNameShown(info.relation) || this.entry(info.relation)?.fields !== '*') return false
      }
    }
    const singleFields = [...(request.order?.terms ?? []), ...(request.groupby ?? []), ...(request.aggregates ?? [])].map((part) => part.field)
    if (singleFields.some((field) => !this.followable(request.model, [field]))) return false
    if (request.values && !this.valuesAllowed(request.model, request.values)) return false
    if (request.fields && (request.tool === 'search_records' || request.tool === 'read_records')) {
      if (request.fields.some((field) => !this.visible(request.model, field))) return false
    }
    return true
  }

  /** many2one fields of `model` among `fields` that must come back as a bare id. */
  idOnly(model: string, fields: string[]): string[] {
    return fields.filter((field) => {
      const info = this.info(model, field)
      return info?.type === 'many2one' && info.relation !== undefined && !this.displayNameShown(info.relation)
    })
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------------------------

const TOOLS: { tool: string; operation: Operation }[] = [
  { tool: 'search_records', operation: 'read' },
  { tool: 'read_records', operation: 'read' },
  { tool: 'count_records', operation: 'read' },
  { tool: 'aggregate_records', operation: 'read' },
  { tool: 'describe_model', operation: 'read' },
  { tool: 'create_record', operation: 'create' },
  { tool: 'update_records', operation: 'write' },
  { tool: 'delete_records', operation: 'unlink' },
  { tool: 'list_models', operation: 'read' },
]

/**
 * Follows `choices` through the world from `model`: a dotted path that exists, relational where it goes on. With
 * `preferVisible`, each hop picks among the fields the reference shows, when there are any.
 */
function walk(world: World, reference: ReferencePolicy, model: string, choices: number[], preferVisible: boolean): string {
  const parts: string[] = []
  let current = model
  for (const choice of choices) {
    const all = Object.keys(world[current]!)
    const visible = all.filter((name) => reference.visible(current, name))
    const names = preferVisible && visible.length > 0 ? visible : all
    const field = names[choice % names.length]!
    parts.push(field)
    const info = world[current]![field]!
    if (!info.relation) break
    current = info.relation
  }
  return parts.join('.')
}

/** Makes prefix notation well formed by dropping the operators that lack operands (read right to left). */
function wellFormed(terms: unknown[]): unknown[] {
  let operands = 0
  const kept: unknown[] = []
  for (const term of [...terms].reverse()) {
    if (term === '!') {
      if (operands >= 1) kept.unshift(term)
    } else if (term === '&' || term === '|') {
      if (operands >= 2) {
        kept.unshift(term)
        operands--
      }
    } else {
      kept.unshift(term)
      operands++
    }
  }
  return kept
}

const COMMAND_CODES: unknown[] = [0, 1, 2, 3, 4, 5, 6, true, false, '0', null, 0.5]

/** Values to write: keys from `field`, values plain or x2many commands (nested values, pairs lists, bare ids). */
function valuesOf(field: fc.Arbitrary<string>): fc.Arbitrary<Record<string, unknown>> {
  const { values } = fc.letrec<{ values: Record<string, unknown>; command: unknown }>((tie) => ({
    values: fc.dictionary(
      field,
      fc.oneof(
        { weight: 2, arbitrary: fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.boolean()) },
        { weight: 3, arbitrary: fc.array(tie('command'), { maxLength: 3 }) },
      ),
      { maxKeys: 3, depthIdentifier: 'values' },
    ),
    command: fc.oneof(
      { depthSize: 'small', depthIdentifier: 'values' },
      fc.tuple(fc.constantFrom(...COMMAND_CODES), fc.integer({ min: 0, max: 9 }), tie('values')),
      fc.tuple(fc.constantFrom(...COMMAND_CODES), fc.integer({ min: 0, max: 9 }), fc.oneof(fc.constant(0), fc.array(fc.tuple(fc.constantFrom(...FIELDS), fc.string({ maxLength: 3 })), { maxLength: 2 }))),
      fc.tuple(fc.constantFrom(...COMMAND_CODES), fc.integer({ min: 0, max: 9 })),
      fc.integer({ min: 1, max: 9 }),
    ),
  }))
  return values
}

const context = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('lang', 'tz', 'active_test'), fc.constant('x'), { maxKeys: 2 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('lang', 'uid', 'allowed_company_ids', 'force_company'), fc.constant('x'), { maxKeys: 2 }) },
)

interface Scenario {
  document: PolicyDocument | null
  world: World
  request: ToolRequest
  rawDomain: unknown[]
}

/**
 * A request of a random tool, with the parts that tool takes. Models are often ones the policy names, and fields,
 * paths and values often ones the model really has, so that a fair share of requests is allowed.
 */
const scenario: fc.Arbitrary<Scenario> = fc
  .tuple(policyDocument, world)
  .chain(([document, world]) => {
    const named = Object.keys(document?.models ?? {}).filter((model) => model !== '*')
    const model = named.length > 0 ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...named) }, { weight: 1, arbitrary: fc.constantFrom(...MODELS) }) : fc.constantFrom(...MODELS)
    return fc.tuple(fc.constant(document), fc.constant(world), model)
  })
  .chain(([document, world, model]) => {
    const reference = new ReferencePolicy(document, world)
    const modelFields = Object.keys(world[model]!)
    const visible = modelFields.filter((name) => reference.visible(model, name))
    const field = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...visible, 'id') },
      { weight: 1, arbitrary: fc.constantFrom(...modelFields) },
      { weight: 1, arbitrary: fc.constantFrom(...FIELDS, 'id') },
    )
    const path = fc.oneof(
      fc.tuple(fc.array(fc.nat(), { minLength: 1, maxLength: 3 }), fc.boolean()).map(([choices, preferVisible]) => walk(world, reference, model, choices, preferVisible)),
      field,
    )
    const leaf = fc
      .tuple(path, fc.constantFrom('=', '!=', 'in', 'ilike', 'child_of'), fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constantFrom('acme', 'x@example.com')))
      .map(([p, op, v]) => [p, op, op === 'in' ? [v] : v])
    const rawDomain = fc.array(fc.oneof({ weight: 3, arbitrary: leaf }, { weight: 1, arbitrary: fc.constantFrom('!', '|', '&') }), { maxLength: 4 }).map(wellFormed)
    // Values go to one2many/many2many fields often: their commands write other models.
    const x2many = modelFields.filter((name) => ['one2many', 'many2many'].includes(world[model]![name]!.type))
    const valueField = x2many.length > 0 ? fc.oneof(fc.constantFrom(...x2many), field) : field
    return fc.record({
      document: fc.constant(document),
      world: fc.constant(world),
      model: fc.constant(model),
      tool: fc.constantFrom(...TOOLS),
      fields: fc.option(fc.uniqueArray(field, { minLength: 1, maxLength: 4 }), { freq: 2 }),
      rawDomain,
      order: fc.option(fc.uniqueArray(field, { maxLength: 2 }).map((fields) => fields.map((f) => `${f} desc`).join(', '))),
      groupby: fc.uniqueArray(field, { minLength: 1, maxLength: 2 }),
      aggregates: fc.uniqueArray(field, { maxLength: 2 }).map((fields) => fields.map((f) => `${f}:sum`)),
      values: valuesOf(valueField),
      context,
    })
  })
  .map(({ document, world, model, tool: { tool, operation }, fields, rawDomain, order, groupby, aggregates, values, context }): Scenario => {
    const request: ToolRequest = { tool, model, operation, ...(context ? { context } : {}) }
    if ((tool === 'search_records' || tool === 'read_records') && fields) request.fields = fields
    if (tool === 'search_records' || tool === 'count_records' || tool === 'aggregate_records') request.domain = parseDomain(rawDomain)
    if (tool === 'search_records') request.order = parseOrder(order ?? undefined)
    if (tool === 'aggregate_records') Object.assign(request, { groupby: parseGroupBy(groupby), aggregates: parseAggregates(aggregates) })
    if (tool === 'create_record' || tool === 'update_records') request.values = values
    return { document, world, request, rawDomain: request.domain ? rawDomain : [] }
  })

function guardOf({ document, world }: Pick<Scenario, 'document' | 'world'>) {
  let policy = null
  if (document) {
    const parsed = parsePolicy(document)
    if (!parsed.ok) throw new Error(`a generated policy did not parse: ${parsed.errors.join('; ')}`)
    policy = parsed.policy
  }
  return createPolicyGuard(policy, metadataOf(world))
}

async function authorize(sample: Scenario): Promise<AuthorizedRequest | null> {
  try {
    return await guardOf(sample).authorize(sample.request)
  } catch (error) {
    if (error instanceof ToolError && error.code === 'policy_denied') return null
    throw error
  }
}

/** A record as Odoo might answer: every field of the world, many2one as [id, name], plus fields nobody asked for. */
function recordOf(world: World, model: string, id: number): Record<string, unknown> {
  const record: Record<string, unknown> = { id, __last_update: 'x', password: 'leak', access_token: 'leak' }
  for (const [field, info] of Object.entries(world[model]!)) {
    if (field === 'id') continue
    record[field] = info.type === 'many2one' ? [id + 1, `name of ${field}`] : RELATIONAL.includes(info.type) ? [id + 2] : `${field} value`
  }
  return record
}

// ---------------------------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------------------------

describe('policy guard (properties)', () => {
  it('decides every request exactly as the reference model does, and refuses only with a ToolError', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (sample) => {
        const reference = new ReferencePolicy(sample.document, sample.world)
        const authorized = await authorize(sample)
        expect(authorized !== null).toBe(reference.allows(sample.request, sample.rawDomain))
      }),
      { numRuns: 1000 },
    )
  })

  it('never reads from Odoo a field the reference hides, and strips names the reference hides', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (sample) => {
        const authorized = await authorize(sample)
        if (!authorized || authorized.tool === 'list_models') return
        const reference = new ReferencePolicy(sample.document, sample.world)
        const { model } = authorized
        for (const field of authorized.readFields) expect(reference.visible(model, field), `read field ${field}`).toBe(true)
        const shown = authorized.groupby ? authorized.groupby.map((g) => g.field) : authorized.readFields
        for (const field of reference.idOnly(model, shown)) expect(authorized.idOnlyFields).toContain(field)
      }),
      { numRuns: 500 },
    )
  })

  it('returns no hidden field and no hidden display name in records, groups or field metadata', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (sample) => {
        const authorized = await authorize(sample)
        if (!authorized || authorized.tool === 'list_models') return
        const guard = guardOf(sample)
        const reference = new ReferencePolicy(sample.document, sample.world)
        const { model } = authorized
        const hiddenNames = new Set(reference.idOnly(model, Object.keys(sample.world[model]!)))

        for (const record of guard.filterRecords(authorized, [recordOf(sample.world, model, 1), recordOf(sample.world, model, 5)])) {
          for (const [field, value] of Object.entries(record)) {
            expect(reference.visible(model, field), `record field ${field}`).toBe(true)
            if (hiddenNames.has(field)) expect(Array.isArray(value), `display name of ${field}`).toBe(false)
          }
        }

        if (authorized.groupby) {
          const group: Record<string, unknown> & { count: number } = { count: 3, __domain: [], ...recordOf(sample.world, model, 1) }
          // Group values of many2one fields come as [id, name]; aggregates are numbers.
          for (const spec of authorized.groupby) group[spec.spec] = [9, 'name']
          for (const spec of authorized.aggregates ?? []) group[spec.spec] = 42
          for (const filtered of guard.filterGroups(authorized, [group])) {
            for (const [key, value] of Object.entries(filtered)) {
              if (key === 'count') continue
              const field = key.split(':')[0]!
              expect(reference.followable(model, [field]), `group key ${key}`).toBe(true)
              if (hiddenNames.has(field)) expect(Array.isArray(value), `display name of ${key}`).toBe(false)
            }
          }
        }

        const described = await guard.filterFieldMetadata(model, sample.world[model]!)
        for (const field of Object.keys(described)) expect(reference.visible(model, field), `described field ${field}`).toBe(true)
      }),
      { numRuns: 500 },
    )
  })

  it('checks one2many/many2many commands against the related model, however Odoo lets the command be written', async () => {
    // A small world where every write goes through x2many commands, so that each run exercises them.
    const orders: World = {
      'sale.order': { id: { type: 'integer' }, name: { type: 'char' }, order_line: { type: 'one2many', relation: 'sale.order.line' }, tag_ids: { type: 'many2many', relation: 'crm.tag' } },
      'sale.order.line': { id: { type: 'integer' }, name: { type: 'char' }, price_unit: { type: 'float' }, margin: { type: 'float' }, tax_ids: { type: 'many2many', relation: 'crm.tag' } },
      'crm.tag': { id: { type: 'integer' }, name: { type: 'char' }, color: { type: 'integer' } },
    }
    const entryOf = (fields: string[]) => fc.record({ operations: fc.subarray([...OPERATIONS], { minLength: 1 }), fields: fc.oneof(fc.constant('*' as const), fc.subarray(fields)) })
    const document: fc.Arbitrary<PolicyDocument> = fc
      .record({
        'sale.order': fc.record({ operations: fc.constant<Operation[]>(['create', 'write']), fields: fc.constantFrom<'*' | string[]>('*', ['name', 'order_line', 'tag_ids']) }),
        'sale.order.line': entryOf(['name', 'price_unit', 'margin', 'tax_ids']),
        'crm.tag': entryOf(['name', 'color']),
      }, { requiredKeys: ['sale.order'] })
      .map((models) => ({ version: 1, models: models as Record<string, ModelEntryDocument> }))
    const nestedValues = fc.dictionary(fc.constantFrom('name', 'price_unit', 'margin', 'color', 'tax_ids'), fc.oneof(fc.integer(), fc.constant([[4, 1]])), { maxKeys: 2 })
    const command = fc.oneof(
      fc.tuple(fc.constantFrom(...COMMAND_CODES), fc.nat(9), fc.oneof(nestedValues, fc.constant([['margin', 1]]), fc.constant(0))),
      fc.tuple(fc.constantFrom(...COMMAND_CODES), fc.nat(9)),
    )
    const request = fc.record({
      tool: fc.constantFrom({ tool: 'create_record', operation: 'create' as const }, { tool: 'update_records', operation: 'write' as const }),
      values: fc.record({ order_line: fc.array(command, { minLength: 1, maxLength: 3 }), tag_ids: fc.array(command, { maxLength: 2 }) }, { requiredKeys: [] }),
    })
    await fc.assert(
      fc.asyncProperty(document, request, async (document, { tool: { tool, operation }, values }) => {
        const sample: Scenario = { document, world: orders, request: { tool, model: 'sale.order', operation, values }, rawDomain: [] }
        const expected = new ReferencePolicy(document, orders).allows(sample.request, [])
        expect(await authorize(sample) !== null, JSON.stringify(values)).toBe(expected)
      }),
      { numRuns: 500 },
    )
  })

  it('returns a many2one with its display name only when the key may read that name itself', async () => {
    const m2o = (relation: string): FieldInfo => ({ type: 'many2one', relation })
    const orders: World = {
      'sale.order': { id: { type: 'integer' }, name: { type: 'char' }, partner_id: m2o('res.partner'), user_id: m2o('res.users'), company_id: m2o('res.company') },
      'res.partner': { id: { type: 'integer' }, name: { type: 'char' }, display_name: { type: 'char' }, email: { type: 'char' } },
      'res.users': { id: { type: 'integer' }, name: { type: 'char' }, login: { type: 'char' } },
      'res.company': { id: { type: 'integer' }, name: { type: 'char' } },
    }
    const related = fc.record({ operations: fc.subarray([...OPERATIONS], { minLength: 1 }), fields: fc.oneof(fc.constant('*' as const), fc.subarray(['name', 'display_name', 'email', 'login'])) })
    const document: fc.Arbitrary<PolicyDocument> = fc
      .record({ 'sale.order': fc.constant({ operations: ['read'] as Operation[], fields: '*' as const }), 'res.partner': related, 'res.users': related, '*': related }, { requiredKeys: ['sale.order'] })
      .map((models) => ({ version: 1, models }))
    const request = fc.oneof(
      fc.option(fc.subarray(['name', 'partner_id', 'user_id', 'company_id'], { minLength: 1 })).map((fields): ToolRequest => ({ tool: 'search_records', model: 'sale.order', operation: 'read', ...(fields ? { fields } : {}) })),
      fc.subarray(['partner_id', 'user_id', 'company_id'], { minLength: 1 }).map((groupby): ToolRequest => ({ tool: 'aggregate_records', model: 'sale.order', operation: 'read', groupby: parseGroupBy(groupby), aggregates: [] })),
    )
    await fc.assert(
      fc.asyncProperty(document, request, async (document, request) => {
        const sample: Scenario = { document, world: orders, request, rawDomain: [] }
        const authorized = await authorize(sample)
        expect(authorized).not.toBeNull()
        const guard = guardOf(sample)
        const reference = new ReferencePolicy(document, orders)
        const rows = authorized!.groupby
          ? guard.filterGroups(authorized!, [{ count: 1, partner_id: [7, 'Azure Interior'], user_id: [2, 'Mitchell Admin'], company_id: [1, 'My Company'] }])
          : guard.filterRecords(authorized!, [{ id: 1, name: 'S00001', partner_id: [7, 'Azure Interior'], user_id: [2, 'Mitchell Admin'], company_id: [1, 'My Company'] }])
        for (const row of rows) {
          for (const field of ['partner_id', 'user_id', 'company_id'].filter((f) => f in row)) {
            const relation = orders['sale.order']![field]!.relation!
            expect(Array.isArray(row[field]), `${field} → ${relation}`).toBe(reference.displayNameShown(relation))
          }
        }
      }),
      { numRuns: 300 },
    )
  })

  it('lists only the models the reference allows', async () => {
    await fc.assert(
      fc.asyncProperty(policyDocument, world, async (document, world) => {
        const guard = guardOf({ document, world })
        const reference = new ReferencePolicy(document, world)
        const names = guard.visibleModels() ?? MODELS
        const listed = guard.filterModels(names.map((model) => ({ model, name: model })))
        for (const { model } of listed) expect(reference.entry(model), model).toBeDefined()
        expect(listed.map((m) => m.model).sort()).toEqual(MODELS.filter((model) => reference.entry(model) !== undefined && names.includes(model)).sort())
      }),
      { numRuns: 300 },
    )
  })
})

// ---------------------------------------------------------------------------------------------------------------
// The policy document itself
// ---------------------------------------------------------------------------------------------------------------

/** Policy-shaped JSON with random damage: wrong types, unknown keys, odd model names, prototype names. */
const damagedPolicy = fc.oneof(
  fc.jsonValue(),
  fc.record(
    {
      version: fc.oneof(fc.constant(1), fc.jsonValue({ maxDepth: 1 })),
      models: fc.oneof(
        fc.dictionary(
          fc.oneof(fc.constantFrom(...MODELS, '*', '__proto__', 'toString', 'Res.Partner', 'res..partner', ''), fc.string({ maxLength: 8 })),
          fc.oneof(modelEntry, fc.jsonValue({ maxDepth: 2 }), fc.record({ operations: fc.array(fc.string({ maxLength: 6 })), fields: fc.jsonValue({ maxDepth: 1 }) })),
          { maxKeys: 4 },
        ),
        fc.jsonValue({ maxDepth: 1 }),
      ),
      ip: fc.jsonValue({ maxDepth: 2 }),
      rateLimit: fc.oneof(fc.record({ perMinute: fc.oneof(fc.integer(), fc.double()), burst: fc.jsonValue({ maxDepth: 0 }) }), fc.jsonValue({ maxDepth: 1 })),
      workingHours: fc.record({ timezone: fc.constantFrom('Europe/Brussels', 'Mars/Olympus', ''), days: fc.string({ maxLength: 8 }), from: fc.string({ maxLength: 5 }), to: fc.constant('19:00') }),
      extra: fc.jsonValue({ maxDepth: 1 }),
    },
    { requiredKeys: ['version', 'models'] },
  ),
)

describe('policy schema (properties)', () => {
  it('never throws on any JSON: a policy, or a list of problems each naming its JSON path', () => {
    fc.assert(
      fc.property(damagedPolicy, (document) => {
        const parsed = parsePolicy(document)
        if (!parsed.ok) {
          expect(parsed.errors.length).toBeGreaterThan(0)
          for (const error of parsed.errors) expect(error).toMatch(/^\$/)
        }
        expect(parsePolicyText(JSON.stringify(document)).ok).toBe(parsed.ok)
      }),
      { numRuns: 1000 },
    )
  })

  it('never throws on any text, and refuses text that is not a JSON policy', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.json()), (text) => {
        const parsed = parsePolicyText(text)
        let document: unknown
        try {
          document = JSON.parse(text)
        } catch {
          expect(parsed).toMatchObject({ ok: false, errors: [expect.stringMatching(/^\$: not valid JSON/)] })
          return
        }
        expect(parsed.ok).toBe(parsePolicy(document).ok)
      }),
      { numRuns: 500 },
    )
  })

  it('accepts every well-formed policy and keeps exactly its models, operations and fields', () => {
    fc.assert(
      fc.property(policyDocument.filter((d): d is PolicyDocument => d !== null), (document) => {
        const parsed = parsePolicy(document)
        expect(parsed.ok).toBe(true)
        if (!parsed.ok) return
        expect(Object.keys(parsed.policy.models).sort()).toEqual(Object.keys(document.models).sort())
        for (const [model, entry] of Object.entries(document.models)) {
          const kept = parsed.policy.models[model]!
          expect([...kept.operations].sort()).toEqual([...new Set(entry.operations)].sort())
          expect(kept.fields === '*' ? '*' : [...kept.fields].sort()).toEqual(entry.fields === '*' ? '*' : [...new Set(entry.fields)].sort())
        }
      }),
      { numRuns: 300 },
    )
  })
})
