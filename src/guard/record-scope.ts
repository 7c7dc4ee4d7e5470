/**
 * Record filters applied to a call (policy version 2; the filter itself is src/policy/record-filter.ts).
 *
 * The property (docs/SECURITY.md, "Record filters"): a record the filter of its model leaves out is, to the key, a
 * record that does not exist. No answer depends on its values, on its existence, or on how many there are; no call
 * changes it. Concretely, with F(M) the resolved filter of model M:
 *
 * - a search, count or aggregate on M runs on `domain ∧ F(M)`; a read by ids becomes a search of `id in ids ∧ F(M)`
 *   (ids left out are "missing", as ids that never existed); a write or delete first checks its ids the same way and
 *   answers for ids left out exactly as for ids that do not exist;
 * - a condition reaching another model T through a dotted path, or an `any` sub-domain on T, is rewritten so that
 *   only T's records inside F(T) count: `partner_id.name ilike x` becomes `partner_id any [name ilike x ∧ F(T)]`
 *   (Odoo 17+ reads a dotted path that way too). What cannot be rewritten is refused: a name search on T (a text
 *   value on a relational condition), `child_of` / `parent_of` walking T's hierarchy, a one2many / many2many compared
 *   with ids (Odoo searches T for them); and a name search on any model with a relational field into a filtered one
 *   (its `_rec_names_search` and display name may read through it);
 * - a many2one (or group key) pointing into T comes back with its display name only when the record is inside F(T),
 *   else as its id alone (one extra Odoo search per model, only when such a value is in the answer); sorting by a
 *   many2one into T sorts by its id, never by T's order;
 * - create must leave the new record inside F(M): the filter is evaluated on the values (a field the filter pins to
 *   one value, and the values omit, is set to it); a filter the gateway cannot evaluate on values (dotted paths,
 *   `any`, `child_of`) refuses create. A write may not change a field F(M) reads. A many2one or x2many value naming
 *   a record of a filtered model must name one inside its filter.
 */
import type { DomainLeaf, DomainNode, DomainOperator, ParsedDomain } from '../domain/domain'
import { ToolError } from '../errors'
import type { PlaceholderValues } from '../policy/record-filter'
import { resolveRecordFilter } from '../policy/record-filter'
import { denied, RELATIONAL_TYPES, X2MANY_TYPES, type PolicyView } from './visibility'

/** A domain tree back to Odoo's prefix notation. */
export function toTerms(tree: DomainNode | null): unknown[] {
  if (!tree) return []
  if (tree.kind === 'leaf') {
    const value = tree.operator === 'any' || tree.operator === 'not any' ? toTerms(tree.subdomain ?? null) : tree.value
    return [[tree.path.join('.'), tree.operator, value]]
  }
  if (tree.kind === 'not') return ['!', ...toTerms(tree.operand)]
  const operator = tree.kind === 'and' ? '&' : '|'
  return [...tree.operands.slice(1).map(() => operator), ...tree.operands.flatMap(toTerms)]
}

/** `a ∧ b` as a tree (either may be `null`, every record). */
export function andTrees(a: DomainNode | null, b: DomainNode | null): DomainNode | null {
  if (!a) return b
  if (!b) return a
  return { kind: 'and', operands: [a, b] }
}

export function parsedOf(tree: DomainNode | null): ParsedDomain {
  return { terms: toTerms(tree), tree }
}

/** The same record missing or left out by a filter: one message for both, so the answer tells them apart by nothing. */
export function missingRecords(model: string, ids: number[]): never {
  throw new ToolError(
    `Record does not exist or has been deleted: ${model} ${ids.length === 1 ? 'id' : 'ids'} ${ids.slice(0, 20).join(', ')}${ids.length > 20 ? ` and ${ids.length - 20} more` : ''}.`,
    'record_not_found',
  )
}

const SUBDOMAIN: readonly DomainOperator[] = ['any', 'not any']
const HIERARCHY: readonly DomainOperator[] = ['child_of', 'parent_of']
const PATTERN: readonly DomainOperator[] = ['like', 'not like', 'ilike', 'not ilike', '=like', '=ilike']

