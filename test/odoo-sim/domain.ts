// Odoo's domain language: prefix notation with implicit '&', the '&' '|' '!' operators and leaves
// (field_path, operator, value); a dotted path is an 'any' on its first field. display_name conditions search
// _rec_names_search, names on relational fields and in child_of / parent_of are display_name searches on the
// comodel, and the searches a domain makes on other models apply their implicit active filter the way Odoo 18
// (osv/expression.py) and 19 (orm/domains.py, orm/fields_relational.py) do. Domains are compiled once into
// predicates, so a search is one pass over the records. Validation errors carry the messages of
// Odoo 18 (osv/expression.py: "Invalid leaf ...", "Invalid field m.f in leaf ...") or Odoo 19 (orm/domains.py:
// "Invalid operator in condition ...", "Invalid field m.f in condition ...").
import type { Db } from './db'
import { OdooError, valueError } from './errors'
import type { RuntimeField, RuntimeModel } from './models'
import { PyTuple, pyRepr } from './python'
import type { Json, JsonObject, OdooVersion, StoredRecord, StoredValue } from './types'

export type DomainJson = Json[]

const OPERATORS = new Set([
  '=',
  '!=',
  '<=',
  '<',
  '>',
  '>=',
  '=?',
  '=like',
  '=ilike',
  'like',
  'not like',
  'ilike',
  'not ilike',
  'in',
  'not in',
  'child_of',
  'parent_of',
  'any',
  'not any',
])
const NEGATIVE = new Set(['!=', 'not like', 'not ilike', 'not in', 'not any'])

interface Leaf {
  path: string
  operator: string
  value: Json
  /** The leaf as given, for messages. */
  raw: readonly Json[]
  /** Operator not recognized (Odoo 18 reports it only after checking the fields). */
  badOperator: boolean
}

type Node =
  | { kind: 'and' | 'or'; children: Node[] }
  | { kind: 'not'; child: Node }
  | { kind: 'leaf'; leaf: Leaf }
  | { kind: 'const'; value: boolean }

export type Predicate = (record: StoredRecord) => boolean

export interface DomainOptions {
  db: Db
  version: OdooVersion
  /** Called for the first field of every leaf; may throw (field access rights). */
  checkField?: (model: RuntimeModel, field: RuntimeField) => void
  /** Name used in "Invalid field <model>.<field>" (hr.employee.public for the public projection). */
  modelLabel?: string
  /** Restricts the fields that exist on the root model (hr.employee.public has only the public fields). */
  fieldFilter?: (field: RuntimeField) => boolean
  /**
   * The call's context: `active_test: false` turns off the implicit active filter of the searches a domain makes
   * (x2many paths and `any`, names of child_of); the root search's own filter is the caller's (searchRecords).
   */
  context?: JsonObject
}

export function leafRepr(raw: readonly Json[]): string {
  return pyRepr(new PyTuple(raw))
}

function syntaxError(domain: Json): OdooError {
  return valueError(`Domain ${pyRepr(domainForRepr(domain))} is syntactically not correct.`, 'domain')
}

function domainForRepr(domain: Json): Json | PyTuple {
  if (!Array.isArray(domain)) return domain
  return domain.map((item) => (Array.isArray(item) && item.length === 3 ? new PyTuple(item) : item)) as unknown as Json
}

/** Parses the prefix notation into a tree; Odoo 19 rejects unknown operators right away. */
function parse(domain: Json, version: OdooVersion): Node {
  if (domain === null || domain === false) return { kind: 'const', value: true }
  if (!Array.isArray(domain)) {
    throw valueError(`Invalid domain: ${pyRepr(domain)}`, 'domain')
  }
  let index = 0
  const next = (): Node => {
    if (index >= domain.length) throw syntaxError(domain)
    const item = domain[index++] as Json
    if (item === '&' || item === '|') {
      const left = next()
      const right = next()
      return { kind: item === '&' ? 'and' : 'or', children: [left, right] }
    }
    if (item === '!') return { kind: 'not', child: next() }
    return { kind: 'leaf', leaf: toLeaf(item, version) }
  }
  const nodes: Node[] = []
  while (index < domain.length) nodes.push(next())
  if (nodes.length === 0) return { kind: 'const', value: true }
  return nodes.length === 1 ? (nodes[0] as Node) : { kind: 'and', children: nodes }
}

