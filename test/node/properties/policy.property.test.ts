/**
 * Property tests of the policy evaluator: the policy schema (src/policy/schema.ts), the sensitive lists
 * (src/policy/sensitive.ts) and the guard (src/guard/). The per-key cache (src/policy/key-policy.ts) imports Worker
 * types, so its properties are in test/worker/properties/key-policy.property.test.ts.
 *
 * The reference model below is written from the documented rules (docs/SECURITY.md, "What a policy hides, and how
 * that is proven", and README "Key policies"), on the raw policy document and the raw domain JSON rather than on
 * what the schema or the domain parser made of them, with its own reading of "sensitive" (whole words of a
 * snake_case name). Random policies over a random Odoo (models, fields of every type, relations to themselves and to
 * sensitive models, related fields, one2many links back, `active` fields, default orders) meet random requests of
 * the nine tools; the guard must decide as the reference does (allowed, refused by the policy, or refused as a
 * malformed value), and what it sends to Odoo and lets back must stay within what the reference shows.
 *
 * Where the documentation leaves a case open, the reference says which reading it takes (look for "Reading:").
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseDomain } from '../../../src/domain/domain'
import { AGGREGATE_FUNCTIONS, parseAggregates, parseGroupBy, parseOrder } from '../../../src/domain/query-parts'
import { ToolError } from '../../../src/errors'
import { createPolicyGuard } from '../../../src/guard/policy-guard'
import type { AuthorizedRequest, OdooContext, ToolRequest } from '../../../src/guard/request'
import type { FieldInfo, MetadataSource, ModelFields } from '../../../src/odoo/metadata'
import { parsePolicy, parsePolicyText } from '../../../src/policy/schema'
import { wellFormed } from '../../noninterference/requests'

// ---------------------------------------------------------------------------------------------------------------
// The world: models, fields, metadata, default orders
// ---------------------------------------------------------------------------------------------------------------

/** Ordinary models, sensitive ones named in the README, and `constructor` (a valid model name that Object.prototype also has). */
const ORDINARY_MODELS = ['res.partner', 'sale.order', 'res.country', 'res.users', 'x_lab.sample', 'constructor', 'mail.activity', 'ir.actionsx']
const SENSITIVE_MODELS = ['ir.config_parameter', 'res.users.apikeys', 'ir.rule', 'ir.cron', 'ir.attachment', 'mail.message', 'ir.actions.act_window', 'ir.model.data', 'res.groups']
const MODELS = [...ORDINARY_MODELS, ...SENSITIVE_MODELS]

/** Field names, some holding secrets (whole words), some only looking like it. */
const FIELDS = [
  'name', 'display_name', 'email', 'city', 'amount_total', 'state', 'date_order', 'partner_id', 'country_id', 'user_id',
  'order_line', 'tag_ids', 'child_ids', 'image_1920', 'value', 'key', 'parent_id', 'active',
  'password', 'new_password', 'Password_Hash', 'api_key', 'api_key_ids', 'apikey', 'access_token', 'signup_token', 'totp_secret',
  'otp', 'pwd', 'x_secret_note', 'private_key_pem', 'signature_key',
  'pin', 'adyen_hmac_key', 'google_calendar_rtoken', 'signup_url', 'smtp_pass', 'fedex_developer_key', 'credential_identifier',
  'hotpot', 'tokens', 'tokenizer', 'secretary', 'signature', 'passwords', 'keypad', 'x_api_keys', 'is_pinned', 'spin', 'barcode',
  'public_key', 'access_url', 'smtp_port', 'signup_type',
]
/** Fields every Odoo model has, with the metadata Odoo gives them. */
const MAGIC_FIELDS = ['id', 'display_name']
const RELATIONAL = ['many2one', 'one2many', 'many2many']
const X2MANY = ['one2many', 'many2many']
/** Every type the documentation names, and `json`, which it does not (the guard must refuse what it does not know). */
const SCALAR_TYPES = ['char', 'text', 'selection', 'integer', 'float', 'monetary', 'boolean', 'binary', 'date', 'datetime', 'json']
const SELF = '(self)'

interface DefaultOrder {
  /** What `ir.model` says. */
  text: string
  /** The terms it means, or `null` when it is not an order the gateway can read. */
  terms: { field: string; direction: 'asc' | 'desc' }[] | null
}

interface World {
  models: Record<string, ModelFields>
  orders: Record<string, DefaultOrder | null>
}

const relatedPath = fc.array(fc.constantFrom(...FIELDS), { minLength: 1, maxLength: 2 }).map((parts) => parts.join('.'))

const fieldInfo = fc.record({
  type: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...SCALAR_TYPES) }, { weight: 2, arbitrary: fc.constantFrom(...RELATIONAL) }),
  // A relation to the model itself (a hierarchy, when it is a many2one) one time in five.
  relation: fc.oneof({ weight: 1, arbitrary: fc.constant(SELF) }, { weight: 4, arbitrary: fc.constantFrom(...MODELS) }),
  related: fc.option(relatedPath, { freq: 6 }),
  // The many2one of a one2many's related model that points back; now and then Odoo does not say.
  inverse: fc.option(fc.constantFrom(...FIELDS.filter((name) => !['display_name', 'active'].includes(name))), { freq: 5 }),
})

const activeField = fc.oneof(
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 3, arbitrary: fc.constant<FieldInfo>({ type: 'boolean' }) },
  { weight: 1, arbitrary: relatedPath.map((path): FieldInfo => ({ type: 'boolean', related: `${path}.active` })) },
)

const defaultOrderChoice = fc.oneof(
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constantFrom('name desc;', 'name sideways', '"name"') },
  { weight: 5, arbitrary: fc.array(fc.tuple(fc.nat(), fc.constantFrom('', ' asc', ' desc', ' DESC', ' ASC')), { minLength: 1, maxLength: 3 }) },
)

const world: fc.Arbitrary<World> = fc
  .tuple(
    ...MODELS.map(() =>
      fc.record({
        fields: fc.dictionary(fc.constantFrom(...FIELDS), fieldInfo, { minKeys: 2, maxKeys: 10 }),
        active: activeField,
        order: defaultOrderChoice,
      }),
    ),
  )
  .map((perModel) => {
    const models: Record<string, ModelFields> = {}
    const backLinks: [string, string, string][] = []
    MODELS.forEach((model, i) => {
      const fields: ModelFields = { id: { type: 'integer' } }
      for (const [name, { type, relation, related, inverse }] of Object.entries(perModel[i]!.fields)) {
        if (MAGIC_FIELDS.includes(name) || name === 'active') continue
        const info: FieldInfo = { type }
        if (RELATIONAL.includes(type)) info.relation = relation === SELF ? model : relation
        if (related) info.related = related
        if (type === 'one2many' && inverse) {
          info.relation_field = inverse
          backLinks.push([info.relation!, inverse, model])
        }
        fields[name] = info
      }
      fields.display_name = { type: 'char' }
      if (perModel[i]!.active) fields.active = perModel[i]!.active!
      models[model] = fields
    })
    // The link back of a one2many is a many2one of the related model to this one (unless that name is taken).
    for (const [comodel, name, model] of backLinks) {
      if (!Object.hasOwn(models[comodel]!, name)) models[comodel]![name] = { type: 'many2one', relation: model }
    }
    const orders: Record<string, DefaultOrder | null> = {}
    MODELS.forEach((model, i) => {
      const choice = perModel[i]!.order
      if (choice === null || typeof choice === 'string') {
        orders[model] = choice === null ? null : { text: choice, terms: null }
        return
      }
      // Odoo sorts by stored fields: never display_name.
      const names = Object.keys(models[model]!).filter((name) => name !== 'display_name')
      const terms: { field: string; direction: 'asc' | 'desc'; written: string }[] = []
      for (const [pick, written] of choice) {
        const field = names[pick % names.length]!
        if (!terms.some((term) => term.field === field)) terms.push({ field, direction: /desc/i.test(written) ? 'desc' : 'asc', written })
      }
      orders[model] = { text: terms.map((term) => term.field + term.written).join(', '), terms: terms.map(({ field, direction }) => ({ field, direction })) }
    })
    return { models, orders }
  })

