// Odoo's domain language: prefix notation with implicit '&', the '&' '|' '!' operators and leaves
// (field_path, operator, value); dotted paths follow relational fields (x2many with "any" semantics). Domains are
// compiled once into predicates, so a search is one pass over the records. Validation errors carry the messages of
// Odoo 18 (osv/expression.py: "Invalid leaf ...", "Invalid field m.f in leaf ...") or Odoo 19 (orm/domains.py:
// "Invalid operator in condition ...", "Invalid field m.f in condition ...").
import type { Db } from './db'
import { OdooError, valueError } from './errors'
import type { RuntimeField, RuntimeModel } from './models'
import { PyTuple, pyRepr } from './python'
import type { Json, OdooVersion, StoredRecord, StoredValue } from './types'

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

class Compiler {
  private pendingBadLeaf: Leaf | null = null

  constructor(
    private readonly options: DomainOptions,
    private readonly root: RuntimeModel,
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
    const relational = field.type === 'many2one' || field.type === 'one2many' || field.type === 'many2many'

    if (rest.length > 0) {
      if (!relational) {
        throw valueError(
          `Invalid field ${model.name}.${leaf.path} ${this.options.version === 18 ? 'in leaf' : 'in condition'} ${leafRepr(leaf.raw)}`,
          'domain-field',
        )
      }
      const comodel = db.model(field.relation ?? '')
      const sub = this.leaf(
        { ...leaf, path: rest.join('.'), raw: [rest.join('.'), leaf.operator, leaf.value] },
        comodel,
        false,
      )
      return (record) =>
        this.targets(field, valueOf(record)).some((id) => {
          const target = db.get(comodel.name, id)
          return target !== undefined && sub(target)
        })
    }

    if (leaf.operator === 'any' || leaf.operator === 'not any') {
      if (!relational) throw valueError(`Invalid leaf ${leafRepr(leaf.raw)}`, 'domain')
      const comodel = db.model(field.relation ?? '')
      const sub = new Compiler({ ...this.options, modelLabel: undefined, fieldFilter: undefined }, comodel).compile(
        leaf.value,
      )
      const any = (record: StoredRecord) =>
        this.targets(field, valueOf(record)).some((id) => {
          const target = db.get(comodel.name, id)
          return target !== undefined && sub(target)
        })
      return leaf.operator === 'any' ? any : (record) => !any(record)
    }

    if (leaf.operator === 'child_of' || leaf.operator === 'parent_of') {
      return this.hierarchy(leaf, model, field)
    }

    if (!relational) {
      const test = scalarTest(field, leaf.operator, leaf.value)
      return (record) => test(valueOf(record))
    }

    // Relational field compared to ids, to False, or (strings) to the display names of the targets.
    const comodelName = field.relation ?? ''
    const byName =
      typeof leaf.value === 'string' || (Array.isArray(leaf.value) && leaf.value.some((v) => typeof v === 'string'))
    const idField: RuntimeField = { name: 'id', column: 'id', type: 'integer', string: 'ID' }
    const nameField: RuntimeField = {
      name: 'display_name',
      column: 'display_name',
      type: 'char',
      string: 'Display Name',
    }
    const negative = NEGATIVE.has(leaf.operator)
    const positiveOperator = negative
      ? ({ '!=': '=', 'not like': 'like', 'not ilike': 'ilike', 'not in': 'in' }[leaf.operator] ?? '=')
      : leaf.operator
    const unsetTest = scalarTest(idField, positiveOperator, leaf.value)
    const test = byName
      ? (id: number) => scalarTest(nameField, positiveOperator, leaf.value)(db.displayName(comodelName, id))
      : (id: number) => scalarTest(idField, positiveOperator, leaf.value)(id)
    const positive = (record: StoredRecord) => {
      const ids = this.targets(field, valueOf(record))
      return ids.length === 0 ? unsetTest(false) : ids.some(test)
    }
    return negative ? (record) => !positive(record) : positive
  }

  private targets(field: RuntimeField, value: StoredValue): number[] {
    if (field.type === 'many2one') return typeof value === 'number' && value > 0 ? [value] : []
    return Array.isArray(value) ? value : []
  }

  /** child_of / parent_of over the model's parent field. */
  private hierarchy(leaf: Leaf, model: RuntimeModel, field: RuntimeField): Predicate {
    const db = this.options.db
    const comodelName =
      field.type === 'many2one' || field.type === 'one2many' || field.type === 'many2many'
        ? (field.relation ?? model.name)
        : model.name
    const comodel = db.model(comodelName)
    const parentField = comodel.field(comodel.parentField ?? 'parent_id')
    const raw = Array.isArray(leaf.value) ? leaf.value : [leaf.value]
    const roots = new Set<number>()
    for (const item of raw) {
      if (typeof item === 'number') roots.add(item)
      else if (typeof item === 'string') {
        for (const record of db.table(comodelName).values())
          if (db.displayName(comodelName, record.id) === item) roots.add(record.id)
      }
    }
    const parentOf = (id: number): number | false => {
      const record = db.get(comodelName, id)
      const parent = record && parentField ? record[parentField.column] : false
      return typeof parent === 'number' ? parent : false
    }
    const ancestorsOrSelf = (id: number): Set<number> => {
      const seen = new Set<number>()
      let current: number | false = id
      while (current !== false && !seen.has(current)) {
        seen.add(current)
        current = parentOf(current)
      }
      return seen
    }
    const matchesId = (id: number) =>
      leaf.operator === 'child_of'
        ? [...ancestorsOrSelf(id)].some((a) => roots.has(a))
        : [...roots].some((r) => ancestorsOrSelf(r).has(id))
    const isSelf = field.name === 'id'
    return (record) => {
      const ids = isSelf ? [record.id] : this.targets(field, db.value(model, record, field))
      return ids.some(matchesId)
    }
  }
}

/** Compiles `domain` for records of `model`; throws the ValueError Odoo would raise for a bad domain. */
export function compileDomain(domain: Json, model: RuntimeModel, options: DomainOptions): Predicate {
  return new Compiler(options, model).compile(domain)
}