function hasText(value: unknown): boolean {
  return Array.isArray(value) ? value.some((item) => typeof item === 'string') : typeof value === 'string'
}

export interface RecordScope {
  /** Whether `model` has a record filter for this key. */
  filtered(model: string): boolean
  /** F(model) resolved for this call, or `null` without a filter. */
  filterOf(model: string): Promise<DomainNode | null>
  /** The agent's domain on `model` (already checked by domain-check.ts) rewritten, ANDed with F(model). */
  scopeDomain(model: string, tree: DomainNode | null): Promise<ParsedDomain>
}

export function createRecordScope(view: PolicyView, placeholders: () => Promise<PlaceholderValues>): RecordScope {
  let values: Promise<PlaceholderValues> | undefined
  const resolved = new Map<string, DomainNode | null>()

  async function filterOf(model: string): Promise<DomainNode | null> {
    const filter = view.entry(model)?.filter
    if (!filter) return null
    if (resolved.has(model)) return resolved.get(model)!
    // Placeholders are resolved once per call (a scope lives for one call): $uid may need one Odoo question.
    const tree = resolveRecordFilter(filter, await (values ??= placeholders())).tree
    resolved.set(model, tree)
    return tree
  }

  function cannot(leaf: DomainLeaf, target: string, what: string, instead: string): never {
    denied(
      `Condition '${leaf.path.join('.')} ${leaf.operator}' ${what} of '${target}', and this API key sees only some records of '${target}' ` +
        `(a record filter), so it cannot be used: ${instead}.`,
    )
  }

  async function rewriteLeaf(model: string, leaf: DomainLeaf): Promise<DomainNode> {
    const fields = await view.fieldsOf(model)
    const [first, ...rest] = leaf.path
    const info = fields[first!]
    const target = info?.relation && RELATIONAL_TYPES.has(info.type) ? info.relation : undefined

    if (rest.length > 0) {
      // A dotted path: if any model after the first hop has a filter, go through `any`, one hop at a time.
      if (!target || !(await pathCrossesFilter(target, rest))) return leaf
      const inner = await rewriteLeaf(target, { ...leaf, path: rest })
      const subdomain = andTrees(inner, await filterOf(target))
      return { kind: 'leaf', path: [first!], operator: 'any', value: toTerms(subdomain), subdomain, position: leaf.position }
    }

    if (first === 'id') {
      if (HIERARCHY.includes(leaf.operator) && view.filtered(model)) cannot(leaf, model, 'walks the hierarchy', 'compare ids with = or in instead')
      return leaf
    }
    if (!target || !view.filtered(target)) {
      if (target && SUBDOMAIN.includes(leaf.operator)) {
        const subdomain = await rewriteTree(target, leaf.subdomain ?? null)
        return { ...leaf, subdomain, value: toTerms(subdomain) }
      }
      return leaf
    }
    // A relational condition into a filtered model.
    if (SUBDOMAIN.includes(leaf.operator)) {
      const subdomain = andTrees(await rewriteTree(target, leaf.subdomain ?? null), await filterOf(target))
      return { ...leaf, subdomain, value: toTerms(subdomain) }
    }
    if (HIERARCHY.includes(leaf.operator)) cannot(leaf, target, 'walks the hierarchy', `use '${first} any [...]' or compare ids with = or in`)
    if (hasText(leaf.value) || PATTERN.includes(leaf.operator)) {
      cannot(leaf, target, 'runs a name search on records', `filter through '${first} any [...]' on an allowed field, such as [["name", "ilike", ...]]`)
    }
    if (X2MANY_TYPES.has(info!.type)) {
      cannot(leaf, target, 'searches the records', `use '${first} any [["id", "in", [...]]]' (or 'not any') instead`)
    }
    return leaf // a many2one compared with ids or false compares its own column
  }

  /** Does following `path` from `model` pass through (or end in a relational field into) a filtered model? */
  async function pathCrossesFilter(model: string, path: string[]): Promise<boolean> {
    if (view.filtered(model)) return true
    let current = model
    for (const field of path.slice(0, -1)) {
      const info = (await view.fieldsOf(current))[field]
      if (!info?.relation || !RELATIONAL_TYPES.has(info.type)) return false
      current = info.relation
      if (view.filtered(current)) return true
    }
    const last = (await view.fieldsOf(current))[path.at(-1)!]
    return last?.relation !== undefined && RELATIONAL_TYPES.has(last.type) && view.filtered(last.relation)
  }

  async function rewriteTree(model: string, tree: DomainNode | null): Promise<DomainNode | null> {
    if (!tree) return null
    if (tree.kind === 'leaf') return rewriteLeaf(model, tree)
    if (tree.kind === 'not') return { kind: 'not', operand: (await rewriteTree(model, tree.operand))! }
    const operands: DomainNode[] = []
    for (const operand of tree.operands) operands.push((await rewriteTree(model, operand))!)
    return { kind: tree.kind, operands }
  }

  /**
   * Does a name search on `model` read records a filter hides? Odoo's name search matches `_rec_names_search`, which
   * may follow relations (a sale order's 'partner_id.name'), and display names composed through them (a contact's
   * 'Company, Person'): neither is in fields_get, so a name search is refused on a filtered model and on a model
   * with any relational field into one.
   */
  async function nameSearchReadsFilter(model: string): Promise<string | undefined> {
    if (view.filtered(model)) return model
    for (const info of Object.values(await view.fieldsOf(model))) {
      if (info.relation && RELATIONAL_TYPES.has(info.type) && view.filtered(info.relation)) return info.relation
    }
    return undefined
  }

  /** Refuses every name search of a domain (dotted paths and `any` sub-domains included) that would read across a filter. */
  async function checkNameSearches(model: string, tree: DomainNode | null): Promise<void> {
    if (!tree) return
    if (tree.kind === 'not') return checkNameSearches(model, tree.operand)
    if (tree.kind !== 'leaf') {
      for (const operand of tree.operands) await checkNameSearches(model, operand)
      return
    }
    let owner = model
    for (const field of tree.path.slice(0, -1)) {
      const info = (await view.fieldsOf(owner))[field]
      if (!info?.relation) return // refused elsewhere (domain-check.ts)
      owner = info.relation
    }
    const last = tree.path.at(-1)!
    const info = (await view.fieldsOf(owner))[last]
    const target = info?.relation && RELATIONAL_TYPES.has(info.type) ? info.relation : undefined
    if (SUBDOMAIN.includes(tree.operator)) {
      if (target) await checkNameSearches(target, tree.subdomain ?? null)
      return
    }
    if (target && view.filtered(target)) return // a name search on a filtered model: refused by rewriteLeaf
    const searched =
      last === 'display_name' ? owner : (last === 'id' || target) && (hasText(tree.value) || (target && PATTERN.includes(tree.operator))) ? (target ?? owner) : undefined
    if (!searched) return
    const hidden = await nameSearchReadsFilter(searched)
    if (hidden) {
      denied(
        `Condition '${tree.path.join('.')} ${tree.operator}' runs Odoo's name search on '${searched}', which may match values of '${hidden}' ` +
          `records this API key does not see (a record filter), so it cannot be used: compare ids, or filter on an allowed field such as 'name'.`,
      )
    }
  }

  return {
    filtered: (model) => view.filtered(model),
    filterOf,
    async scopeDomain(model, tree) {
      await checkNameSearches(model, tree)
      return parsedOf(andTrees(await rewriteTree(model, tree), await filterOf(model)))
    },
  }
}