function metadataOf(world: World): MetadataSource {
  return {
    async fieldsOf(model) {
      if (!Object.hasOwn(world.models, model)) throw new Error(`unknown model ${model}`)
      return world.models[model]!
    },
    async defaultOrderOf(model) {
      return world.orders[model]?.text ?? null
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
  operations: fc.oneof(fc.subarray([...OPERATIONS], { minLength: 1 }), fc.constant<Operation[]>([...OPERATIONS])),
  fields: fc.oneof(fc.constant('*' as const), fc.subarray(FIELDS)),
})

const policyDocument: fc.Arbitrary<PolicyDocument | null> = fc.option(
  fc
    .uniqueArray(fc.tuple(fc.constantFrom('*', ...MODELS), modelEntry), { selector: ([model]) => model, minLength: 1, maxLength: 6 })
    .map((entries) => ({ version: 1 as const, models: Object.fromEntries(entries) })),
  { freq: 12 },
)

// ---------------------------------------------------------------------------------------------------------------
// Reference model
// ---------------------------------------------------------------------------------------------------------------

/** README: sensitive models are never covered by the "*" model. */
const REFERENCE_SENSITIVE_MODELS = new Set(SENSITIVE_MODELS.filter((model) => !model.startsWith('ir.actions.') && !model.startsWith('ir.model.')))
/** README: whole families by their leading name parts: `ir.actions.*`, `ir.model.*`... */
const REFERENCE_SENSITIVE_FAMILIES = [['ir', 'actions'], ['ir', 'model'], ['ir', 'cron'], ['ir', 'ui', 'view'], ['res', 'users', 'apikeys'], ['auth_totp'], ['res', 'device'], ['base', 'module'], ['res', 'config']]

function referenceSensitiveModel(model: string): boolean {
  const parts = model.split('.')
  return REFERENCE_SENSITIVE_MODELS.has(model) || REFERENCE_SENSITIVE_FAMILIES.some((family) => family.every((part, i) => parts[i] === part))
}

const SECRET_WORDS = new Set([
  'password', 'passwd', 'pwd', 'passphrase', 'secret', 'token', 'rtoken', 'apikey', 'totp', 'otp', 'pin', 'hmac', 'credential', 'credentials', 'shakey',
])
const SECRET_WORD_PAIRS = new Set([
  'api key', 'private key', 'signature key', 'signing key', 'encryption key', 'developer key', 'smtp pass', 'signup url', 'authorization code',
])

/** README: names with password, token, secret, api_key, totp... (whole words of a snake_case name) are never in "*". */
function referenceSensitiveField(name: string): boolean {
  const words = name.toLowerCase().split('_')
  return words.some((word) => SECRET_WORDS.has(word)) || words.slice(1).some((word, i) => SECRET_WORD_PAIRS.has(`${words[i]} ${word}`))
}

const ALLOWED_CONTEXT_KEYS = ['lang', 'tz', 'active_test']

// docs/SECURITY.md, "filters with field op value on a scalar": the operators each kind of field understands.
const EQUALITY = ['=', '!=', '=?', 'in', 'not in']
const COMPARISON = ['<', '>', '<=', '>=']
const LIKE = ['like', 'ilike', '=like', '=ilike', 'not like', 'not ilike']
const HIERARCHY = ['child_of', 'parent_of']
const SUBDOMAIN = ['any', 'not any']
const TEXT_OPERATORS = [...EQUALITY, ...COMPARISON, ...LIKE]
const NUMBER_OPERATORS = [...EQUALITY, ...COMPARISON]
/** Reading: "text" is char, text and selection (their values are strings); "comparisons" include = != =?. */
const DOMAIN_OPERATORS_OF: Record<string, string[]> = {
  char: TEXT_OPERATORS, text: TEXT_OPERATORS, selection: TEXT_OPERATORS,
  integer: NUMBER_OPERATORS, float: NUMBER_OPERATORS, monetary: NUMBER_OPERATORS, date: NUMBER_OPERATORS, datetime: NUMBER_OPERATORS,
  boolean: EQUALITY,
  binary: ['=', '!='],
}

// "groups and aggregates": group keys and aggregate functions per type (the tables the guard states, GROUPABLE_TYPES
// and AGGREGATES_BY_TYPE in src/guard/policy-guard.ts, which the documentation lists).
const GROUP_KEY_TYPES = ['char', 'selection', 'boolean', 'integer', 'float', 'monetary', 'date', 'datetime', 'many2one', 'many2many']
const DATE_TYPES = ['date', 'datetime']
const ALL_AGGREGATES = ['sum', 'avg', 'min', 'max', 'count', 'count_distinct']
const ORDERED_AGGREGATES = ['min', 'max', 'count', 'count_distinct']
const AGGREGATES_OF: Record<string, string[]> = {
  integer: ALL_AGGREGATES, float: ALL_AGGREGATES, monetary: ALL_AGGREGATES,
  date: ORDERED_AGGREGATES, datetime: ORDERED_AGGREGATES, char: ORDERED_AGGREGATES, selection: ORDERED_AGGREGATES, many2one: ORDERED_AGGREGATES,
  boolean: ['count', 'count_distinct'],
}
/** Reading: `id` is counted and bounded, not summed (the documentation does not name it). */
const ID_AGGREGATES = ORDERED_AGGREGATES

/** Odoo compares x2many command codes with Python's ==, for which False == 0 and True == 1. */
function pythonCommandCode(code: unknown): number | undefined {
  if (typeof code === 'boolean') return code ? 1 : 0
  return typeof code === 'number' && Number.isInteger(code) && code >= 0 && code <= 6 ? code : undefined
}

const isRecordId = (value: unknown): boolean => typeof value === 'number' && Number.isInteger(value) && value > 0
const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)
const holdsText = (value: unknown): boolean => (Array.isArray(value) ? value : [value]).some((item) => typeof item === 'string')

/** Why the reference refuses: the policy, or a value Odoo would read in a way the gateway does not accept. */
type Refusal = 'denied' | 'invalid'

/** What the reference found while reading one request. */
class Findings {
  readonly refusals = new Set<Refusal>()
  /** Models whose records the call reads (for `active_test: false`). */
  readonly reached = new Set<string>()
  deny(): void {
    this.refusals.add('denied')
  }
  invalid(): void {
    this.refusals.add('invalid')
  }
}

class ReferencePolicy {
  constructor(
    private readonly document: PolicyDocument | null,
    private readonly world: World,
  ) {}

  entry(model: string): ModelEntryDocument | undefined {
    const models = this.document?.models
    if (!models) return undefined
    if (Object.hasOwn(models, model)) return models[model]
    return referenceSensitiveModel(model) ? undefined : models['*']
  }

  may(model: string, operation: Operation): boolean {
    return this.entry(model)?.operations.includes(operation) ?? false
  }

  readable(model: string): boolean {
    return this.may(model, 'read')
  }

  info(model: string, field: string): FieldInfo | undefined {
    const fields = this.world.models[model]
    return fields && Object.hasOwn(fields, field) ? fields[field] : undefined
  }

  private relationOf(model: string, field: string): string | undefined {
    const info = this.info(model, field)
    return info && RELATIONAL.includes(info.type) ? info.relation : undefined
  }

  /**
   * May the key see `field` of `model`? `id` always; a listed field; under "*" a field that is not sensitive by name,
   * does not point to a sensitive model and, if it is a related field, mirrors a visible path (`seen` cuts cycles of
   * related fields).
   */
  visible(model: string, field: string, seen: ReadonlySet<string> = new Set()): boolean {
    const entry = this.entry(model)
    if (!entry) return false
    if (field === 'id') return true
    if (entry.fields !== '*') return entry.fields.includes(field)
    if (referenceSensitiveField(field)) return false
    const relation = this.relationOf(model, field)
    if (relation !== undefined && referenceSensitiveModel(relation)) return false
    const related = this.info(model, field)?.related
    if (typeof related !== 'string' || !related) return true
    const key = `${model}.${related}`
    return seen.has(key) || this.pathVisible(model, related.split('.'), new Set([...seen, key]))
  }

  /** Every hop of a dotted path: a readable model and a visible field, relational where the path goes on. */
  pathVisible(model: string, path: string[], seen: ReadonlySet<string> = new Set()): boolean {
    let current = model
    for (const [index, field] of path.entries()) {
      if (!this.readable(current) || !this.visible(current, field, seen)) return false
      if (index < path.length - 1) {
        const relation = this.relationOf(current, field)
        if (relation === undefined) return false
        current = relation
      }
    }
    return true
  }

  /** A many2one / many2many group key pointing to `model` comes with its display name only where `display_name` is visible. */
  displayNameShown(model: string): boolean {
    return this.readable(model) && this.visible(model, 'display_name')
  }

  /** Odoo's name search on `model` also matches fields fields_get does not name: only under `"fields": "*"`. */
  nameSearchAllowed(model: string): boolean {
    return this.readable(model) && this.entry(model)!.fields === '*'
  }

  /** Relational fields of `model` among `fields` that must come back as bare ids. */
  idOnly(model: string, fields: string[]): string[] {
    return fields.filter((field) => {
      const relation = this.relationOf(model, field)
      return relation !== undefined && !this.displayNameShown(relation)
    })
  }

  // ----- domains ---------------------------------------------------------------------------------------------

  private requireNameSearch(target: string, findings: Findings): void {
    findings.reached.add(target)
    if (!this.nameSearchAllowed(target)) findings.deny()
  }

  /** child_of / parent_of walk the parent field of `target`, whichever many2one of it to itself that is. */
  private requireHierarchy(target: string, findings: Findings): void {
    if (!this.readable(target)) return findings.deny()
    findings.reached.add(target)
    const parents = Object.entries(this.world.models[target] ?? {}).filter(([, info]) => info.type === 'many2one' && info.relation === target)
    if (parents.length === 0 || parents.some(([name]) => !this.visible(target, name))) findings.deny()
  }

