/**
 * Search domains under a policy. Each condition is allowed only in a form whose meaning is understood: the field
 * types an operator may be used on, and every value Odoo reads to decide it. A field path reads each field it
 * passes through; a relational condition compared with ids reads only those ids; a text value on a relational or
 * `id` condition runs a name search on the target model; `child_of` / `parent_of` walk the target model's parent
 * field; `any` / `not any` read their sub-domain on the related model. Anything else is refused with a message that
 * names the condition.
 */
import type { DomainLeaf, DomainNode, DomainOperator } from '../domain/domain'
import type { FieldInfo } from '../odoo/metadata'
import { denied, maskedNote, RELATIONAL_TYPES, X2MANY_TYPES, type PolicyView } from './visibility'

const EQUALITY: readonly DomainOperator[] = ['=', '!=', '=?', 'in', 'not in']
const ORDERING: readonly DomainOperator[] = ['<', '>', '<=', '>=']
const PATTERN: readonly DomainOperator[] = ['like', 'not like', 'ilike', 'not ilike', '=like', '=ilike']
const HIERARCHY: readonly DomainOperator[] = ['child_of', 'parent_of']
const SUBDOMAIN: readonly DomainOperator[] = ['any', 'not any']

/** Operators each kind of field may be compared with (relational fields and `id` are handled apart). */
const OPERATORS_BY_TYPE: Record<string, readonly DomainOperator[]> = {
  char: [...EQUALITY, ...ORDERING, ...PATTERN],
  text: [...EQUALITY, ...ORDERING, ...PATTERN],
  html: [...EQUALITY, ...PATTERN],
  selection: [...EQUALITY, ...ORDERING, ...PATTERN],
  integer: [...EQUALITY, ...ORDERING],
  float: [...EQUALITY, ...ORDERING],
  monetary: [...EQUALITY, ...ORDERING],
  date: [...EQUALITY, ...ORDERING],
  datetime: [...EQUALITY, ...ORDERING],
  boolean: EQUALITY,
  // Only "is set / is not set" (e.g. has an image).
  binary: ['=', '!='],
}

/** Whether a condition's value holds text (a name to search) rather than ids or an empty value. */
function hasText(value: unknown): boolean {
  return Array.isArray(value) ? value.some((item) => typeof item === 'string') : typeof value === 'string'
}

/** What one domain reaches: the models whose records it reads (for the `active_test` rule). */
export interface DomainReach {
  models: Set<string>
}

