// The model registry of one simulated Odoo version: fields filtered and renamed for that version, magic fields
// (display_name, create_uid, ...) appended, lookups by name prepared once.
import type { OdooVersion, StoredRecord, StoredValue } from '../types'
import { emptyValue, magicFields, type DataView, type FieldDef, type ModelDef } from './model'
import {
  irConfigParameter,
  irModel,
  resCompany,
  resCountry,
  resCurrency,
  resGroups,
  resPartner,
  resPartnerBank,
  resUsers,
} from './base'
import { hrDepartment, hrEmployee } from './hr'
import { productCategory, productProduct, saleOrder, saleOrderLine } from './sale'

export const MODEL_DEFS: readonly ModelDef[] = [
  resPartner,
  resUsers,
  resGroups,
  resCompany,
  resCountry,
  resCurrency,
  resPartnerBank,
  productProduct,
  productCategory,
  saleOrder,
  saleOrderLine,
  hrEmployee,
  hrDepartment,
  irConfigParameter,
  irModel,
]

export interface RuntimeField extends FieldDef {
  column: string
}

export interface RuntimeModel extends Omit<ModelDef, 'fields'> {
  /** Fields in definition order, `id` excluded. */
  fields: readonly RuntimeField[]
  field(name: string): RuntimeField | undefined
  hasActive: boolean
}

export type Registry = ReadonlyMap<string, RuntimeModel>

const ID_FIELD: RuntimeField = { name: 'id', column: 'id', type: 'integer', string: 'ID', readonly: true }

const DEFS_BY_NAME = new Map(MODEL_DEFS.map((def) => [def.name, def]))

/** The definition of `name` on `model` (by its definition name, or by the name it has in `version`). */
function defField(model: string, name: string, version: OdooVersion): FieldDef | undefined {
  if (name === 'id') return { name: 'id', type: 'integer', string: 'ID' }
  const declared = [...(DEFS_BY_NAME.get(model)?.fields ?? []), ...magicFields()]
  return (
    declared.find((f) => f.name === name) ?? declared.find((f) => f.renamed?.version === version && f.renamed.name === name)
  )
}

/** A dotted path written with definition names, in the names of `version` (groups_id → group_ids in 19). */
function pathIn(model: string, path: string, version: OdooVersion): string {
  const out: string[] = []
  let current: string | undefined = model
  for (const name of path.split('.')) {
    const field: FieldDef | undefined = current ? defField(current, name, version) : undefined
    out.push(field?.renamed?.version === version ? field.renamed.name : name)
    current = field?.relation
  }
  return out.join('.')
}

/** The steps of a related path: each a (model, field) pair; throws on a path the registry cannot follow. */
function relatedSteps(model: string, path: string, version: OdooVersion): { model: string; field: FieldDef }[] {
  const steps: { model: string; field: FieldDef }[] = []
  let current = model
  const names = path.split('.')
  names.forEach((name, index) => {
    const field = defField(current, name, version)
    if (!field) throw new Error(`related path ${model}.${path}: no field ${current}.${name}`)
    steps.push({ model: current, field })
    if (index < names.length - 1) {
      if (!field.relation) throw new Error(`related path ${model}.${path}: ${current}.${name} is not relational`)
      current = field.relation
    }
  })
  return steps
}

/** Odoo's _compute_related: follow the path (the first record of an x2many), read the last field. */
function relatedCompute(
  model: string,
  path: string,
  version: OdooVersion,
): { compute: (record: StoredRecord, data: DataView) => StoredValue; target: FieldDef } {
  const steps = relatedSteps(model, path, version)
  const target = (steps.at(-1) as { field: FieldDef }).field
  const compute = (record: StoredRecord, data: DataView): StoredValue => {
    let current: StoredRecord | undefined = record
    for (const [index, step] of steps.entries()) {
      if (!current) return emptyValue(target.type)
      const value = data.fieldValue(step.model, current, step.field.name)
      if (index === steps.length - 1) {
        if (value === undefined) return emptyValue(target.type)
        return typeof value === 'string' && value === '' && target.type !== 'selection' ? false : value
      }
      const next = typeof value === 'number' ? value : Array.isArray(value) ? value[0] : undefined
      current = typeof next === 'number' && next > 0 ? data.get(step.field.relation ?? '', next) : undefined
    }
    return emptyValue(target.type)
  }
  return { compute, target }
}

function buildModel(def: ModelDef, version: OdooVersion): RuntimeModel {
  const fields: RuntimeField[] = []
  const declared = new Set(def.fields.map((field) => field.name))
  // A model may redeclare a magic field (sale.order.create_date is "Creation Date").
  for (const field of [...def.fields, ...magicFields().filter((magic) => !declared.has(magic.name))]) {
    if (field.onlyIn !== undefined && field.onlyIn !== version) continue
    const name = field.renamed?.version === version ? field.renamed.name : field.name
    const runtime: RuntimeField = { ...field, name, column: field.name }
    if (field.related) {
      const { compute, target } = relatedCompute(def.name, field.related, version)
      runtime.related = pathIn(def.name, field.related, version)
      runtime.compute = field.compute ?? compute
      runtime.depends = field.depends ? field.depends.map((p) => pathIn(def.name, p, version)) : [runtime.related]
      if (!runtime.relation && target.relation) runtime.relation = target.relation
      if (!runtime.selection && target.selection) runtime.selection = target.selection
    } else if (field.depends) {
      runtime.depends = field.depends.map((p) => pathIn(def.name, p, version))
    }
    fields.push(runtime)
  }
  const byName = new Map<string, RuntimeField>(fields.map((field) => [field.name, field]))
  byName.set('id', ID_FIELD)
  return {
    ...def,
    ...(def.displayNameDepends
      ? { displayNameDepends: def.displayNameDepends.map((p) => pathIn(def.name, p, version)) }
      : {}),
    ...(def.recNamesSearch ? { recNamesSearch: def.recNamesSearch.map((p) => pathIn(def.name, p, version)) } : {}),
    fields,
    field: (name) => byName.get(name),
    hasActive: byName.has('active'),
  }
}

const registries = new Map<OdooVersion, Registry>()

export function registryFor(version: OdooVersion): Registry {
  let registry = registries.get(version)
  if (!registry) {
    registry = new Map(MODEL_DEFS.map((def) => [def.name, buildModel(def, version)]))
    registries.set(version, registry)
  }
  return registry
}
