/**
 * Values to create or write under record filters (the rules are in guard/record-scope.ts):
 *
 * - create on a filtered model must leave the new record inside F(model): fields the filter pins and the values omit
 *   are set to the pinned value, then the filter is evaluated on the values; undecidable is refused, never guessed;
 * - write may not change a field F(model) reads (it would move records across the filter's edge), nor a field of
 *   another model a filter reads through a relation; create may not add records a filter counts through a one2many;
 * - a related field whose path goes through a filtered model is refused: Odoo writes the record at the end of the
 *   path, which may be one the filter hides;
 * - a many2one value, or an x2many command naming ids (2 delete, 3 unlink, 4 link), into a filtered model must name
 *   records inside its filter: listed in `within`, checked against Odoo before the write;
 * - x2many commands that touch related records the call does not name (5 clear, 6 set, a bare id list, `false`) or
 *   that create or update them (0, 1) into a filtered model are refused: they would reach records the filter hides,
 *   or put new ones outside it. Values nested in commands 0 / 1 into other models are checked the same way.
 *
 * Runs after values-check.ts, which has refused everything the policy does not allow; the shapes here are valid.
 */
import { commandCode } from './values-check'
import type { DomainNode } from '../domain/domain'
import { evaluateOnValues, filterFields, pinnedValues, toTerms, type RecordScope } from './record-scope'
import type { Operation, ScopedIds } from './request'
import { denied, RELATIONAL_TYPES, X2MANY_TYPES, type PolicyView } from './visibility'

const isId = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value > 0

export async function scopeValues(
  view: PolicyView,
  scope: RecordScope,
  model: string,
  operation: Operation,
  values: Record<string, unknown>,
  filteredModels: readonly string[] = [],
): Promise<{ values: Record<string, unknown>; within: ScopedIds[] }> {
  const crossing = await filterReads(view, scope, filteredModels)
  const wanted = new Map<string, Set<number>>()
  const want = (target: string, ids: number[]) => {
    const set = wanted.get(target) ?? new Set<number>()
    for (const id of ids) set.add(id)
    wanted.set(target, set)
  }

  async function checkOwnFilter(model: string, operation: 'create' | 'write', given: Record<string, unknown>): Promise<Record<string, unknown>> {
    for (const field of operation === 'write' ? Object.keys(given) : []) {
      const decides = crossing.fields.get(`${model}.${field}`)
      if (decides) {
        denied(
          `Field '${field}' of model '${model}' decides which records of '${decides}' this API key may reach (its record filter ` +
            'reads it through a relation), so this key cannot write it.',
        )
      }
    }
    const counted = operation === 'create' ? crossing.counted.get(model) : undefined
    if (counted) {
      denied(`A new '${model}' record could decide which records of '${counted}' this API key may reach (its record filter reads them), so this key cannot create one.`)
    }
    const filter = await scope.filterOf(model)
    if (!filter) return given
    if (operation === 'write') {
      const decisive = Object.keys(given).filter((field) => filterFields(filter).has(field))
      if (decisive.length > 0) {
        denied(
          `Field '${decisive[0]}' of model '${model}' decides which records this API key may reach (its record filter), ` +
            'so this key cannot write it.',
        )
      }
      return given
    }
    const complete = { ...pinnedValues(filter), ...given }
    const verdict = evaluateOnValues(filter, complete)
    if (!verdict.decided) {
      denied(`This API key may create '${model}' records only inside its record filter, and ${verdict.reason}; set it explicitly (or ask an administrator about the filter).`)
    }
    if (!verdict.inside) denied(`These values would put the new '${model}' record outside this API key's record filter, so it is not created.`)
    return complete
  }

  async function walk(model: string, operation: 'create' | 'write', given: Record<string, unknown>): Promise<Record<string, unknown>> {
    const complete = await checkOwnFilter(model, operation, given)
    const fields = await view.fieldsOf(model)
    for (const [field, value] of Object.entries(given)) {
      const info = fields[field]
      const through = typeof info?.related === 'string' && info.related ? await relatedCrossesFilter(model, info.related) : undefined
      if (through) {
        denied(
          `Field '${field}' of model '${model}' mirrors '${info!.related}', which writes a record of '${through}', and this API key sees only some ` +
            `records of '${through}' (a record filter), so it cannot write it; write '${through}' with its own tools.`,
        )
      }
      if (!info?.relation || !RELATIONAL_TYPES.has(info.type)) continue
      const target = info.relation
      const filteredTarget = scope.filtered(target)
      if (!X2MANY_TYPES.has(info.type)) {
        if (filteredTarget && isId(value)) want(target, [value])
        continue
      }
      const refuse = (what: string) =>
        denied(
          `'${field}' of '${model}': ${what} records of '${target}', and this API key sees only some of them (a record filter). ` +
            `Name the records with commands 2, 3 or 4 (e.g. [[4, id]]), or change '${target}' records with its own tools.`,
        )
      if (!Array.isArray(value) || value.length === 0 || value.every(isId)) {
        if (filteredTarget) refuse('replacing the list rewrites')
        continue
      }
      for (const command of value as unknown[][]) {
        const code = commandCode(command[0])
        if (code === 0 || code === 1) {
          if (filteredTarget) refuse(code === 0 ? 'command 0 creates' : 'command 1 updates')
          const nested = command[2] as Record<string, unknown>
          command[2] = await walk(target, code === 0 ? 'create' : 'write', nested)
        } else if (code === 2 || code === 3 || code === 4) {
          if (filteredTarget && isId(command[1])) want(target, [command[1]])
        } else if (filteredTarget) {
          refuse(`command ${code} rewrites`)
        }
      }
    }
    return complete
  }

  /** The filtered model a related field's path goes through (Odoo writes the record at its end), if any. */
  async function relatedCrossesFilter(model: string, related: string, seen: ReadonlySet<string> = new Set()): Promise<string | undefined> {
    let current = model
    for (const hop of related.split('.').slice(0, -1)) {
      const info = (await view.fieldsOf(current))[hop]
      if (!info?.relation || !RELATIONAL_TYPES.has(info.type)) return undefined // refused by values-check.ts
      current = info.relation
      if (scope.filtered(current)) return current
    }
    // A related field at the end of the path writes on in turn.
    const last = (await view.fieldsOf(current))[related.split('.').at(-1)!]?.related
    const key = `${current}.${related}`
    return typeof last === 'string' && last && !seen.has(key) ? relatedCrossesFilter(current, last, new Set([...seen, key])) : undefined
  }

  const checked = await walk(model, operation === 'create' ? 'create' : 'write', values)
  const within: ScopedIds[] = []
  for (const [target, ids] of wanted) {
    const filter = await scope.filterOf(target)
    if (filter) within.push({ model: target, ids: [...ids], filter: toTerms(filter) })
  }
  return { values: checked, within }
}

