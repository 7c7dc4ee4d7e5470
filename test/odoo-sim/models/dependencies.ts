// What a field's value is computed from, for tests that need to know which stored values a visible field reveals
// (the non-interference property suite): Odoo's `@api.depends` of computed fields, the path of related fields, the
// display name's dependencies, transitively expanded to stored fields.
//
// Paths are dotted, from the model: 'name', 'parent_id.name', 'order_line.price_unit'. A one2many step (or a
// many2many read from the other side, like res.groups.users) also stands for the comodel's inverse field on every
// comodel record: which records are in it. A recursive dependency (complete_name on 'parent_id.complete_name',
// commercial_partner_id on 'parent_id.commercial_partner_id') is unrolled once, then cut: the paths name every
// stored column the value reads, not every ancestor (dependencyCells gives the exact cells on given data).
import type { Db } from '../db'
import type { Registry, RuntimeField, RuntimeModel } from './index'

/** How many times one (model, field) may appear in an expansion before it is cut (2: unrolled once). */
const MAX_REPEAT = 2

function model(registry: Registry, name: string): RuntimeModel {
  const found = registry.get(name)
  if (!found) throw new Error(`unknown model ${name}`)
  return found
}

function fieldOf(m: RuntimeModel, name: string): RuntimeField {
  const found = m.field(name) ?? m.fields.find((f) => f.column === name)
  if (!found) throw new Error(`unknown field ${m.name}.${name}`)
  return found
}

function isRelational(field: RuntimeField): boolean {
  return field.type === 'many2one' || field.type === 'one2many' || field.type === 'many2many'
}

/** A one2many, or a many2many mirrored from the comodel: its value is the comodel records whose inverse points here. */
function isInverseView(field: RuntimeField): boolean {
  return !field.compute && field.inverseName !== undefined && (field.type === 'one2many' || field.type === 'many2many')
}

/** The declared dependencies of a computed field or of display_name (one level, not expanded). */
export function declaredDependencies(m: RuntimeModel, field: RuntimeField): readonly string[] | null {
  if (field.name === 'display_name') return m.displayNameDepends ?? [m.recName]
  if (!field.compute) return null
  if (!field.depends) throw new Error(`${m.name}.${field.name} is computed but declares no depends`)
  return field.depends
}

function expandField(
  registry: Registry,
  m: RuntimeModel,
  name: string,
  prefix: string,
  stack: readonly string[],
): string[] {
  const field = fieldOf(m, name)
  const declared = declaredDependencies(m, field)
  if (declared === null) return [`${prefix}${field.name}`]
  const key = `${m.name}.${field.name}`
  if (stack.filter((k) => k === key).length >= MAX_REPEAT) return prefix ? [prefix.slice(0, -1)] : []
  const inner = [...stack, key]
  return declared.flatMap((path) => expandPath(registry, m, path, prefix, inner))
}

function expandPath(
  registry: Registry,
  m: RuntimeModel,
  path: string,
  prefix: string,
  stack: readonly string[],
): string[] {
  const [first = '', ...rest] = path.split('.')
  if (rest.length === 0) return expandField(registry, m, first, prefix, stack)
  const field = fieldOf(m, first)
  if (!isRelational(field)) throw new Error(`${m.name}.${path}: ${first} is not relational`)
  // Reading through the step reads the step itself (a related or computed step: what it is computed from).
  const own = expandField(registry, m, first, prefix, stack)
  if (field.related) return [...own, ...expandPath(registry, m, `${field.related}.${rest.join('.')}`, prefix, stack)]
  const comodel = model(registry, field.relation ?? '')
  return [...own, ...expandPath(registry, comodel, rest.join('.'), `${prefix}${field.name}.`, stack)]
}

/** Removes duplicates and the paths another path extends ('parent_id' when 'parent_id.name' is there). */
function tidy(paths: string[]): string[] {
  const unique = [...new Set(paths)]
  return unique.filter((path) => !unique.some((other) => other !== path && other.startsWith(`${path}.`)))
}

/**
 * The stored dotted paths the value of `fieldName` on `modelName` is computed from: for 'display_name', the
 * display name's dependencies; for a related field, its path; for a computed field, its `depends`; each expanded
 * until only stored fields (and one2many steps, see above) remain. A stored field that is not computed (and a
 * one2many) depends on itself: [fieldName].
 */
export function dependenciesOf(registry: Registry, modelName: string, fieldName: string): string[] {
  const m = model(registry, modelName)
  return tidy(expandField(registry, m, fieldName, '', []))
}

/**
 * The stored columns ('model.column', the storage key) the value of `fieldName` reads, on any record: the columns
 * along every path of dependenciesOf, a one2many step standing for its comodel's inverse column.
 */
export function dependencyColumns(registry: Registry, modelName: string, fieldName: string): string[] {
  const columns = new Set<string>()
  for (const path of dependenciesOf(registry, modelName, fieldName)) {
    let current = model(registry, modelName)
    for (const name of path.split('.')) {
      const field = fieldOf(current, name)
      if (isInverseView(field)) {
        const comodel = model(registry, field.relation ?? '')
        columns.add(`${comodel.name}.${fieldOf(comodel, field.inverseName ?? '').column}`)
      } else if (!field.compute && field.store !== false) {
        columns.add(`${current.name}.${field.column}`)
      }
      if (field.relation) current = model(registry, field.relation)
    }
  }
  return [...columns].sort()
}

/** A stored cell: `model,id,column`; `model,*,column` is the column on every record (a one2many's inverse). */
export type Cell = string

/**
 * The stored cells the value of `fieldName` on record `id` reads in `db`'s current data: the declared dependencies
 * followed through the actual relational values, computed fields expanded (recursion ends on the data).
 */
export function dependencyCells(db: Db, modelName: string, id: number, fieldName: string): Set<Cell> {
  const cells = new Set<Cell>()
  const visited = new Set<string>()
  const visitField = (m: RuntimeModel, recordId: number, name: string): void => {
    const field = fieldOf(m, name)
    const key = `${m.name},${recordId},${field.name}`
    if (visited.has(key)) return
    visited.add(key)
    if (field.name === 'id') return
    const declared = declaredDependencies(m, field)
    if (declared !== null) {
      for (const path of declared) visitPath(m, recordId, path)
      return
    }
    if (isInverseView(field)) {
      const comodel = model(db.registry, field.relation ?? '')
      cells.add(`${comodel.name},*,${fieldOf(comodel, field.inverseName ?? '').column}`)
      return
    }
    cells.add(`${m.name},${recordId},${field.column}`)
  }
  const visitPath = (m: RuntimeModel, recordId: number, path: string): void => {
    const [first = '', ...rest] = path.split('.')
    visitField(m, recordId, first)
    if (rest.length === 0) return
    const field = fieldOf(m, first)
    const record = db.get(m.name, recordId)
    if (!record) return
    const value = db.value(m, record, field)
    const targets = typeof value === 'number' ? [value] : Array.isArray(value) ? value : []
    const comodel = model(db.registry, field.relation ?? '')
    for (const target of targets) if (db.get(comodel.name, target)) visitPath(comodel, target, rest.join('.'))
  }
  visitField(model(db.registry, modelName), id, fieldName)
  return cells
}