export function createDomainChecker(view: PolicyView) {
  /** A leaf's path, hop by hop: the model each field is on, ending with the last field's metadata. */
  async function walkPath(model: string, leaf: DomainLeaf, reach: DomainReach): Promise<{ model: string; field: string; info: FieldInfo | undefined }> {
    const path = leaf.path
    let current = model
    for (let i = 0; i < path.length; i++) {
      const field = path[i]!
      const where = path.length > 1 ? ` as '${path.join('.')}'` : ''
      view.requireOperation(current, 'read', i > 0 ? `'${path.slice(0, i).join('.')}' in the domain` : undefined)
      reach.models.add(current)
      if (!(await view.fieldVisible(current, field))) {
        denied(
          `Field '${field}' of model '${current}' is not allowed for this API key (used in the domain${where}; ` +
            `filtering, sorting or grouping on a field reveals its value)${maskedNote(view, current, field)}.`,
          { kind: 'field', model: current, fields: [field], where: `the domain${where}` },
        )
      }
      const info = (await view.fieldsOf(current))[field]
      if (i === path.length - 1) return { model: current, field, info }
      if (!info?.relation || !RELATIONAL_TYPES.has(info.type)) {
        denied(`Invalid path '${path.join('.')}' in the domain: '${field}' of model '${current}' is not a relational field.`)
      }
      current = info.relation
    }
    throw new Error('unreachable: a domain path has at least one field')
  }

  function requireNameSearch(target: string, condition: string, reach: DomainReach): void {
    // A name search reads the target's records (archived ones too under active_test: false).
    reach.models.add(target)
    // A target the key may not read at all is refused as that (a model refusal, which alerts as model_denied).
    view.requireOperation(target, 'read', condition)
    if (view.nameSearchAllowed(target)) return
    denied(
      `${condition} runs Odoo's name search on '${target}', which also matches fields this API key may not see ` +
        `(it needs "fields": "*" on '${target}'). Compare with record ids instead, or filter on an allowed field ` +
        `through a dotted path such as 'partner_id.name'.`,
    )
  }

  /**
   * child_of / parent_of on `target`: Odoo walks its parent field (`_parent_name`, which fields_get does not name).
   * Every many2one of the model to itself must be visible, so whichever is the parent field, the walk reads only
   * what the key sees.
   */
  async function requireHierarchy(target: string, condition: string, reach: DomainReach): Promise<void> {
    view.requireOperation(target, 'read', condition)
    reach.models.add(target)
    const fields = await view.fieldsOf(target)
    const parents = Object.entries(fields).filter(([, info]) => info.type === 'many2one' && info.relation === target)
    if (parents.length === 0) denied(`${condition}: model '${target}' has no parent field, so child_of and parent_of cannot be used on it.`)
    for (const [name] of parents) {
      if (!(await view.fieldVisible(target, name))) {
        denied(
          `${condition} walks the hierarchy of '${target}' through its parent field, and field '${name}' of '${target}' ` +
            'is not allowed for this API key.',
          { kind: 'field', model: target, fields: [name], where: 'a child_of / parent_of condition of the domain' },
        )
      }
    }
  }

  async function checkLeaf(model: string, leaf: DomainLeaf, reach: DomainReach): Promise<void> {
    const { model: owner, field, info } = await walkPath(model, leaf, reach)
    const op = leaf.operator
    const condition = `Condition '${leaf.path.join('.')} ${op}'`
    const text = !SUBDOMAIN.includes(op) && hasText(leaf.value)

    if (field === 'id') {
      if (HIERARCHY.includes(op)) await requireHierarchy(owner, condition, reach)
      else if (![...EQUALITY, ...ORDERING].includes(op)) denied(`${condition}: operator '${op}' cannot be used on 'id'.`)
      if (text) requireNameSearch(owner, `${condition} with a text value`, reach)
      return
    }
    if (field === 'display_name') {
      if (![...EQUALITY, ...PATTERN].includes(op)) denied(`${condition}: operator '${op}' cannot be used on 'display_name'.`)
      requireNameSearch(owner, condition, reach)
      return
    }
    if (!info) denied(`${condition}: field '${field}' does not exist on model '${owner}'.`)
    if (RELATIONAL_TYPES.has(info.type) && info.relation) {
      const target = info.relation
      // Even compared with ids, a one2many / many2many condition searches the related records (archived ones left
      // out unless active_test is false); a many2one compares its own column.
      if (X2MANY_TYPES.has(info.type)) reach.models.add(target)
      if (SUBDOMAIN.includes(op)) {
        view.requireOperation(target, 'read', `'${leaf.path.join('.')} ${op}' in the domain`)
        await checkTree(target, leaf.subdomain ?? null, reach)
      } else if (HIERARCHY.includes(op)) {
        await requireHierarchy(target, condition, reach)
        if (text) requireNameSearch(target, `${condition} with a text value`, reach)
      } else if (EQUALITY.includes(op) || PATTERN.includes(op)) {
        // Ids (or false) compare the visible value itself; text (and any pattern) is a name search on the target.
        if (text || PATTERN.includes(op)) requireNameSearch(target, `${condition} with a text value`, reach)
      } else {
        denied(`${condition}: operator '${op}' cannot be used on a ${info.type} field; use =, !=, in, not in, child_of, parent_of or any.`)
      }
      return
    }
    const allowed = OPERATORS_BY_TYPE[info.type]
    if (!allowed) denied(`${condition}: fields of type '${info.type}' cannot be used in a domain with this gateway.`)
    if (!allowed.includes(op)) {
      denied(`${condition}: operator '${op}' cannot be used on a ${info.type} field (allowed: ${allowed.join(', ')}).`)
    }
  }

  async function checkTree(model: string, tree: DomainNode | null, reach: DomainReach): Promise<void> {
    reach.models.add(model)
    if (!tree) return
    if (tree.kind === 'leaf') return checkLeaf(model, tree, reach)
    if (tree.kind === 'not') return checkTree(model, tree.operand, reach)
    for (const operand of tree.operands) await checkTree(model, operand, reach)
  }

  return {
    /** Checks a domain on `model`. @returns the models it reads. @throws ToolError naming the condition refused. */
    async check(model: string, tree: DomainNode | null): Promise<DomainReach> {
      const reach: DomainReach = { models: new Set([model]) }
      await checkTree(model, tree, reach)
      return reach
    },
  }
}