  /** A domain as the client wrote it (JSON), on `model`. */
  private checkDomain(model: string, terms: unknown[], findings: Findings): void {
    findings.reached.add(model)
    for (const term of terms) if (Array.isArray(term)) this.checkCondition(model, term as [string, string, unknown], findings)
  }

  private checkCondition(model: string, [path, operator, value]: [string, string, unknown], findings: Findings): void {
    const parts = path.split('.')
    let owner = model
    for (const [index, field] of parts.entries()) {
      if (!this.readable(owner) || !this.visible(owner, field)) return findings.deny()
      findings.reached.add(owner)
      if (index === parts.length - 1) break
      const relation = this.relationOf(owner, field)
      if (relation === undefined) return findings.deny()
      owner = relation
    }
    const field = parts[parts.length - 1]!
    const info = this.info(owner, field)
    const text = !SUBDOMAIN.includes(operator) && holdsText(value)

    if (field === 'id') {
      // A number: compared with ids, or the root of a hierarchy of the model itself; text is a name search.
      if (HIERARCHY.includes(operator)) this.requireHierarchy(owner, findings)
      else if (!NUMBER_OPERATORS.includes(operator)) findings.deny()
      if (text) this.requireNameSearch(owner, findings)
      return
    }
    if (field === 'display_name') {
      // Reading: a display_name condition is a name search, which takes equality and like operators only.
      if (![...EQUALITY, ...LIKE].includes(operator)) findings.deny()
      return this.requireNameSearch(owner, findings)
    }
    if (!info) return findings.deny() // a field Odoo does not have
    if (RELATIONAL.includes(info.type)) {
      const target = info.relation!
      // One2many / many2many conditions search the related records; a many2one compares its own column.
      if (X2MANY.includes(info.type)) findings.reached.add(target)
      if (SUBDOMAIN.includes(operator)) {
        if (!this.readable(target)) return findings.deny()
        return this.checkDomain(target, value as unknown[], findings)
      }
      if (HIERARCHY.includes(operator)) {
        this.requireHierarchy(target, findings)
        if (text) this.requireNameSearch(target, findings)
      } else if (LIKE.includes(operator) || (EQUALITY.includes(operator) && text)) {
        this.requireNameSearch(target, findings)
      } else if (!EQUALITY.includes(operator)) {
        // Reading: "compares a relational field with ids" means equality and membership, not < or >.
        findings.deny()
      }
      return
    }
    if (!DOMAIN_OPERATORS_OF[info.type]?.includes(operator)) findings.deny()
  }

  // ----- values ----------------------------------------------------------------------------------------------

  private checkValues(model: string, values: Record<string, unknown>, findings: Findings): void {
    for (const [field, value] of Object.entries(values)) {
      if (!this.visible(model, field)) {
        findings.deny()
        continue
      }
      const info = this.info(model, field)
      if (!info) continue // Odoo refuses a field it does not have
      if (typeof info.related === 'string' && info.related) this.checkMirroredWrite(model, info.related, findings, new Set([`${model}.${field}`]))
      if (X2MANY.includes(info.type)) this.checkCommands(info, value, findings)
    }
  }

  /**
   * Writing a related field writes the field it mirrors, at the end of its path: `write` there, and that field
   * visible. If that one is a related field too, Odoo writes through it in turn.
   * Reading: the path is followed as Odoo reads it, so every model before the last must be readable.
   */
  private checkMirroredWrite(model: string, related: string, findings: Findings, seen: ReadonlySet<string>): void {
    const parts = related.split('.')
    let current = model
    for (const hop of parts.slice(0, -1)) {
      if (!this.readable(current)) return findings.deny()
      const relation = this.relationOf(current, hop)
      if (relation === undefined) return // not a path: Odoo refuses it itself
      current = relation
    }
    const last = parts[parts.length - 1]!
    if (!this.may(current, 'write') || !this.visible(current, last)) return findings.deny()
    const further = this.info(current, last)?.related
    const key = `${current}.${last}`
    if (typeof further === 'string' && further && !seen.has(key)) this.checkMirroredWrite(current, further, findings, new Set([...seen, key]))
  }

  /** A one2many / many2many value, read as the commands Odoo runs (docs: the table in src/guard/values-check.ts). */
  private checkCommands(info: FieldInfo, value: unknown, findings: Findings): void {
    const target = info.relation!
    /** 3, 4, 5, 6, false and bare ids: on a one2many they rewrite each line's link back; on a many2many, the relation. */
    const relink = (code: number) => {
      if (info.type === 'many2many') {
        if (!this.readable(target)) findings.deny()
        return
      }
      const linkBack = info.relation_field
      if (typeof linkBack !== 'string' || !linkBack) return findings.deny() // what it rewrites is unknown
      if (!this.may(target, 'write') || !this.visible(target, linkBack)) findings.deny()
      // Lines taken out are deleted when their link back cascades: all but 4 (link) may take lines out.
      if (code !== 4 && !this.may(target, 'unlink')) findings.deny()
    }

    if (value === false || value === null) return relink(5)
    if (!Array.isArray(value)) return findings.invalid()
    if (value.length === 0 || value.every(isRecordId)) return relink(6)
    for (const command of value) {
      if (!Array.isArray(command) || command.length < 1 || command.length > 3) {
        findings.invalid() // an id among commands, or not a command at all
        continue
      }
      const code = pythonCommandCode(command[0])
      if (code === undefined) {
        findings.invalid()
        continue
      }
      if (code >= 1 && code <= 4 && !isRecordId(command[1])) findings.invalid()
      if (code === 0 || code === 1) {
        if (!this.may(target, code === 0 ? 'create' : 'write')) findings.deny()
        if (isPlainObject(command[2])) this.checkValues(target, command[2], findings)
        else findings.invalid() // Odoo's dict() would also take a list of pairs, which cannot be checked
      } else if (code === 2) {
        if (!this.may(target, 'unlink')) findings.deny()
      } else if (code === 6) {
        if (!Array.isArray(command[2]) || !command[2].every(isRecordId)) findings.invalid()
        relink(6)
      } else {
        relink(code)
      }
    }
  }

  // ----- the request -----------------------------------------------------------------------------------------

  /** The fields a search or read returns: those asked for, or every visible non-binary field. */
  readFields(request: ToolRequest): string[] {
    if (request.fields) return request.fields
    return Object.entries(this.world.models[request.model] ?? {})
      .filter(([name, info]) => info.type !== 'binary' && this.visible(request.model, name))
      .map(([name]) => name)
  }

  /** Refusals the reference finds in a request (none: allowed), given the raw domain it was parsed from. */
  refusals(request: ToolRequest, rawDomain: unknown[]): Set<Refusal> {
    const findings = new Findings()
    if (Object.keys(request.context ?? {}).some((key) => !ALLOWED_CONTEXT_KEYS.includes(key))) findings.deny()
    if (request.tool === 'list_models') return findings.refusals
    const { model } = request
    if (!this.may(model, request.operation)) {
      findings.deny()
      return findings.refusals
    }
    findings.reached.add(model)
    if (request.domain) this.checkDomain(model, rawDomain, findings)

    const single = (field: string) => {
      if (!this.visible(model, field)) return false
      // Sorting, grouping or aggregating by display_name ranks by what Odoo composes it from.
      if (field === 'display_name' && !this.nameSearchAllowed(model)) return false
      return true
    }
    for (const { field } of request.order?.terms ?? []) {
      const info = this.info(model, field)
      if (!single(field) || (info && X2MANY.includes(info.type))) findings.deny()
    }
    for (const { field, granularity } of request.groupby ?? []) {
      const info = this.info(model, field)
      if (!single(field)) findings.deny()
      if (info && !GROUP_KEY_TYPES.includes(info.type)) findings.deny()
      if (info && granularity && !DATE_TYPES.includes(info.type)) findings.deny()
      if (info && X2MANY.includes(info.type)) findings.reached.add(info.relation!)
    }
    for (const { field, fn } of request.aggregates ?? []) {
      const info = this.info(model, field)
      if (!single(field)) findings.deny()
      const allowed = field === 'id' ? ID_AGGREGATES : info ? (AGGREGATES_OF[info.type] ?? []) : ALL_AGGREGATES // unknown: Odoo says
      if (!allowed.includes(fn)) findings.deny()
    }
    if (request.values) this.checkValues(model, request.values, findings)
    if (request.tool === 'search_records' || request.tool === 'read_records') {
      if (request.fields?.some((field) => !this.visible(model, field))) findings.deny()
      for (const field of this.readFields(request)) {
        const info = this.info(model, field)
        if (info && X2MANY.includes(info.type)) findings.reached.add(info.relation!)
      }
    }
    if (request.context?.active_test === false) {
      // Showing archived records tells which are archived: `active` visible wherever the call reads records.
      for (const reached of findings.reached) {
        if (this.info(reached, 'active') && !this.visible(reached, 'active')) findings.deny()
      }
    }
    return findings.refusals
  }

  // ----- sorting ---------------------------------------------------------------------------------------------

