/**
 * Validation of Odoo search domains before they reach Odoo.
 *
 * A domain is Odoo's prefix-notation filter: `['|', ['state', '=', 'sale'], ['amount_total', '>', 1000]]`. An open
 * Odoo MCP server once shipped a bug where a domain it could not parse was dropped, turning a filtered search into an
 * unfiltered one. Here every term is checked (shape, field path, operator, value, arity) and anything off is an
 * error naming the bad part; nothing is ever dropped or guessed. The result is a tree the policy layer can walk to
 * check every field a filter touches. Pure: no I/O.
 */
import { ToolError } from '../errors'

export const DOMAIN_OPERATORS = [
  '=', '!=', '<>', '<', '>', '<=', '>=', '=?',
  'in', 'not in',
  'like', 'not like', 'ilike', 'not ilike', '=like', '=ilike',
  'child_of', 'parent_of',
  'any', 'not any',
] as const
export type DomainOperator = (typeof DOMAIN_OPERATORS)[number]
const OPERATOR_SET: ReadonlySet<string> = new Set(DOMAIN_OPERATORS)
const LIST_OPERATORS: ReadonlySet<string> = new Set(['in', 'not in'])
/** Operators whose value is a domain on the related model (Odoo 17+). */
const SUBDOMAIN_OPERATORS: ReadonlySet<string> = new Set(['any', 'not any'])

/** Most terms (leaves and operators) accepted in one domain; real-world domains have a handful. */
export const MAX_DOMAIN_TERMS = 200
/** Most values in one `in` / `not in` list. */
export const MAX_LIST_VALUES = 1000
/** Longest string value in a domain. */
const MAX_STRING_VALUE = 1000
/** Longest dotted path (`partner_id.country_id.code` has 3 parts). */
export const MAX_PATH_PARTS = 4
/** Deepest nesting of `any` / `not any` sub-domains. */
export const MAX_SUBDOMAIN_DEPTH = 4

/** Field names are Python identifiers; a path joins them with dots. */
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

export type DomainScalar = string | number | boolean | null
export type DomainValue = DomainScalar | DomainScalar[]

export interface DomainLeaf {
  kind: 'leaf'
  path: string[]
  operator: DomainOperator
  /** The value as sent to Odoo; for `any` / `not any`, the validated sub-domain's terms. */
  value: DomainValue | unknown[]
  /** For `any` / `not any`: the sub-domain, on the model the path leads to (`null`: every record). */
  subdomain?: DomainNode | null
  /** 1-based position of the term in its (sub-)domain. */
  position: number
}

export type DomainNode =
  | DomainLeaf
  | { kind: 'not'; operand: DomainNode }
  | { kind: 'and' | 'or'; operands: DomainNode[] }

export interface ParsedDomain {
  /** The domain to send to Odoo: the validated terms, with `<>` written as `!=`. */
  terms: unknown[]
  /** `null` for the empty domain (all records). */
  tree: DomainNode | null
}

function fail(message: string): never {
  throw new ToolError(`Invalid domain: ${message}`, 'invalid_domain')
}

/**
 * A short quote of a term for error messages. JSON.stringify may recurse (Node 20's V8 overflows a few thousand
 * levels down) while JSON.parse does not, and a 1 MiB body nests 500,000 deep: a term it cannot quote is described
 * by its kind alone.
 */
function describe(term: unknown): string {
  let text: string
  try {
    text = JSON.stringify(term) ?? String(term)
  } catch {
    text = Array.isArray(term) ? '[...]' : typeof term
  }
  return text.length > 80 ? text.slice(0, 77) + '...' : text
}

/** Checks a field path such as `partner_id.country_id.code` and splits it. */
export function parseFieldPath(path: unknown, where: string): string[] {
  if (typeof path !== 'string' || path === '') fail(`${where}: the field must be a non-empty string`)
  const parts = path.split('.')
  if (parts.length > MAX_PATH_PARTS) fail(`${where}: field path '${path}' is deeper than ${MAX_PATH_PARTS} levels`)
  for (const part of parts) {
    if (!FIELD_NAME.test(part)) fail(`${where}: '${path}' is not a valid field name or dotted path`)
  }
  return parts
}

function parseValue(value: unknown, operator: string, where: string): DomainValue {
  if (LIST_OPERATORS.has(operator)) {
    if (!Array.isArray(value)) fail(`${where}: operator '${operator}' needs a list value, e.g. [1, 2]`)
    if (value.length > MAX_LIST_VALUES) fail(`${where}: more than ${MAX_LIST_VALUES} values in the list`)
    return value.map((item) => parseScalar(item, where))
  }
  if (Array.isArray(value)) {
    if (operator === 'child_of' || operator === 'parent_of') return value.map((item) => parseScalar(item, where))
    fail(`${where}: operator '${operator}' takes a single value, not a list (use 'in' for lists)`)
  }
  return parseScalar(value, where)
}