/** The outcome of evaluating a filter on values: decided, or the fields it would need. */
type Verdict = { decided: true; inside: boolean } | { decided: false; reason: string }

const COMPARABLE: readonly DomainOperator[] = ['=', '!=', '=?', 'in', 'not in', '<', '>', '<=', '>=']

/**
 * Fields a filter pins to one value in its top-level conjunction (`f = v`, or `f in [v, ...]`: the first), which a
 * create that omits them is given (Odoo's own default for company_id is the first allowed company too).
 */
export function pinnedValues(tree: DomainNode | null): Record<string, unknown> {
  const pinned: Record<string, unknown> = {}
  for (const node of conjuncts(tree)) {
    if (node.kind !== 'leaf' || node.path.length !== 1) continue
    const field = node.path[0]!
    if (node.operator === '=' && node.value !== false && node.value !== null) pinned[field] ??= node.value
    if (node.operator === 'in' && Array.isArray(node.value) && node.value.length > 0) pinned[field] ??= node.value[0]
  }
  return pinned
}

/** The top-level conjunction of a domain, nested ANDs flattened (`a ∧ (b ∧ c)` is a, b, c). */
export function conjuncts(tree: DomainNode | null): DomainNode[] {
  if (!tree) return []
  return tree.kind === 'and' ? tree.operands.flatMap(conjuncts) : [tree]
}