/**
 * What other records' values decide record filters: `fields` ('model.field' → the filtered model) a filter reads
 * through a dotted path or an `any` (the link back of a one2many hop included), and `counted` models whose records a
 * filter reads through a one2many / many2many hop (a new one may move a record across the filter).
 */
export async function filterReads(view: PolicyView, scope: RecordScope, filteredModels: readonly string[]) {
  const fields = new Map<string, string>()
  const counted = new Map<string, string>()
  const walk = async (owner: string, model: string, node: DomainNode | null, nested: boolean): Promise<void> => {
    if (!node) return
    if (node.kind === 'not') return walk(owner, model, node.operand, nested)
    if (node.kind !== 'leaf') {
      for (const operand of node.operands) await walk(owner, model, operand, nested)
      return
    }
    let current = model
    for (const [index, name] of node.path.entries()) {
      if (nested || index > 0) fields.set(`${current}.${name}`, owner)
      const info = (await view.fieldsOf(current))[name]
      if (!info?.relation || !RELATIONAL_TYPES.has(info.type)) return
      if (X2MANY_TYPES.has(info.type) && (index < node.path.length - 1 || node.operator === 'any' || node.operator === 'not any')) {
        counted.set(info.relation, owner)
        if (info.relation_field) fields.set(`${info.relation}.${info.relation_field}`, owner)
      }
      if (index === node.path.length - 1 && (node.operator === 'any' || node.operator === 'not any')) await walk(owner, info.relation, node.subdomain ?? null, true)
      current = info.relation
    }
  }
  for (const model of filteredModels) await walk(model, model, await scope.filterOf(model), false)
  return { fields, counted }
}