  /**
   * Does sorting by a many2one to `model` (Odoo: by `model`'s default order) rank by visible values only? `false`, or
   * how many many2one hops deep that took (a many2one already followed is skipped, as Odoo does). An unknown or
   * unreadable default order ranks by what the key cannot see. Reading: on a model the key may not read, no field
   * is visible.
   */
  ranksVisibly(model: string, following: ReadonlySet<string>): number | false {
    const terms = this.world.orders[model]?.terms
    if (!this.readable(model) || !terms) return false
    let depth = following.size
    for (const { field } of terms) {
      if (field === 'id') continue
      const info = this.info(model, field)
      if (!info || X2MANY.includes(info.type) || !this.visible(model, field)) return false
      if (info.type !== 'many2one') continue
      const key = `${model}.${field}`
      if (following.has(key)) continue
      const deeper = this.ranksVisibly(info.relation!, new Set([...following, key]))
      if (deeper === false) return false
      depth = Math.max(depth, deeper)
    }
    return depth
  }

  /** The terms of the order a search must send: `field` or `field.id`, with `ranks` for many2one terms. */
  searchOrder(model: string, requested: { field: string; direction: string }[]): ExpectedTerm[] {
    const fromRequest = requested.length > 0
    const terms = fromRequest ? requested : (this.world.orders[model]?.terms ?? [])
    const expected: ExpectedTerm[] = []
    for (const { field, direction } of terms) {
      const info = this.info(model, field)
      if (field !== 'id' && !fromRequest && (!info || X2MANY.includes(info.type) || !this.visible(model, field))) continue
      const ranks = info?.type === 'many2one' && field !== 'id' ? this.ranksVisibly(info.relation!, new Set([`${model}.${field}`])) : undefined
      expected.push({ field, text: direction, ranks })
    }
    if (!terms.some((term) => term.field === 'id')) expected.push({ field: 'id', text: '', ranks: undefined })
    return expected
  }
}

/** One term of an expected order: `ranks` is set for many2one terms (see ReferencePolicy.ranksVisibly). */
interface ExpectedTerm {
  field: string
  text: string
  ranks: number | false | undefined
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

/** A field path in a domain, the model its last field points to (for `any`), and that field. */
interface PathChoice {
  path: string
  target: string
  field: string
  info: FieldInfo | undefined
}

/**
 * Follows `choices` through the world from `model`: a dotted path that exists, relational where it goes on. With
 * `preferVisible`, each hop picks among the fields the reference shows, when there are any. Returns the path and the
 * model its last field points to (or `model`, when it points nowhere: the guard must then refuse `any`).
 */
function walk(world: World, reference: ReferencePolicy, model: string, choices: number[], preferVisible: boolean): PathChoice {
  const parts: string[] = []
  let current = model
  let target = model
  let last: FieldInfo | undefined
  for (const choice of choices) {
    const all = Object.keys(world.models[current]!)
    const visible = all.filter((name) => reference.visible(current, name))
    const names = preferVisible && visible.length > 0 ? visible : all
    const field = names[choice % names.length]!
    parts.push(field)
    last = world.models[current]![field]!
    if (!last.relation) break
    current = target = last.relation
  }
  return { path: parts.join('.'), target, field: parts[parts.length - 1]!, info: last }
}


const DOMAIN_OPERATORS = ['=', '!=', '=?', 'in', 'not in', '<', '>=', 'like', 'ilike', 'not ilike', '=like', 'child_of', 'parent_of', 'any', 'not any']
/** Ids, text (a name to search), and false. */
const domainScalar = fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constantFrom('acme', 'x@example.com'), fc.constant(false))

function domainValue(operator: string): fc.Arbitrary<unknown> {
  if (operator === 'in' || operator === 'not in') return fc.array(domainScalar, { maxLength: 3 })
  if (HIERARCHY.includes(operator)) return fc.oneof(domainScalar, fc.array(domainScalar, { minLength: 1, maxLength: 2 }))
  return domainScalar
}

/** Operators that make sense on a field (so that a fair share of conditions is allowed): any other is also tried. */
function operatorsFor(field: string, info: FieldInfo | undefined): string[] {
  if (field === 'id') return [...NUMBER_OPERATORS, ...HIERARCHY]
  if (field === 'display_name') return [...EQUALITY, ...LIKE]
  if (info && RELATIONAL.includes(info.type)) return [...EQUALITY, ...HIERARCHY, ...SUBDOMAIN, 'ilike']
  return DOMAIN_OPERATORS_OF[info?.type ?? '']?.filter((op) => DOMAIN_OPERATORS.includes(op)) ?? DOMAIN_OPERATORS
}

/** Field names for `model`: mostly ones the reference shows, then any of the model's, then any name at all. */
function fieldNames(world: World, reference: ReferencePolicy, model: string): fc.Arbitrary<string> {
  const modelFields = Object.keys(world.models[model]!)
  const visible = modelFields.filter((name) => reference.visible(model, name))
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...visible, 'id', 'display_name') },
    { weight: 1, arbitrary: fc.constantFrom(...modelFields) },
    { weight: 1, arbitrary: fc.constantFrom(...FIELDS, 'id') },
  )
}

/** A domain on `model` with every operator, `any` / `not any` sub-domains on the related model down to `depth`. */
function domainOn(world: World, reference: ReferencePolicy, model: string, depth: number): fc.Arbitrary<unknown[]> {
  const path = fc.oneof(
    fc.tuple(fc.array(fc.nat(), { minLength: 1, maxLength: 3 }), fc.boolean()).map(([choices, preferVisible]) => walk(world, reference, model, choices, preferVisible)),
    fieldNames(world, reference, model).map((field): PathChoice => {
      const info = world.models[model]![field]
      return { path: field, target: info?.relation ?? model, field, info }
    }),
  )
  const leaf = path
    .chain((choice) => fc.tuple(fc.constant(choice), fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...operatorsFor(choice.field, choice.info)) }, { weight: 1, arbitrary: fc.constantFrom(...DOMAIN_OPERATORS) })))
    .chain(([{ path, target }, operator]) => {
      if (!SUBDOMAIN.includes(operator)) return domainValue(operator).map((value) => [path, operator, value])
      const sub = depth > 0 ? domainOn(world, reference, target, depth - 1) : fc.constant([])
      return sub.map((terms) => [path, operator, terms])
    })
  const terms = fc.array(fc.oneof({ weight: 3, arbitrary: leaf }, { weight: 1, arbitrary: fc.constantFrom('!', '|', '&') }), { maxLength: depth >= 1 ? 4 : 2 })
  return fc.oneof({ weight: 1, arbitrary: fc.constant<unknown[]>([]) }, { weight: 3, arbitrary: terms.map(wellFormed) })
}

const COMMAND_CODES: unknown[] = [0, 1, 2, 3, 4, 5, 6, true, false, '0', null, 0.5, 7, -1]

/**
 * Values to write: keys from `field`, values plain or x2many values in every form Odoo takes and some it does not:
 * commands (nested values, lists of pairs, ids), bare id lists, false, null, and commands mixed with ids.
 */
function valuesOf(field: fc.Arbitrary<string>, nestedField: fc.Arbitrary<string> = fc.constantFrom(...FIELDS)): fc.Arbitrary<Record<string, unknown>> {
  const { values } = fc.letrec<{ values: Record<string, unknown>; x2many: unknown; command: unknown }>((tie) => ({
    values: fc.dictionary(
      field,
      fc.oneof(
        { weight: 2, arbitrary: fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.boolean()) },
        { weight: 3, arbitrary: tie('x2many') },
      ),
      { maxKeys: 3, depthIdentifier: 'values' },
    ),
    x2many: fc.oneof(
      { weight: 5, arbitrary: fc.array(tie('command'), { maxLength: 3 }) },
      { weight: 1, arbitrary: fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 3 }) },
      { weight: 1, arbitrary: fc.constantFrom(false, null, 'x', 7, true) },
    ),
    command: fc.oneof(
      { depthSize: 'small', depthIdentifier: 'values' },
      fc.tuple(fc.constantFrom(...COMMAND_CODES), fc.integer({ min: 0, max: 9 }), tie('values')),
      fc.tuple(
        fc.constantFrom(...COMMAND_CODES),
        fc.integer({ min: 0, max: 9 }),
        fc.oneof(
          fc.constant(0),
          fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 2 }),
          fc.array(fc.tuple(nestedField, fc.string({ maxLength: 3 })), { maxLength: 2 }),
        ),
      ),
      fc.tuple(fc.constantFrom(...COMMAND_CODES), fc.integer({ min: 0, max: 9 })),
      fc.tuple(fc.constantFrom(...COMMAND_CODES)),
      fc.integer({ min: 1, max: 9 }),
      fc.constantFrom([], [4, 1, 0, 0]),
    ),
  }))
  return values
}

const context: fc.Arbitrary<OdooContext | undefined> = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 2, arbitrary: fc.record({ active_test: fc.boolean(), lang: fc.constant('fr_FR') }, { requiredKeys: ['active_test'] }) },
  { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('lang', 'uid', 'allowed_company_ids', 'force_company'), fc.constant('x'), { maxKeys: 2 }) as fc.Arbitrary<OdooContext> },
)