function toLeaf(item: Json, version: OdooVersion): Leaf {
  if (!Array.isArray(item) || item.length !== 3) {
    if (version === 19) {
      const args = Array.isArray(item) ? new PyTuple(item) : new PyTuple([item])
      throw new OdooError('builtins.TypeError', `Domain() invalid arguments: ${pyRepr(args)}`, 'domain')
    }
    throw valueError(
      `Invalid leaf ${Array.isArray(item) ? pyRepr(item) : typeof item === 'string' ? item : pyRepr(item)}`,
      'domain',
    )
  }
  const [left, rawOperator, value] = item as [Json, Json, Json]
  let operator = typeof rawOperator === 'string' ? rawOperator.toLowerCase() : ''
  if (operator === '<>') operator = '!='
  if (operator === '==') operator = '='
  const constant = (left === 1 || left === 0) && operator === '=' && value === 1
  const badOperator = !OPERATORS.has(operator) || (typeof left !== 'string' && !constant) || left === ''
  if (badOperator && version === 19) {
    throw valueError(`Invalid operator in condition ${leafRepr(item)}`, 'domain')
  }
  return {
    path: constant ? (left === 1 ? '__true__' : '__false__') : String(left),
    operator,
    value,
    raw: item,
    badOperator,
  }
}

/** `expression.normalize_domain`: makes the implicit '&' explicit. */
export function normalizeDomain(domain: DomainJson): DomainJson {
  if (domain.length === 0) return [[1, '=', 1]]
  const result: DomainJson = []
  let expected = 1
  for (const item of domain) {
    if (expected === 0) {
      result.unshift('&')
      expected = 1
    }
    if (item === '&' || item === '|') expected += 1
    else if (item !== '!') expected -= 1
    result.push(item)
  }
  return result
}

/** `expression.AND`: combines domains, skipping empty ones. */
export function andDomains(domains: DomainJson[]): DomainJson {
  const parts = domains.filter((d) => d.length > 0)
  if (parts.length === 0) return []
  if (parts.length === 1) return normalizeDomain(parts[0] as DomainJson)
  const result: DomainJson = []
  for (let i = 1; i < parts.length; i++) result.push('&')
  for (const part of parts) result.push(...normalizeDomain(part))
  return result
}

/** Whether the domain mentions field `name` at its root (disables the implicit active filter). */
export function mentionsField(domain: Json, name: string): boolean {
  return Array.isArray(domain) && domain.some((item) => Array.isArray(item) && item[0] === name)
}

// ---------------------------------------------------------------------------------------------------------------
// Value semantics

function isUnset(value: StoredValue): boolean {
  return value === false || value === '' || (Array.isArray(value) && value.length === 0)
}

function likeRegex(pattern: string, insensitive: boolean): RegExp {
  let source = ''
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] as string
    if (ch === '\\' && i + 1 < pattern.length)
      source += (pattern[++i] as string).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
    else if (ch === '%') source += '.*'
    else if (ch === '_') source += '.'
    else source += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
  }
  return new RegExp(`^${source}$`, insensitive ? 'is' : 's')
}

function normalizeTemporal(field: RuntimeField, value: Json): Json {
  if (typeof value !== 'string') return value
  if (field.type === 'datetime') {
    const v = value
      .replace('T', ' ')
      .replace(/Z$/, '')
      .replace(/\.\d+$/, '')
    return /^\d{4}-\d{2}-\d{2}$/.test(v) ? `${v} 00:00:00` : v
  }
  if (field.type === 'date') return value.slice(0, 10)
  return value
}

function coerce(field: RuntimeField, value: Json): Json {
  if (
    ['integer', 'float', 'monetary'].includes(field.type) &&
    typeof value === 'string' &&
    value.trim() !== '' &&
    !Number.isNaN(Number(value))
  ) {
    return Number(value)
  }
  if (field.type === 'boolean') return value === true || value === 1 || value === '1' || value === 'True'
  return normalizeTemporal(field, value)
}

