/**
 * The sort order sent to Odoo, so that the rank of a record never depends on a value the key may not see.
 *
 * Odoo sorts by more than it is asked: no order means the model's `_order` (product.product sorts by
 * `default_code`), and a many2one term sorts by the related model's `_order` (sale orders "by salesperson" come in
 * the order of the users' names). Each search therefore gets an explicit order: the requested terms, or the model's
 * default order with the terms the key may not see left out; a many2one whose related model does not sort by
 * visible fields is sorted by its raw id (`partner_id.id`, which Odoo does not expand); and `id` last, so that ties
 * (and pages) are decided by a visible value too. A many2one into a model with a record filter always sorts by id:
 * the related record may be one the filter hides. Group orders follow the same rule with an aggregate
 * (`partner_id:min`, the group's id) in place of `.id`.
 */
import { ToolError } from '../errors'
import { parseOrder, type GroupBySpec, type OrderTerm } from '../domain/query-parts'
import { denied, X2MANY_TYPES, type PolicyView } from './visibility'

/** How deep a many2one order is followed into related models' orders before giving up (Odoo stops at cycles). */
const MAX_ORDER_DEPTH = 4

function termText(term: OrderTerm, field = term.field): string {
  return `${field} ${term.direction}${term.nulls ? ` nulls ${term.nulls}` : ''}`
}

export function createOrderPlanner(view: PolicyView) {
  /** A model's default order as terms, or `null` when it is unknown or not in the form the gateway understands. */
  async function defaultTerms(model: string): Promise<OrderTerm[] | null> {
    const text = (await view.metadata.defaultOrderOf?.(model)) ?? null
    if (text === null) return null
    try {
      return parseOrder(text).terms
    } catch (error) {
      if (error instanceof ToolError) return null
      throw error
    }
  }

  /**
   * Does sorting by a many2one to `model` rank by visible values only? It sorts by `model`'s default order, each of
   * whose terms must be visible (many2one terms in turn, up to MAX_ORDER_DEPTH; Odoo skips a many2one it already
   * follows, so a cycle adds nothing).
   */
  async function ranksByVisible(model: string, following: ReadonlySet<string>): Promise<boolean> {
    // A record filter hides some of `model`'s records: their values must not rank the records that point to them.
    if (!view.may(model, 'read') || view.filtered(model)) return false
    const terms = await defaultTerms(model)
    if (!terms) return false
    const fields = await view.fieldsOf(model)
    for (const term of terms) {
      if (term.field === 'id') continue
      const info = fields[term.field]
      if (!info || !(await view.fieldVisible(model, term.field)) || X2MANY_TYPES.has(info.type)) return false
      if (info.type === 'many2one' && info.relation) {
        const key = `${model}.${term.field}`
        if (following.has(key)) continue
        if (following.size >= MAX_ORDER_DEPTH || !(await ranksByVisible(info.relation, new Set([...following, key])))) return false
      }
    }
    return true
  }

  return {
    /**
     * The order for a search of `model`: `requested` terms (already checked to be visible by the caller), or the
     * default order's visible terms. @throws ToolError for a requested term Odoo cannot sort by.
     */
    async searchOrder(model: string, requested: OrderTerm[]): Promise<string> {
      const fields = await view.fieldsOf(model)
      const fromRequest = requested.length > 0
      const terms = fromRequest ? requested : ((await defaultTerms(model)) ?? [])
      const parts: string[] = []
      for (const term of terms) {
        const info = term.field === 'id' ? undefined : fields[term.field]
        if (term.field === 'id' || (!info && fromRequest)) {
          // `id`; or a requested field fields_get does not know, sent as asked so that Odoo names the mistake.
          parts.push(termText(term))
          continue
        }
        if (!info || X2MANY_TYPES.has(info.type) || !(await view.fieldVisible(model, term.field))) {
          if (!fromRequest) continue // a default-order term the key may not see (or Odoo cannot sort by): left out
          if (info && X2MANY_TYPES.has(info.type)) denied(`Cannot sort by '${term.field}': it is a ${info.type} field.`)
          denied(`Field '${term.field}' of model '${model}' is not allowed for this API key (used in the order).`, {
            kind: 'field',
            model,
            fields: [term.field],
            where: 'the order',
          })
        }
        const byId = info.type === 'many2one' && info.relation && !(await ranksByVisible(info.relation, new Set([`${model}.${term.field}`])))
        parts.push(termText(term, byId ? `${term.field}.id` : term.field))
      }
      if (!terms.some((term) => term.field === 'id')) parts.push('id')
      return parts.join(', ')
    },

    /** The order of aggregate groups: each groupby, a many2one by its id unless its related model ranks visibly. */
    async groupOrder(model: string, groupby: GroupBySpec[]): Promise<string> {
      const fields = await view.fieldsOf(model)
      const parts: string[] = []
      for (const group of groupby) {
        const info = fields[group.field]
        const byId = info?.type === 'many2one' && info.relation && !(await ranksByVisible(info.relation, new Set([`${model}.${group.field}`])))
        parts.push(byId ? `${group.field}:min asc` : `${group.spec} asc`)
      }
      return parts.join(', ')
    },
  }
}
