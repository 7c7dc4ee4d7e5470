/**
 * Values to create or write under record filters (the rules are in guard/record-scope.ts):
 *
 * - create on a filtered model must leave the new record inside F(model): fields the filter pins and the values omit
 *   are set to the pinned value, then the filter is evaluated on the values; undecidable is refused, never guessed;
 * - write may not change a field F(model) reads (it would move records across the filter's edge);
 * - a many2one value, or an x2many command naming ids (2 delete, 3 unlink, 4 link), into a filtered model must name
 *   records inside its filter: listed in `within`, checked against Odoo before the write;
 * - x2many commands that touch related records the call does not name (5 clear, 6 set, a bare id list, `false`) or
 *   that create or update them (0, 1) into a filtered model are refused: they would reach records the filter hides,
 *   or put new ones outside it. Values nested in commands 0 / 1 into other models are checked the same way.
 *
 * Runs after values-check.ts, which has refused everything the policy does not allow; the shapes here are valid.
 */
import { commandCode } from './values-check'
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
): Promise<{ values: Record<string, unknown>; within: ScopedIds[] }> {
  const wanted = new Map<string, Set<number>>()
  const want = (target: string, ids: number[]) => {
    const set = wanted.get(target) ?? new Set<number>()
    for (const id of ids) set.add(id)
    wanted.set(target, set)
  }

  async function checkOwnFilter(model: string, operation: 'create' | 'write', given: Record<string, unknown>): Promise<Record<string, unknown>> {
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

  const checked = await walk(model, operation === 'create' ? 'create' : 'write', values)
  const within: ScopedIds[] = []
  for (const [target, ids] of wanted) {
    const filter = await scope.filterOf(target)
    if (filter) within.push({ model: target, ids: [...ids], filter: toTerms(filter) })
  }
  return { values: checked, within }
}