function parseScalar(value: unknown, where: string): DomainScalar {
  if (value === null || typeof value === 'boolean') return value
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) fail(`${where}: numbers must be finite`)
    return value
  }
  if (typeof value === 'string') {
    if (value.length > MAX_STRING_VALUE) fail(`${where}: string values are limited to ${MAX_STRING_VALUE} characters`)
    return value
  }
  fail(`${where}: values must be strings, numbers, booleans or null (lists only with 'in'/'not in')`)
}

/**
 * Parses and validates a domain.
 * @throws ToolError (`invalid_domain`) naming the offending term and its position.
 */
export function parseDomain(input: unknown): ParsedDomain {
  if (input === undefined || input === null) return { terms: [], tree: null }
  return parseLevel(input, { terms: 0 }, 0, '')
}

/**
 * One level of a domain: the top level, or the sub-domain of an `any` leaf (`context` names where it sits, for
 * messages). `budget` counts terms across all levels, so nesting cannot multiply the size limit.
 */
function parseLevel(input: unknown, budget: { terms: number }, depth: number, context: string): ParsedDomain {
  if (!Array.isArray(input)) {
    fail(`${context}a domain must be a JSON array of conditions, e.g. [["state", "=", "sale"]]`)
  }
  budget.terms += input.length
  if (budget.terms > MAX_DOMAIN_TERMS) fail(`more than ${MAX_DOMAIN_TERMS} terms`)
  if (input.length === 0) return { terms: [], tree: null }

  const terms: unknown[] = []
  const nodes: (DomainNode | '&' | '|' | '!')[] = []
  input.forEach((term, index) => {
    const where = `${context}term ${index + 1} (${describe(term)})`
    if (term === '&' || term === '|' || term === '!') {
      terms.push(term)
      nodes.push(term)
      return
    }
    if (typeof term === 'string') fail(`${where}: unknown logical operator; use '&', '|' or '!'`)
    if (!Array.isArray(term) || term.length !== 3) {
      fail(`${where}: a condition must be a [field, operator, value] triple`)
    }
    const [field, operator, value] = term as [unknown, unknown, unknown]
    const path = parseFieldPath(field, where)
    if (typeof operator !== 'string' || !OPERATOR_SET.has(operator.toLowerCase())) {
      fail(`${where}: unknown operator ${describe(operator)}; allowed: ${DOMAIN_OPERATORS.join(', ')}`)
    }
    const normalized = operator.toLowerCase() === '<>' ? '!=' : (operator.toLowerCase() as DomainOperator)
    if (SUBDOMAIN_OPERATORS.has(normalized)) {
      if (depth + 1 > MAX_SUBDOMAIN_DEPTH) fail(`${where}: '${normalized}' sub-domains are nested deeper than ${MAX_SUBDOMAIN_DEPTH} levels`)
      const sub = parseLevel(value, budget, depth + 1, `in the '${normalized}' of '${path.join('.')}': `)
      terms.push([field, normalized, sub.terms])
      nodes.push({ kind: 'leaf', path, operator: normalized, value: sub.terms, subdomain: sub.tree, position: index + 1 })
      return
    }
    const parsedValue = parseValue(value, normalized, where)
    terms.push([field, normalized, parsedValue])
    nodes.push({ kind: 'leaf', path, operator: normalized, value: parsedValue, position: index + 1 })
  })

  // Evaluate the prefix notation right to left with a stack, as Odoo does; a missing operand is an arity error.
  const stack: DomainNode[] = []
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i]!
    if (node === '!') {
      const operand = stack.pop()
      if (!operand) fail(`${context}term ${i + 1} ('!') has no condition to negate`)
      stack.push({ kind: 'not', operand })
    } else if (node === '&' || node === '|') {
      const left = stack.pop()
      const right = stack.pop()
      if (!left || !right) fail(`${context}term ${i + 1} ('${node}') needs two operands after it`)
      stack.push({ kind: node === '&' ? 'and' : 'or', operands: [left, right] })
    } else {
      stack.push(node)
    }
  }
  // Several top-level trees are joined by an implicit '&', as in Odoo.
  const tree: DomainNode = stack.length === 1 ? stack[0]! : { kind: 'and', operands: stack.reverse() }
  return { terms, tree }
}

/** Every leaf of a domain tree, in order (the leaves of `any` sub-domains are not included: they are on another model). */
export function domainLeaves(tree: DomainNode | null): DomainLeaf[] {
  if (!tree) return []
  if (tree.kind === 'leaf') return [tree]
  if (tree.kind === 'not') return domainLeaves(tree.operand)
  return tree.operands.flatMap(domainLeaves)
}