function compare(a: StoredValue, b: Json): number | null {
  if (typeof a === 'number' && typeof b === 'number') return a - b
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b)
  if (typeof a === 'number' && typeof b === 'boolean') return a - Number(b)
  return null
}

function equals(a: StoredValue, b: Json): boolean {
  return compare(a, b) === 0
}

/** Scalar test of one stored value (for relational fields: the id, or the display name for string values). */
function scalarTest(field: RuntimeField, operator: string, value: Json): (v: StoredValue) => boolean {
  const boolean = field.type === 'boolean'
  if (boolean) {
    const target = coerce(field, value)
    if (operator === '=' || operator === '=?') return (v) => (v === true) === target
    if (operator === '!=') return (v) => (v === true) !== target
    if (operator === 'in' || operator === 'not in') {
      const list = (Array.isArray(value) ? value : [value]).map((x) => coerce(field, x))
      const positive = (v: StoredValue) => list.includes(v === true)
      return operator === 'in' ? positive : (v) => !positive(v)
    }
  }
  switch (operator) {
    case '=?':
      if (value === false || value === null) return () => true
      return scalarTest(field, '=', value)
    case '=': {
      if (value === false || value === null) return isUnset
      const target = coerce(field, value)
      return (v) => !isUnset(v) && equals(v, target)
    }
    case '!=': {
      if (value === false || value === null) return (v) => !isUnset(v)
      const target = coerce(field, value)
      return (v) => isUnset(v) || !equals(v, target)
    }
    case '<':
    case '>':
    case '<=':
    case '>=': {
      if (value === false || value === null) return () => false
      const target = coerce(field, value)
      return (v) => {
        if (isUnset(v) && !['integer', 'float', 'monetary'].includes(field.type)) return false
        const c = compare(v, target)
        if (c === null) return false
        return operator === '<' ? c < 0 : operator === '>' ? c > 0 : operator === '<=' ? c <= 0 : c >= 0
      }
    }
    case 'in':
    case 'not in': {
      const list = (Array.isArray(value) ? value : [value]).map((x) => coerce(field, x))
      const withUnset = list.includes(false) || list.includes(null)
      const values = list.filter((x) => x !== false && x !== null)
      const positive = (v: StoredValue) => (isUnset(v) ? withUnset : values.some((x) => equals(v, x)))
      return operator === 'in' ? positive : (v) => (isUnset(v) ? !withUnset : !positive(v))
    }
    case 'like':
    case 'ilike':
    case 'not like':
    case 'not ilike':
    case '=like':
    case '=ilike': {
      const negative = operator.startsWith('not')
      if (value === false || value === null) return negative ? (v) => !isUnset(v) : isUnset
      const text = typeof value === 'string' ? value : pyRepr(value)
      const regex = likeRegex(operator.startsWith('=') ? text : `%${text}%`, operator.includes('ilike'))
      const test = (v: StoredValue) => !isUnset(v) && regex.test(String(v))
      return negative ? (v) => isUnset(v) || !test(v) : test
    }
    default:
      return () => false
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Compilation

const POSITIVE_OF: Record<string, string> = { '!=': '=', 'not like': 'like', 'not ilike': 'ilike', 'not in': 'in' }
const ID_FIELD: RuntimeField = { name: 'id', column: 'id', type: 'integer', string: 'ID' }
const NAME_FIELD: RuntimeField = { name: 'display_name', column: 'display_name', type: 'char', string: 'Display Name' }

function isRelational(field: RuntimeField): boolean {
  return field.type === 'many2one' || field.type === 'one2many' || field.type === 'many2many'
}

function isEmptyValue(value: Json): boolean {
  return value === false || value === null || value === '' || value === 0 || (Array.isArray(value) && value.length === 0)
}

/** `['|', '|', a, b, c]`: the OR of leaves in prefix notation. */
function orDomain(leaves: Json[]): Json[] {
  if (leaves.length === 0) return [[0, '=', 1]]
  return [...leaves.slice(1).map((): Json => '|'), ...leaves]
}

/**
 * How a search inside a domain treats archived records (Odoo's `active_test`): `filter` adds the implicit
 * `active = True` to that search (unless its domain names `active`); `env` is the context of the searches nested in
 * it. Odoo 18 (expression.py) searches a many2one's comodel with active_test=False, an x2many's with the field's
 * context; Odoo 19 (fields_relational.py Many2one.condition_to_sql) drops the filter of a many2one's first level only.
 */
interface SearchLevel {
  filter: boolean
  env: boolean
}

class Compiler {
  private pendingBadLeaf: Leaf | null = null

  constructor(
    private readonly options: DomainOptions,
    private readonly root: RuntimeModel,
    /** active_test of this search's context (for the searches nested in it). */
    private readonly env: boolean = options.context?.['active_test'] !== false,
  ) {}

  compile(domain: Json): Predicate {
    const tree = parse(domain, this.options.version)
    const predicate = this.node(tree, this.root, true)
    if (this.pendingBadLeaf) throw valueError(`Invalid leaf ${leafRepr(this.pendingBadLeaf.raw)}`, 'domain')
    return predicate
  }

  private node(node: Node, model: RuntimeModel, isRoot: boolean): Predicate {
    switch (node.kind) {
      case 'const':
        return node.value ? () => true : () => false
      case 'not': {
        const child = this.node(node.child, model, isRoot)
        return (r) => !child(r)
      }
      case 'and': {
        const children = node.children.map((c) => this.node(c, model, isRoot))
        return (r) => children.every((c) => c(r))
      }
      case 'or': {
        const children = node.children.map((c) => this.node(c, model, isRoot))
        return (r) => children.some((c) => c(r))
      }
      case 'leaf':
        return this.leaf(node.leaf, model, isRoot)
    }
  }

  private fieldOf(model: RuntimeModel, name: string, raw: readonly Json[], isRoot: boolean): RuntimeField {
    const field = model.field(name)
    const exists = field && (!isRoot || !this.options.fieldFilter || name === 'id' || this.options.fieldFilter(field))
    if (!field || !exists) {
      const label = isRoot ? (this.options.modelLabel ?? model.name) : model.name
      const where = this.options.version === 18 ? 'in leaf' : 'in condition'
      throw valueError(`Invalid field ${label}.${name} ${where} ${leafRepr(raw)}`, 'domain-field')
    }
    this.options.checkField?.(model, field)
    return field
  }

  /**
   * A search on `comodel` inside this domain (Odoo's `comodel._search(domain)`): the field's domain ANDed, the
   * implicit active filter per `level`, the nested searches in `level.env`.
   */
  private subSearch(comodel: RuntimeModel, domain: Json, level: SearchLevel, fieldDomain?: readonly Json[]): Predicate {
    const combined =
      fieldDomain && fieldDomain.length > 0 && Array.isArray(domain)
        ? andDomains([[...fieldDomain], domain as DomainJson])
        : domain
    const compiler = new Compiler({ ...this.options, modelLabel: undefined, fieldFilter: undefined }, comodel, level.env)
    const predicate = compiler.compile(combined)
    if (!comodel.hasActive || !level.filter || mentionsField(combined, 'active')) return predicate
    return (record) => record['active'] !== false && predicate(record)
  }

  /** The search level of an x2many's comodel: the field's context (res.partner.child_ids: active_test=False). */
  private x2manyLevel(field: RuntimeField): SearchLevel {
    const active = field.context?.active_test ?? this.env
    return { filter: active, env: active }
  }

  /** The search level of a many2one's comodel for `any` and dotted paths (see SearchLevel). */
  private many2oneLevel(): SearchLevel {
    return this.options.version === 18 ? { filter: false, env: false } : { filter: false, env: this.env }
  }

  private leaf(leaf: Leaf, model: RuntimeModel, isRoot: boolean): Predicate {
    if (leaf.path === '__true__') return () => true
    if (leaf.path === '__false__') return () => false
    if (leaf.badOperator) {
      // Odoo 18 checks the fields of the whole domain first, then reports the leaf.
      this.pendingBadLeaf ??= leaf
      return () => false
    }
    const [first = '', ...rest] = leaf.path.split('.')
    const field = this.fieldOf(model, first, leaf.raw, isRoot)
    const db = this.options.db
    const valueOf = (record: StoredRecord) => db.value(model, record, field)
    const relational = isRelational(field)

    if (rest.length > 0) {
      if (!relational) {
        throw valueError(
          `Invalid field ${model.name}.${leaf.path} ${this.options.version === 18 ? 'in leaf' : 'in condition'} ${leafRepr(leaf.raw)}`,
          'domain-field',
        )
      }
      // A path is an 'any' on its first field (18: expression._anyfy_leaves; 19: DomainCondition._optimize).
      return this.any(model, field, [[rest.join('.'), leaf.raw[1] as Json, leaf.value]], false)
    }

    if (leaf.operator === 'any' || leaf.operator === 'not any') {
      if (!relational) throw valueError(`Invalid leaf ${leafRepr(leaf.raw)}`, 'domain')
      return this.any(model, field, leaf.value, leaf.operator === 'not any')
    }

    if (leaf.operator === 'child_of' || leaf.operator === 'parent_of') {
      return this.hierarchy(leaf, model, field)
    }

    if (field.name === 'display_name') return this.displayName(model, leaf.operator, leaf.value)

    if (!relational) {
      const test = scalarTest(field, leaf.operator, leaf.value)
      return (record) => test(valueOf(record))
    }

    return this.relationalByName(leaf, field, valueOf) ?? this.relationalByIds(leaf, field, valueOf)
  }

  private targets(field: RuntimeField, value: StoredValue): number[] {
    if (field.type === 'many2one') return typeof value === 'number' && value > 0 ? [value] : []
    return Array.isArray(value) ? value : []
  }

  /** ('f', 'any', domain): some record of f matches (a many2one: its record). 'not any': none does. */
  private any(model: RuntimeModel, field: RuntimeField, domain: Json, negate: boolean): Predicate {
    const db = this.options.db
    const comodel = db.model(field.relation ?? '')
    const match =
      field.type === 'many2one'
        ? this.subSearch(comodel, domain, this.many2oneLevel())
        : this.subSearch(comodel, domain, this.x2manyLevel(field), field.domain)
    const any = (record: StoredRecord) =>
      this.targets(field, db.value(model, record, field)).some((id) => {
        const target = db.get(comodel.name, id)
        return target !== undefined && match(target)
      })
    return negate ? (record) => !any(record) : any
  }

  /**
   * A relational field compared with names: Odoo searches the comodel's display_name with the positive operator
   * (a many2one's comodel without the active filter; an x2many's with its domain and context) and keeps the records
   * pointing to a match; a negative operator keeps those that do not (18: expression.parse, many2one / one2many /
   * many2many with a str value; 19: domains._optimize_relational_name_search). Null when the value holds no names.
   */
  private relationalByName(
    leaf: Leaf,
    field: RuntimeField,
    valueOf: (record: StoredRecord) => StoredValue,
  ): Predicate | null {
    let operator = leaf.operator
    let value = leaf.value
    const like = operator.endsWith('like')
    const names = typeof value === 'string' || (Array.isArray(value) && value.some((v) => typeof v === 'string'))
    if (!names && !like) return null
    if (!like && !['=', '!=', 'in', 'not in', '<', '>', '<=', '>=', '=?'].includes(operator)) return null
    const db = this.options.db
    const comodel = db.model(field.relation ?? '')
    const targetsOf = (record: StoredRecord) =>
      this.targets(field, valueOf(record)).filter((id) => db.get(comodel.name, id) !== undefined)
    if (like && (value === false || value === null || value === '')) {
      // `like ''` matches every name: the records that point to something (negative: to nothing).
      const unset = NEGATIVE.has(operator) !== operator.startsWith('=')
      return unset ? (record) => targetsOf(record).length === 0 : (record) => targetsOf(record).length > 0
    }
    if (['<', '>', '<=', '>='].includes(operator)) {
      if (this.options.version === 19) {
        throw new OdooError(
          'builtins.TypeError',
          `Inequality not supported for relational field using a string in condition ${leafRepr(leaf.raw)}`,
          'domain',
        )
      }
      operator = 'in'
    }
    if (operator === '=?') operator = '='
    if (typeof value === 'string' && (operator === 'in' || operator === 'not in')) operator = operator === 'in' ? '=' : '!='
    if (Array.isArray(value) && (operator === '=' || operator === '!=')) operator = operator === '=' ? 'in' : 'not in'
    if (like && typeof value !== 'string') value = typeof value === 'number' ? String(value) : pyRepr(value)
    const negative = NEGATIVE.has(operator)
    const positive = negative ? (POSITIVE_OF[operator] ?? '=') : operator
    const values = Array.isArray(value) ? value : [value]
    const strings = values.filter((v): v is string => typeof v === 'string')
    const ids = values.filter((v): v is number => typeof v === 'number')
    const nameLeaves: Json[] =
      positive === 'in' ? [['display_name', 'in', strings]] : strings.map((v): Json => ['display_name', positive, v])
    if (ids.length > 0) nameLeaves.push(['id', 'in', ids])
    const match =
      field.type === 'many2one'
        ? this.subSearch(comodel, orDomain(nameLeaves), { filter: false, env: false })
        : this.subSearch(comodel, orDomain(nameLeaves), this.x2manyLevel(field), field.domain)
    const any = (record: StoredRecord) =>
      targetsOf(record).some((id) => match(db.get(comodel.name, id) as StoredRecord))
    return negative ? (record) => !any(record) : any
  }

  /** A relational field compared with ids or False (no active filter on ids, like Odoo). */
  private relationalByIds(
    leaf: Leaf,
    field: RuntimeField,
    valueOf: (record: StoredRecord) => StoredValue,
  ): Predicate {
    const db = this.options.db
    const negative = NEGATIVE.has(leaf.operator)
    const positiveOperator = negative ? (POSITIVE_OF[leaf.operator] ?? '=') : leaf.operator
    const unsetMatches = scalarTest(ID_FIELD, positiveOperator, leaf.value)(false)
    const test = scalarTest(ID_FIELD, positiveOperator, leaf.value)
    const comodel = db.model(field.relation ?? '')
    // Which linked records count. 18: all of them, but "has no lines" (one2many = False) looks at the active ones
    // only, per the field's context; 19: the field's domain applies to x2many conditions, archived lines count.
    const fieldDomain = field.type !== 'many2one' && field.domain?.length ? this.subSearch(comodel, [...field.domain], { filter: false, env: false }) : null
    const oneLevel = field.type === 'one2many' && this.options.version === 18 ? this.x2manyLevel(field) : null
    const linked = (record: StoredRecord, forUnset: boolean): number[] => {
      const ids = this.targets(field, valueOf(record))
      if (field.type === 'many2one') return ids
      if (this.options.version === 19 && fieldDomain) {
        return ids.filter((id) => {
          const target = db.get(comodel.name, id)
          return target !== undefined && fieldDomain(target)
        })
      }
      if (forUnset && oneLevel?.filter && comodel.hasActive) {
        return ids.filter((id) => db.get(comodel.name, id)?.['active'] !== false)
      }
      return ids
    }
    const positive = (record: StoredRecord) => {
      const ids = linked(record, true)
      if (ids.length === 0) return unsetMatches
      return linked(record, false).some((id) => test(id))
    }
    return negative ? (record) => !positive(record) : positive
  }

  /**
   * ('display_name', op, value) on `model`: Odoo's _search_display_name, i.e. the fields of `_rec_names_search`
   * (else `_rec_name`) compared with the same operator, ORed (ANDed for a negative operator); `like ''` matches
   * everything. With a display-name decoration (Db.displayNameDecoration), a record whose decorated name differs
   * from its plain one is matched on the decorated name itself.
   */
  private displayName(model: RuntimeModel, operator: string, value: Json): Predicate {
    const fields = model.recNamesSearch ?? [model.recName]
    let plain: Predicate
    if (fields.length === 0) plain = () => true
    else if (operator.endsWith('like') && isEmptyValue(value) && !operator.includes('=')) {
      const result = !NEGATIVE.has(operator)
      plain = () => result
    } else {
      const leaves = fields.map((name): Json => [name, operator, value])
      const joined = [...leaves.slice(1).map((): Json => (NEGATIVE.has(operator) ? '&' : '|')), ...leaves]
      plain = new Compiler(
        { db: this.options.db, version: this.options.version, context: { active_test: this.env } },
        model,
        this.env,
      ).compile(joined)
    }
    const db = this.options.db
    if (!db.displayNameDecoration) return plain
    const test = scalarTest(NAME_FIELD, operator, value)
    return (record) => {
      const shown = db.displayName(model.name, record.id)
      return shown !== db.plainDisplayName(model.name, record.id) ? test(shown) : plain(record)
    }
  }

  /**
   * child_of / parent_of (18: expression.to_ids + child_of_domain / parent_of_domain; 19:
   * domains._operator_hierarchy): a name is resolved by a display_name ilike search on the hierarchy's model, the
   * hierarchy follows that model's parent field (`_parent_name`), archived records included; a many2one to the
   * model itself ('parent_id' child_of x) is the hierarchy of the record ids over that field.
   */
  private hierarchy(leaf: Leaf, model: RuntimeModel, field: RuntimeField): Predicate {
    const db = this.options.db
    const version = this.options.version
    let comodel: RuntimeModel
    let level: SearchLevel
    if (field.name === 'id') {
      comodel = model
      level = { filter: this.env, env: this.env }
    } else if (field.type === 'many2one') {
      comodel = db.model(field.relation ?? '')
      level = { filter: false, env: false }
    } else if (field.type === 'one2many' || field.type === 'many2many') {
      comodel = db.model(field.relation ?? '')
      level = this.x2manyLevel(field)
    } else {
      throw valueError(
        `Cannot execute ${leaf.operator} for ${model.name}.${field.name}, works only for relational fields in condition ${leafRepr(leaf.raw)}`,
        'domain',
      )
    }
    let parentName = comodel.parentField ?? 'parent_id'
    let onIds = field.name === 'id'
    if (comodel.name === model.name && field.name !== 'id') {
      parentName = field.name
      if (field.type === 'many2one') onIds = true
    }

    // The starting ids: numbers as given (not checked), names through display_name ilike.
    const value = leaf.value
    if (value === false || value === null) return () => false
    if (value === true && version === 19) {
      throw valueError(`True is not a valid hierarchy value in condition ${leafRepr(leaf.raw)}`, 'domain')
    }
    const values = Array.isArray(value) ? value : [value === true ? 1 : value]
    const start: number[] = values.filter((v): v is number => typeof v === 'number' && v !== 0)
    const names = values.filter((v): v is string => typeof v === 'string')
    if (names.length > 0) {
      const match = this.subSearch(comodel, orDomain(names.map((n): Json => ['display_name', 'ilike', n])), level)
      for (const record of [...db.table(comodel.name).values()].sort((a, b) => a.id - b.id)) {
        if (match(record) && !start.includes(record.id)) start.push(record.id)
      }
    }
    if (start.length === 0) return () => false

    const parentField = comodel.field(parentName)
    if (!parentField) {
      if (version === 19 && leaf.operator === 'child_of') {
        throw valueError(
          `Invalid field ${comodel.name}.${parentName} in condition ('${parentName}', 'in', OrderedSet([${start.join(', ')}]))`,
          'domain-field',
        )
      }
      throw new OdooError('builtins.KeyError', parentName, 'domain')
    }
    const related = new Set<number>(start)
    let frontier = [...start]
    while (frontier.length > 0) {
      const next: number[] = []
      for (const id of frontier) {
        const found =
          leaf.operator === 'child_of'
            ? db.referencing(comodel.name, parentField.column, id)
            : this.targets(parentField, db.get(comodel.name, id)?.[parentField.column] ?? false)
        for (const other of found) {
          if (related.has(other)) continue
          related.add(other)
          next.push(other)
        }
      }
      frontier = next
    }
    if (onIds) return (record) => related.has(record.id)
    return (record) => this.targets(field, db.value(model, record, field)).some((id) => related.has(id))
  }
}

/** Compiles `domain` for records of `model`; throws the ValueError Odoo would raise for a bad domain. */
export function compileDomain(domain: Json, model: RuntimeModel, options: DomainOptions): Predicate {
  return new Compiler(options, model).compile(domain)
}
