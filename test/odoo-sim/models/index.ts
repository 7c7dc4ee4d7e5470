// The model registry of one simulated Odoo version: fields filtered and renamed for that version, magic fields
// (display_name, create_uid, ...) appended, lookups by name prepared once.
import type { OdooVersion } from '../types'
import { magicFields, type FieldDef, type ModelDef } from './model'
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

function buildModel(def: ModelDef, version: OdooVersion): RuntimeModel {
  const fields: RuntimeField[] = []
  const declared = new Set(def.fields.map((field) => field.name))
  // A model may redeclare a magic field (sale.order.create_date is "Creation Date").
  for (const field of [...def.fields, ...magicFields().filter((magic) => !declared.has(magic.name))]) {
    if (field.onlyIn !== undefined && field.onlyIn !== version) continue
    const name = field.renamed?.version === version ? field.renamed.name : field.name
    fields.push({ ...field, name, column: field.name })
  }
  const byName = new Map<string, RuntimeField>(fields.map((field) => [field.name, field]))
  byName.set('id', ID_FIELD)
  return {
    ...def,
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