/** Is a record with `values` inside the filter? Only leaves on the record's own scalar or many2one fields decide. */
export function evaluateOnValues(tree: DomainNode | null, values: Record<string, unknown>): Verdict {
  if (!tree) return { decided: true, inside: true }
  if (tree.kind === 'not') {
    const inner = evaluateOnValues(tree.operand, values)
    return inner.decided ? { decided: true, inside: !inner.inside } : inner
  }
  if (tree.kind !== 'leaf') {
    const results = tree.operands.map((operand) => evaluateOnValues(operand, values))
    const undecided = results.find((result) => !result.decided)
    if (undecided) return undecided
    const insides = results.map((result) => (result as { inside: boolean }).inside)
    return { decided: true, inside: tree.kind === 'and' ? insides.every(Boolean) : insides.some(Boolean) }
  }
  const field = tree.path.join('.')
  if (tree.path.length !== 1 || !COMPARABLE.includes(tree.operator)) {
    return { decided: false, reason: `its condition on '${field}' (${tree.operator}) cannot be checked on values` }
  }
  if (!Object.hasOwn(values, field)) return { decided: false, reason: `it needs '${field}' in the values` }
  return { decided: true, inside: compare(normalize(values[field]), tree.operator, tree.value) }
}

/** A value as a filter compares it: a many2one given as [id, name] is its id; null is false. */
function normalize(value: unknown): unknown {
  if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'number') return value[0]
  return value === null || value === undefined ? false : value
}

function compare(value: unknown, operator: DomainOperator, expected: unknown): boolean {
  const same = (a: unknown, b: unknown) => (b === null ? a === false : a === b)
  switch (operator) {
    case '=':
      return same(value, expected)
    case '!=':
      return !same(value, expected)
    case '=?':
      return expected === false || expected === null || same(value, expected)
    case 'in':
      return Array.isArray(expected) && expected.some((item) => same(value, item))
    case 'not in':
      return !(Array.isArray(expected) && expected.some((item) => same(value, item)))
    default: {
      // Ordering: both numbers, or both strings (dates compare as ISO text, as in SQL); anything else is outside.
      const bothNumbers = typeof value === 'number' && typeof expected === 'number'
      const bothStrings = typeof value === 'string' && typeof expected === 'string'
      if (!bothNumbers && !bothStrings) return false
      const a = value as number | string
      const b = expected as number | string
      return operator === '<' ? a < b : operator === '>' ? a > b : operator === '<=' ? a <= b : a >= b
    }
  }
}

/** Fields of the model itself a filter reads (the first hop of each path, `any` included). */
export function filterFields(tree: DomainNode | null): Set<string> {
  const fields = new Set<string>()
  const walk = (node: DomainNode | null) => {
    if (!node) return
    if (node.kind === 'leaf') fields.add(node.path[0]!)
    else if (node.kind === 'not') walk(node.operand)
    else node.operands.forEach(walk)
  }
  walk(tree)
  return fields
}