interface Scenario {
  document: PolicyDocument | null
  world: World
  request: ToolRequest
  rawDomain: unknown[]
}

/**
 * A request of one of `tools`, with the parts that tool takes. Models are often ones the policy names, and fields,
 * paths and values often ones the model really has, so that a fair share of requests is allowed.
 */
function scenarioOf(tools: typeof TOOLS, policies: fc.Arbitrary<PolicyDocument | null> = policyDocument): fc.Arbitrary<Scenario> {
  return fc
    .tuple(policies, world)
    .chain(([document, world]) => {
      const named = Object.keys(document?.models ?? {}).filter((model) => model !== '*')
      const model = named.length > 0 ? fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...named) }, { weight: 1, arbitrary: fc.constantFrom(...MODELS) }) : fc.constantFrom(...MODELS)
      return fc.tuple(fc.constant(document), fc.constant(world), model)
    })
    .chain(([document, world, model]) => {
      const reference = new ReferencePolicy(document, world)
      const fields = world.models[model]!
      const field = fieldNames(world, reference, model)
      const visible = Object.keys(fields).filter((name) => reference.visible(model, name))
      const many2one = visible.filter((name) => fields[name]!.type === 'many2one')
      const orderField = many2one.length > 0 ? fc.oneof(field, fc.constantFrom(...many2one)) : field
      // Group keys and aggregates that fit their type, and any others.
      const groupable = visible.filter((name) => GROUP_KEY_TYPES.includes(fields[name]!.type))
      const groupField = groupable.length > 0 ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...groupable) }, { weight: 1, arbitrary: field }) : field
      const aggregable = visible.filter((name) => AGGREGATES_OF[fields[name]!.type])
      const fitting = aggregable.length > 0 ? fc.constantFrom(...aggregable).chain((name) => fc.constantFrom(...AGGREGATES_OF[fields[name]!.type]!).map((fn) => `${name}:${fn}`)) : fc.constant('id:count')
      const aggregate = fc.oneof({ weight: 3, arbitrary: fitting }, { weight: 1, arbitrary: fc.tuple(field, fc.constantFrom(...AGGREGATE_FUNCTIONS)).map(([f, fn]) => `${f}:${fn}`) })
      // Values go to one2many/many2many and related fields often: they write other models.
      const reaching = Object.keys(fields).filter((name) => X2MANY.includes(fields[name]!.type) || fields[name]!.related)
      const valueField = reaching.length > 0 ? fc.oneof(fc.constantFrom(...reaching), field) : field
      return fc.record({
        document: fc.constant(document),
        world: fc.constant(world),
        model: fc.constant(model),
        tool: fc.constantFrom(...tools),
        fields: fc.option(fc.uniqueArray(field, { minLength: 1, maxLength: 4 }), { freq: 2 }),
        rawDomain: domainOn(world, reference, model, 2),
        order: fc.option(fc.uniqueArray(fc.tuple(orderField, fc.constantFrom('asc', 'desc')), { maxLength: 3, selector: ([f]) => f })),
        groupby: fc.uniqueArray(fc.tuple(groupField, fc.constantFrom('', '', ':month', ':day')).map(([f, g]) => f + g), { minLength: 1, maxLength: 2, selector: (spec) => spec.split(':')[0] }),
        aggregates: fc.uniqueArray(aggregate, { maxLength: 2 }),
        values: valuesOf(valueField),
        context,
      })
    })
    .map(({ document, world, model, tool: { tool, operation }, fields, rawDomain, order, groupby, aggregates, values, context }): Scenario => {
      const request: ToolRequest = { tool, model, operation, ...(context ? { context } : {}) }
      if ((tool === 'search_records' || tool === 'read_records') && fields) request.fields = fields
      if (tool === 'search_records' || tool === 'count_records' || tool === 'aggregate_records') request.domain = parseDomain(rawDomain)
      if (tool === 'search_records') request.order = parseOrder(order?.map(([f, direction]) => `${f} ${direction}`).join(', '))
      if (tool === 'aggregate_records') Object.assign(request, { groupby: parseGroupBy(groupby), aggregates: parseAggregates(aggregates) })
      if (tool === 'create_record' || tool === 'update_records') request.values = values
      return { document, world, request, rawDomain: request.domain ? rawDomain : [] }
    })
}

const scenario = scenarioOf(TOOLS)

function guardOf({ document, world }: Pick<Scenario, 'document' | 'world'>) {
  let policy = null
  if (document) {
    const parsed = parsePolicy(document)
    if (!parsed.ok) throw new Error(`a generated policy did not parse: ${parsed.errors.join('; ')}`)
    policy = parsed.policy
  }
  return createPolicyGuard(policy, metadataOf(world))
}

type Decision = { allowed: AuthorizedRequest } | { refused: Refusal; message: string }

/** The guard's decision: allowed, refused by the policy (`policy_denied`) or as a malformed value (`invalid_values`). */
async function decide(sample: Pick<Scenario, 'document' | 'world' | 'request'>): Promise<Decision> {
  try {
    return { allowed: await guardOf(sample).authorize(sample.request) }
  } catch (error) {
    if (error instanceof ToolError && error.code === 'policy_denied') return { refused: 'denied', message: error.message }
    if (error instanceof ToolError && error.code === 'invalid_values') return { refused: 'invalid', message: error.message }
    throw error
  }
}

async function authorize(sample: Pick<Scenario, 'document' | 'world' | 'request'>): Promise<AuthorizedRequest | null> {
  const decision = await decide(sample)
  return 'allowed' in decision ? decision.allowed : null
}

/** The guard decides as the reference: allowed when it finds nothing, else refused for one of the reasons it found. */
function expectSameDecision(decision: Decision, refusals: Set<Refusal>, what: string): void {
  if ('allowed' in decision) expect([...refusals], `allowed, but the reference refuses: ${what}`).toEqual([])
  else expect([...refusals], `refused (${decision.refused}: ${decision.message}): ${what}`).toContain(decision.refused)
}

/** A record as Odoo might answer: every field of the world, many2one as [id, name], x2many ids in no order, plus fields nobody asked for. */
function recordOf(world: World, model: string, id: number, x2manyIds: number[] = [id + 2]): Record<string, unknown> {
  const record: Record<string, unknown> = { id, __last_update: 'x', password: 'leak', access_token: 'leak' }
  for (const [field, info] of Object.entries(world.models[model]!)) {
    if (field === 'id') continue
    record[field] = info.type === 'many2one' ? [id + 1, `name of ${field}`] : X2MANY.includes(info.type) ? [...x2manyIds] : `${field} value`
  }
  return record
}

/** An order clause as sent to Odoo, term by term: `{ field, byId, direction }`. */
function orderTerms(order: string): { field: string; byId: boolean; direction: string }[] {
  return order.split(', ').map((term) => {
    const [path, ...rest] = term.split(' ')
    const byId = path!.endsWith('.id')
    return { field: byId ? path!.slice(0, -3) : path!, byId, direction: rest.join(' ') }
  })
}

/** How many many2one hops of default orders the guard must follow before it may give up and sort by id (which is safe). */
const ORDER_DEPTH_THE_GUARD_MAY_CUT = 4

/**
 * Related fields that mirror related fields: writing `sale.order.partner_country_name` writes the partner's
 * `country_name`, which writes the country's `name` (Odoo writes through each related field in turn).
 */
const RELATED_CHAIN_WORLD: World = {
  models: {
    'sale.order': {
      id: { type: 'integer' }, display_name: { type: 'char' }, name: { type: 'char' },
      partner_id: { type: 'many2one', relation: 'res.partner' },
      partner_email: { type: 'char', related: 'partner_id.email' },
      partner_country_name: { type: 'char', related: 'partner_id.country_name' },
    },
    'res.partner': {
      id: { type: 'integer' }, display_name: { type: 'char' }, name: { type: 'char' }, email: { type: 'char' },
      country_id: { type: 'many2one', relation: 'res.country' },
      country_name: { type: 'char', related: 'country_id.name' },
    },
    'res.country': { id: { type: 'integer' }, display_name: { type: 'char' }, name: { type: 'char' }, code: { type: 'char' } },
  },
  orders: {},
}

/**
 * The shortest such write the documentation refuses ("a related field also needs write on what it mirrors"): the key
 * may write orders and partners but only read countries, and renames a country through an order. The guard checks
 * `write` on res.partner and the visibility of `country_name`, not what `country_name` mirrors in turn.
 */
const RELATED_CHAIN_EXAMPLE: { document: PolicyDocument; request: ToolRequest } = {
  document: {
    version: 1,
    models: {
      'sale.order': { operations: ['read', 'write'], fields: ['partner_id', 'partner_country_name'] },
      'res.partner': { operations: ['read', 'write'], fields: '*' },
      'res.country': { operations: ['read'], fields: '*' },
    },
  },
  request: { tool: 'update_records', model: 'sale.order', operation: 'write', ids: [1], values: { partner_country_name: 'Absurdistan' } },
}

/** Models with `active` fields, one of them (res.partner's) mirroring another model's. */
const ARCHIVE_WORLD: World = {
  models: {
    'sale.order': {
      id: { type: 'integer' }, display_name: { type: 'char' }, name: { type: 'char' }, active: { type: 'boolean' },
      partner_id: { type: 'many2one', relation: 'res.partner' }, user_id: { type: 'many2one', relation: 'res.users' },
      tag_ids: { type: 'many2many', relation: 'crm.tag' }, order_line: { type: 'one2many', relation: 'sale.order.line', relation_field: 'order_id' },
    },
    'res.partner': {
      id: { type: 'integer' }, display_name: { type: 'char' }, name: { type: 'char' },
      company_id: { type: 'many2one', relation: 'res.company' }, active: { type: 'boolean', related: 'company_id.active' },
      parent_id: { type: 'many2one', relation: 'res.partner' }, child_ids: { type: 'one2many', relation: 'res.partner', relation_field: 'parent_id' },
    },
    'res.company': { id: { type: 'integer' }, display_name: { type: 'char' }, name: { type: 'char' }, active: { type: 'boolean' } },
    'crm.tag': { id: { type: 'integer' }, display_name: { type: 'char' }, name: { type: 'char' }, active: { type: 'boolean' } },
    'sale.order.line': { id: { type: 'integer' }, display_name: { type: 'char' }, name: { type: 'char' }, order_id: { type: 'many2one', relation: 'sale.order' } },
    'res.users': { id: { type: 'integer' }, display_name: { type: 'char' }, name: { type: 'char' }, active: { type: 'boolean' }, partner_id: { type: 'many2one', relation: 'res.partner' } },
  },
  orders: {},
}

/**
 * A name search reads the records of the model it searches, archived ones included under `active_test: false`.
 * Here res.partner's `active` is hidden (under "*" it mirrors `company_id.active`, and companies' `active` is not
 * listed): the dotted path `partner_id.name` is refused, as the documentation says, but the name search
 * `partner_id ilike 'acme'`, which reads the same partners, gets through the guard.
 */
const ARCHIVE_EXAMPLE: { document: PolicyDocument; request: ToolRequest; rawDomain: unknown[] } = {
  document: {
    version: 1,
    models: {
      'sale.order': { operations: ['read'], fields: '*' },
      'res.partner': { operations: ['read'], fields: '*' },
      'res.company': { operations: ['read'], fields: ['name'] },
    },
  },
  request: { tool: 'count_records', model: 'sale.order', operation: 'read', domain: parseDomain([['partner_id', 'ilike', 'acme']]), context: { active_test: false } },
  rawDomain: [['partner_id', 'ilike', 'acme']],
}

/**
 * Models whose default orders may chain through many2one fields (res.users sorts by `name`, a related field of its
 * partner; partners by their parent...), cycles included. The orders are drawn for each run.
 */
const ORDERING_MODELS: Record<string, ModelFields> = {
  'sale.order': {
    id: { type: 'integer' }, display_name: { type: 'char' }, name: { type: 'char' }, date_order: { type: 'datetime' }, amount_total: { type: 'monetary' },
    partner_id: { type: 'many2one', relation: 'res.partner' }, user_id: { type: 'many2one', relation: 'res.users' }, team_id: { type: 'many2one', relation: 'crm.team' },
    order_line: { type: 'one2many', relation: 'sale.order.line', relation_field: 'order_id' }, tag_ids: { type: 'many2many', relation: 'crm.tag' },
  },
  'sale.order.line': { id: { type: 'integer' }, display_name: { type: 'char' }, name: { type: 'char' }, sequence: { type: 'integer' }, order_id: { type: 'many2one', relation: 'sale.order' } },
  'res.partner': {
    id: { type: 'integer' }, display_name: { type: 'char' }, name: { type: 'char' }, complete_name: { type: 'char' }, ref: { type: 'char' },
    parent_id: { type: 'many2one', relation: 'res.partner' }, country_id: { type: 'many2one', relation: 'res.country' }, user_id: { type: 'many2one', relation: 'res.users' },
    child_ids: { type: 'one2many', relation: 'res.partner', relation_field: 'parent_id' },
  },
  'res.users': {
    id: { type: 'integer' }, display_name: { type: 'char' }, login: { type: 'char' }, password: { type: 'char' },
    partner_id: { type: 'many2one', relation: 'res.partner' }, name: { type: 'char', related: 'partner_id.name' },
  },
  'crm.team': { id: { type: 'integer' }, display_name: { type: 'char' }, name: { type: 'char' }, sequence: { type: 'integer' }, user_id: { type: 'many2one', relation: 'res.users' } },
  'crm.tag': { id: { type: 'integer' }, display_name: { type: 'char' }, name: { type: 'char' } },
  'res.country': { id: { type: 'integer' }, display_name: { type: 'char' }, name: { type: 'char' }, code: { type: 'char' } },
}

const orderingScenario: fc.Arbitrary<Scenario> = fc
  .record({
    orders: fc.record(Object.fromEntries(Object.entries(ORDERING_MODELS).map(([model, fields]) => {
      // What Odoo can sort by: stored fields, no one2many / many2many (a password now and then: the guard must leave it out).
      const sortable = Object.keys(fields).filter((name) => name !== 'display_name' && !X2MANY.includes(fields[name]!.type))
      return [model, fc.option(fc.uniqueArray(fc.tuple(fc.constantFrom(...sortable), fc.constantFrom('asc', 'desc')), { minLength: 1, maxLength: 3, selector: ([f]) => f }), { freq: 6 })]
    }))),
    document: fc.record(Object.fromEntries(Object.entries(ORDERING_MODELS).map(([model, fields]) => [
      model,
      fc.record({
        operations: fc.constantFrom<Operation[]>(['read'], ['read'], ['read', 'write'], ['write']),
        fields: fc.oneof({ weight: 2, arbitrary: fc.constant('*' as const) }, { weight: 1, arbitrary: fc.subarray(Object.keys(fields)) }),
      }),
    ])), { requiredKeys: [] }),
    model: fc.constantFrom(...Object.keys(ORDERING_MODELS)),
  })
  .chain(({ orders, document, model }) => {
    const fields = Object.keys(ORDERING_MODELS[model]!)
    return fc.record({
      orders: fc.constant(orders),
      document: fc.constant(document),
      model: fc.constant(model),
      aggregate: fc.boolean(),
      order: fc.option(fc.uniqueArray(fc.tuple(fc.constantFrom(...fields), fc.constantFrom('asc', 'desc')), { minLength: 1, maxLength: 3, selector: ([f]) => f })),
      groupby: fc.uniqueArray(fc.constantFrom(...fields), { minLength: 1, maxLength: 3 }),
    })
  })
  .map(({ orders, document, model, aggregate, order, groupby }): Scenario => {
    const world: World = {
      models: ORDERING_MODELS,
      orders: Object.fromEntries(Object.entries(orders).map(([name, terms]) => [
        name,
        terms ? { text: terms.map(([field, direction]) => `${field} ${direction}`).join(', '), terms: terms.map(([field, direction]) => ({ field, direction: direction as 'asc' | 'desc' })) } : null,
      ])),
    }
    const request: ToolRequest = aggregate
      ? { tool: 'aggregate_records', model, operation: 'read', domain: parseDomain([]), groupby: parseGroupBy(groupby), aggregates: [] }
      : { tool: 'search_records', model, operation: 'read', domain: parseDomain([]), order: parseOrder(order?.map(([f, direction]) => `${f} ${direction}`).join(', ')) }
    return { document: { version: 1, models: document as Record<string, ModelEntryDocument> }, world, request, rawDomain: [] }
  })

// ---------------------------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------------------------

describe('policy guard (properties)', () => {
  it('decides every request as the reference model does, and refuses only with a ToolError naming the right kind', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (sample) => {
        const reference = new ReferencePolicy(sample.document, sample.world)
        expectSameDecision(await decide(sample), reference.refusals(sample.request, sample.rawDomain), JSON.stringify(sample.request))
      }),
      // Random worlds rarely hold the two cases the targeted properties below were written for (a chain of related
      // fields, a name search on a model whose `active` is hidden): the examples make every run check them. Both get
      // through the guard today, against docs/SECURITY.md: this property fails on them until the guard is fixed.
      { numRuns: 1500, examples: [[{ ...RELATED_CHAIN_EXAMPLE, world: RELATED_CHAIN_WORLD, rawDomain: [] }], [{ ...ARCHIVE_EXAMPLE, world: ARCHIVE_WORLD }]] },
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
      { numRuns: 400 },
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
        const hiddenNames = new Set(reference.idOnly(model, Object.keys(sample.world.models[model]!)))

        for (const record of guard.filterRecords(authorized, [recordOf(sample.world, model, 1), recordOf(sample.world, model, 5)])) {
          for (const [field, value] of Object.entries(record)) {
            expect(reference.visible(model, field), `record field ${field}`).toBe(true)
            if (hiddenNames.has(field)) expect(Array.isArray(value) && value.some((item) => typeof item === 'string'), `display name of ${field}`).toBe(false)
          }
        }

        if (authorized.groupby) {
          const group: Record<string, unknown> & { count: number } = { count: 3, __domain: [], ...recordOf(sample.world, model, 1) }
          // Group keys of many2one and many2many fields come as [id, name]; aggregates are numbers.
          for (const spec of authorized.groupby) group[spec.spec] = [9, 'name']
          for (const spec of authorized.aggregates ?? []) group[spec.spec] = 42
          for (const filtered of guard.filterGroups(authorized, [group])) {
            for (const [key, value] of Object.entries(filtered)) {
              if (key === 'count') continue
              const field = key.split(':')[0]!
              expect(reference.readable(model) && reference.visible(model, field), `group key ${key}`).toBe(true)
              if (hiddenNames.has(field)) expect(Array.isArray(value), `display name of ${key}`).toBe(false)
            }
          }
        }

        const described = await guard.filterFieldMetadata(model, sample.world.models[model]!)
        for (const field of Object.keys(described)) expect(reference.visible(model, field), `described field ${field}`).toBe(true)
      }),
      { numRuns: 400 },
    )
  })

  it('sends Odoo an order of visible fields only, tie-broken by id, a many2one by its id unless its model sorts by visible fields', async () => {
    // Random worlds, and the chains of default orders below; without a domain or a context (they do not change the
    // order), so that most requests get through.
    const random = scenarioOf(TOOLS.filter(({ tool }) => tool === 'search_records' || tool === 'aggregate_records')).map((sample) => {
      const { context: _context, ...request } = sample.request
      return { ...sample, request: { ...request, domain: parseDomain([]) }, rawDomain: [] }
    })
    const sorting = fc.oneof(random, orderingScenario)
    await fc.assert(
      fc.asyncProperty(sorting, async (sample) => {
        const authorized = await authorize(sample)
        if (!authorized) return
        const reference = new ReferencePolicy(sample.document, sample.world)
        const { model } = authorized
        expect(authorized.odooOrder, 'an explicit order is always sent').toBeTypeOf('string')
        const sent = orderTerms(authorized.odooOrder!)
        const many2one = (field: string) => sample.world.models[model]![field]?.type === 'many2one'
        /** A many2one term: by id exactly when its model does not sort visibly (the guard may cut very deep chains short). */
        const expectById = (field: string, byId: boolean, ranks: number | false | undefined) => {
          if (byId) expect(ranks === false || (ranks as number) > ORDER_DEPTH_THE_GUARD_MAY_CUT, `${field} sorted by id, but its model sorts visibly`).toBe(true)
          else expect(ranks, `${field} sorted by its model's order, which ranks by hidden values`).not.toBe(false)
        }

        if (authorized.tool === 'aggregate_records') {
          const groupby = authorized.groupby!
          expect(sent).toHaveLength(groupby.length)
          sent.forEach((term, i) => {
            const group = groupby[i]!
            const ranks = many2one(group.field) ? reference.ranksVisibly(sample.world.models[model]![group.field]!.relation!, new Set([`${model}.${group.field}`])) : undefined
            if (term.field === `${group.field}:min`) {
              expect(many2one(group.field), `${term.field} on a many2one only`).toBe(true)
              expectById(group.field, true, ranks)
            } else {
              expect(term.field).toBe(group.spec)
              if (many2one(group.field)) expectById(group.field, false, ranks)
            }
            expect(term.direction).toBe('asc')
          })
          return
        }

        for (const term of sent) {
          expect(term.field === 'id' || reference.visible(model, term.field), `order term ${term.field}`).toBe(true)
          if (term.byId) expect(many2one(term.field), `${term.field}.id on a many2one only`).toBe(true)
        }
        const firstId = sent.findIndex((term) => term.field === 'id')
        expect(firstId, 'ties are broken by id').toBeGreaterThanOrEqual(0)
        // `id` closes the order; terms after an id the request (or the default order) put earlier cannot change a rank.
        const written = authorized.order!.terms.length > 0 ? authorized.order!.terms : (sample.world.orders[model]?.terms ?? [])
        if (!written.some((term) => term.field === 'id')) expect(firstId).toBe(sent.length - 1)

        const expected = reference.searchOrder(model, authorized.order!.terms)
        expect(sent.map((term) => term.field), authorized.odooOrder).toEqual(expected.map((term) => term.field))
        sent.forEach((term, i) => {
          expect(term.direction).toBe(expected[i]!.text)
          if (expected[i]!.ranks !== undefined) expectById(term.field, term.byId, expected[i]!.ranks)
          else expect(term.byId).toBe(false)
        })
      }),
      { numRuns: 800 },
    )
  })

  it('returns one2many / many2many values sorted by id, whatever order Odoo gave them in', async () => {
    const reading = scenarioOf(TOOLS.filter(({ tool }) => tool === 'search_records' || tool === 'read_records'))
    await fc.assert(
      fc.asyncProperty(reading, fc.array(fc.integer({ min: 1, max: 1000 }), { maxLength: 6 }), async (sample, ids) => {
        const authorized = await authorize(sample)
        if (!authorized) return
        const { model } = authorized
        const [record] = guardOf(sample).filterRecords(authorized, [recordOf(sample.world, model, 1, ids)])
        for (const [field, value] of Object.entries(record!)) {
          if (!X2MANY.includes(sample.world.models[model]![field]?.type ?? '')) continue
          expect(value, field).toEqual([...ids].sort((a, b) => a - b))
        }
      }),
      { numRuns: 300 },
    )
  })

  it('checks one2many/many2many commands as what they do to the related model, however Odoo lets them be written', async () => {
    // A small world where every write goes through x2many commands or a related field, so that each run exercises them.
    const orders: World = {
      models: {
        'sale.order': {
          id: { type: 'integer' }, display_name: { type: 'char' }, name: { type: 'char' },
          order_line: { type: 'one2many', relation: 'sale.order.line', relation_field: 'order_id' },
          // A one2many whose link back Odoo did not give.
          note_ids: { type: 'one2many', relation: 'sale.order.line' },
          tag_ids: { type: 'many2many', relation: 'crm.tag' },
        },
        'sale.order.line': {
          id: { type: 'integer' }, display_name: { type: 'char' }, name: { type: 'char' }, price_unit: { type: 'float' }, margin: { type: 'float' },
          order_id: { type: 'many2one', relation: 'sale.order' },
          order_name: { type: 'char', related: 'order_id.name' },
          tax_ids: { type: 'many2many', relation: 'crm.tag' },
        },
        'crm.tag': { id: { type: 'integer' }, display_name: { type: 'char' }, name: { type: 'char' }, color: { type: 'integer' } },
      },
      orders: {},
    }
    const entryOf = (fields: string[]) => fc.record({ operations: fc.subarray([...OPERATIONS], { minLength: 1 }), fields: fc.oneof(fc.constant('*' as const), fc.subarray(fields)) })
    const document: fc.Arbitrary<PolicyDocument> = fc
      .record({
        'sale.order': fc.record({
          operations: fc.constantFrom<Operation[]>(['create', 'write'], ['read', 'create', 'write']),
          fields: fc.constantFrom<'*' | string[]>('*', ['name', 'order_line', 'note_ids', 'tag_ids']),
        }),
        'sale.order.line': entryOf(['name', 'price_unit', 'margin', 'tax_ids', 'order_id', 'order_name']),
        'crm.tag': entryOf(['name', 'color']),
      }, { requiredKeys: ['sale.order'] })
      .map((models) => ({ version: 1, models: models as Record<string, ModelEntryDocument> }))
    const nested = fc.constantFrom('name', 'price_unit', 'margin', 'color', 'tax_ids', 'order_id', 'order_name')
    const request = fc.record({
      tool: fc.constantFrom({ tool: 'create_record', operation: 'create' as const }, { tool: 'update_records', operation: 'write' as const }),
      values: valuesOf(fc.constantFrom('order_line', 'note_ids', 'tag_ids'), nested).chain((top) =>
        valuesOf(nested, nested).map((inner) => {
          // Put the nested values where a create or update command of order_line carries them.
          const line = Array.isArray(top.order_line) ? top.order_line : []
          return Object.keys(inner).length > 0 ? { ...top, order_line: [...line, [0, 0, inner]] } : top
        }),
      ),
    })
    await fc.assert(
      fc.asyncProperty(document, request, async (document, { tool: { tool, operation }, values }) => {
        const sample: Scenario = { document, world: orders, request: { tool, model: 'sale.order', operation, values }, rawDomain: [] }
        expectSameDecision(await decide(sample), new ReferencePolicy(document, orders).refusals(sample.request, []), `${JSON.stringify(document)} ${JSON.stringify(values)}`)
      }),
      { numRuns: 800 },
    )
  })

  it('writes a related field only where the key may write what it mirrors, to the end of a chain of related fields', async () => {
    const chain = RELATED_CHAIN_WORLD
    const entry = (fields: string[]) => fc.record({ operations: fc.subarray([...OPERATIONS], { minLength: 1 }), fields: fc.oneof(fc.constant('*' as const), fc.subarray(fields)) })
    const document: fc.Arbitrary<PolicyDocument> = fc
      .record({
        'sale.order': entry(['name', 'partner_id', 'partner_email', 'partner_country_name']),
        'res.partner': entry(['name', 'email', 'country_id', 'country_name']),
        'res.country': entry(['name', 'code']),
      })
      .map((models) => ({ version: 1, models }))
    const request = fc.oneof(
      fc.record({ model: fc.constant('sale.order'), values: fc.dictionary(fc.constantFrom('name', 'partner_id', 'partner_email', 'partner_country_name'), fc.constant<unknown>('x'), { minKeys: 1, maxKeys: 2 }) }),
      fc.record({ model: fc.constant('res.partner'), values: fc.dictionary(fc.constantFrom('name', 'email', 'country_id', 'country_name'), fc.constant<unknown>('x'), { minKeys: 1, maxKeys: 2 }) }),
    ).chain(({ model, values }) => fc.constantFrom<ToolRequest>({ tool: 'update_records', model, operation: 'write', ids: [1], values }, { tool: 'create_record', model, operation: 'create', values }))
    await fc.assert(
      fc.asyncProperty(document, request, async (document, request) => {
        const sample = { document, world: chain, request }
        expectSameDecision(await decide(sample), new ReferencePolicy(document, chain).refusals(request, []), `${JSON.stringify(document)} ${JSON.stringify(request)}`)
      }),
      // The shortest case of the chain (RELATED_CHAIN_EXAMPLE). The guard lets it through today, so this property fails
      // until the guard follows chains of related fields (test/worker/policy/policy-guard.test.ts has it as an example).
      { numRuns: 300, examples: [[RELATED_CHAIN_EXAMPLE.document, RELATED_CHAIN_EXAMPLE.request]] },
    )
  })

  it('lets active_test: false through only where active is visible on every model the call reads records of', async () => {
    const world = ARCHIVE_WORLD
    const entry = (fields: string[]) => fc.record({
      operations: fc.constantFrom<Operation[]>(['read'], ['read'], ['write']),
      fields: fc.oneof(fc.constant('*' as const), fc.subarray(fields)),
    })
    const document: fc.Arbitrary<PolicyDocument> = fc
      .record({
        'sale.order': fc.record({ operations: fc.constant<Operation[]>(['read']), fields: fc.oneof(fc.constant('*' as const), fc.subarray(['name', 'active', 'partner_id', 'tag_ids', 'order_line', 'user_id'])) }),
        'res.partner': entry(['name', 'display_name', 'active', 'company_id', 'parent_id', 'child_ids']),
        'res.company': entry(['name', 'active']),
        'crm.tag': entry(['name', 'active']),
        'sale.order.line': entry(['name', 'order_id']),
        'res.users': entry(['name', 'active', 'partner_id']),
      }, { requiredKeys: ['sale.order'] })
      .map((models) => ({ version: 1, models: models as Record<string, ModelEntryDocument> }))
    const conditions: unknown[] = [
      ['name', 'ilike', 'S0'], ['partner_id', '=', 7], ['partner_id', 'ilike', 'acme'], ['partner_id', 'child_of', 7], ['partner_id', 'child_of', 'acme'],
      ['partner_id.name', '=', 'Acme'], ['partner_id.company_id', '=', 1], ['partner_id', 'any', [['name', 'ilike', 'a']]], ['partner_id', 'not any', [['company_id.name', '=', 'YourCo']]],
      ['tag_ids', 'in', [1]], ['tag_ids', '=', false], ['order_line', 'any', [['name', 'ilike', 'desk']]], ['user_id', 'ilike', 'mitchell'], ['user_id.partner_id', '=', 3], ['id', 'in', [1, 2]],
    ]
    const request = fc.record({
      tool: fc.constantFrom('search_records', 'read_records', 'count_records', 'aggregate_records'),
      domain: fc.subarray(conditions, { maxLength: 2 }),
      fields: fc.option(fc.subarray(['name', 'partner_id', 'tag_ids', 'order_line'], { minLength: 1 })),
      groupby: fc.constantFrom<string[]>(['partner_id'], ['tag_ids'], ['user_id', 'tag_ids']),
      activeTest: fc.constantFrom(false, false, true),
    }).map(({ tool, domain, fields, groupby, activeTest }): { request: ToolRequest; rawDomain: unknown[] } => {
      const request: ToolRequest = { tool, model: 'sale.order', operation: 'read', context: { active_test: activeTest } }
      if (tool !== 'read_records') request.domain = parseDomain(domain)
      if ((tool === 'search_records' || tool === 'read_records') && fields) request.fields = fields
      if (tool === 'aggregate_records') Object.assign(request, { groupby: parseGroupBy(groupby), aggregates: [] })
      return { request, rawDomain: tool === 'read_records' ? [] : domain }
    })
    await fc.assert(
      fc.asyncProperty(document, request, async (document, { request, rawDomain }) => {
        const sample = { document, world, request }
        expectSameDecision(await decide(sample), new ReferencePolicy(document, world).refusals(request, rawDomain), `${JSON.stringify(document)} ${JSON.stringify(rawDomain)} ${JSON.stringify(request)}`)
      }),
      // ARCHIVE_EXAMPLE gets through the guard today, so this property fails until the guard counts the model a name
      // search reads (test/worker/policy/policy-guard.test.ts has it as an example).
      { numRuns: 400, examples: [[ARCHIVE_EXAMPLE.document, ARCHIVE_EXAMPLE]] },
    )
  })

  it('returns a many2one, or a many2one / many2many group key, with its display name only where display_name itself is visible', async () => {
    const m2o = (relation: string): FieldInfo => ({ type: 'many2one', relation })
    const orders: World = {
      models: {
        'sale.order': {
          id: { type: 'integer' }, name: { type: 'char' }, partner_id: m2o('res.partner'), user_id: m2o('res.users'), company_id: m2o('res.company'),
          tag_ids: { type: 'many2many', relation: 'crm.tag' }, group_ids: { type: 'many2many', relation: 'res.groups' },
        },
        'res.partner': { id: { type: 'integer' }, name: { type: 'char' }, display_name: { type: 'char' }, email: { type: 'char' } },
        'res.users': { id: { type: 'integer' }, name: { type: 'char' }, display_name: { type: 'char' }, login: { type: 'char' } },
        'res.company': { id: { type: 'integer' }, name: { type: 'char' }, display_name: { type: 'char' } },
        'crm.tag': { id: { type: 'integer' }, name: { type: 'char' }, display_name: { type: 'char' } },
        'res.groups': { id: { type: 'integer' }, name: { type: 'char' }, display_name: { type: 'char' } },
      },
      orders: {},
    }
    const related = fc.record({ operations: fc.subarray([...OPERATIONS], { minLength: 1 }), fields: fc.oneof(fc.constant('*' as const), fc.subarray(['name', 'display_name', 'email', 'login'])) })
    const document: fc.Arbitrary<PolicyDocument> = fc
      .record({
        // group_ids points to a sensitive model: under "*" it is hidden, so it is listed here to reach the output filter.
        'sale.order': fc.constantFrom<ModelEntryDocument>({ operations: ['read'], fields: '*' }, { operations: ['read'], fields: ['name', 'partner_id', 'user_id', 'company_id', 'tag_ids', 'group_ids'] }),
        'res.partner': related, 'res.users': related, 'crm.tag': related, 'res.groups': related, '*': related,
      }, { requiredKeys: ['sale.order'] })
      .map((models) => ({ version: 1, models }))
    const request = fc.oneof(
      fc.option(fc.subarray(['name', 'partner_id', 'user_id', 'company_id'], { minLength: 1 })).map((fields): ToolRequest => ({ tool: 'search_records', model: 'sale.order', operation: 'read', ...(fields ? { fields } : {}) })),
      fc.subarray(['partner_id', 'user_id', 'company_id', 'tag_ids', 'group_ids'], { minLength: 1 }).map((groupby): ToolRequest => ({ tool: 'aggregate_records', model: 'sale.order', operation: 'read', groupby: parseGroupBy(groupby), aggregates: [] })),
    )
    await fc.assert(
      fc.asyncProperty(document, request, async (document, request) => {
        const sample: Scenario = { document, world: orders, request, rawDomain: [] }
        const reference = new ReferencePolicy(document, orders)
        const decision = await decide(sample)
        expectSameDecision(decision, reference.refusals(request, []), JSON.stringify(request))
        if (!('allowed' in decision)) return
        const authorized = decision.allowed
        const guard = guardOf(sample)
        const names = { partner_id: [7, 'Azure Interior'], user_id: [2, 'Mitchell Admin'], company_id: [1, 'My Company'], tag_ids: [3, 'VIP'], group_ids: [4, 'Settings'] }
        const rows = authorized.groupby
          ? guard.filterGroups(authorized, [{ count: 1, ...names }])
          : guard.filterRecords(authorized, [{ id: 1, name: 'S00001', ...names }])
        for (const row of rows) {
          for (const field of Object.keys(names).filter((f) => f in row)) {
            const relation = orders.models['sale.order']![field]!.relation!
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
      { numRuns: 200 },
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
