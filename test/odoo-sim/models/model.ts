// How a simulated model is described: fields (with Odoo's attributes), default order, access rights per group,
// record rules. Definitions live in the sibling modules, one per Odoo app.
import type { Aggregator, FieldType, Json, OdooVersion, StoredRecord, StoredValue } from '../types'
import type { DomainJson } from '../domain'

export type Operation = 'read' | 'write' | 'create' | 'unlink'
export const OPERATIONS: readonly Operation[] = ['read', 'write', 'create', 'unlink']

/** Read access to the stored data, given to computed fields. */
export interface DataView {
  readonly version: OdooVersion
  get(model: string, id: number): StoredRecord | undefined
  /** Ids of `model` records whose `field` (a many2one) points to `id`. */
  referencing(model: string, field: string, id: number): number[]
  displayName(model: string, id: number): string
  /** The value of `field` (a field name of this version, or its storage key) on `record`, computed fields included. */
  fieldValue(model: string, record: StoredRecord, field: string): StoredValue
}

export interface FieldDef {
  name: string
  type: FieldType
  string: string
  required?: boolean
  readonly?: boolean
  /** Comodel of relational fields. */
  relation?: string
  /**
   * one2many: the many2one on the comodel that points back. A non-stored many2many with an inverseName mirrors the
   * comodel's many2many (res.groups.users ↔ res.users.groups_id, one relation table in Odoo).
   */
  inverseName?: string
  selection?: readonly (readonly [string, string])[]
  /** Comma-separated group xmlids, like Odoo's `groups=` attribute. */
  groups?: string
  help?: string
  /** Computed at read time (Odoo's compute=); stored computed fields stay searchable and sortable. */
  compute?: (record: StoredRecord, data: DataView) => StoredValue
  /**
   * What `compute` reads, as dotted paths from the record (Odoo's `@api.depends`): `'name'`, `'parent_id.name'`,
   * `'order_line.price_subtotal'`. A one2many step also stands for the comodel's inverse field (which records are
   * in it). Every computed field declares it (an empty list: the value reads nothing); a related field depends on
   * its path. See dependencies.ts for the transitive closure over stored fields.
   */
  depends?: readonly string[]
  /**
   * A related field (Odoo's `related=`): the dotted path it mirrors, e.g. `'country_id.code'`. The registry derives
   * its `compute` (follow the path; through an x2many, its first record) and its `depends` (the path).
   */
  related?: string
  /** x2many: Odoo's field `domain=` (a list), applied when reading the value and in searches through the field. */
  domain?: readonly Json[]
  /** x2many: Odoo's field `context=`; only `active_test` matters here (res.partner.child_ids sets it to false). */
  context?: { readonly active_test?: boolean }
  store?: boolean
  aggregator?: Aggregator
  /** Selection values all show up in a lazy read_group, like `group_expand=True`. */
  groupExpand?: boolean
  translate?: boolean
  /** The field exists only in this Odoo version. */
  onlyIn?: OdooVersion
  /** The field has another name in this version (res.users.groups_id → group_ids in 19). */
  renamed?: { version: OdooVersion; name: string }
  /** Storage key of the value in records (set by the registry; differs from `name` for renamed fields). */
  column?: string
  /** Many2one ondelete behaviour towards the comodel (default 'set null'). */
  ondelete?: 'set null' | 'restrict' | 'cascade'
}

export interface AclEntry {
  /** null: applies to everybody (a global access right). */
  group: string | null
  read: boolean
  write: boolean
  create: boolean
  unlink: boolean
}

export interface RuleDef {
  name: string
  /** Empty: a global rule, ANDed with the others; otherwise rules of the user's groups are ORed together. */
  groups: readonly string[]
  perms: readonly Operation[]
  /** `companyIds`: the environment's companies (`company_ids` in Odoo's rule evaluation context). */
  domain: (uid: number, companyIds: readonly number[]) => DomainJson
}

export interface ModelDef {
  name: string
  description: string
  order: string
  recName: string
  /** Fields searched by name_search (`_rec_names_search`); defaults to [recName]. */
  recNamesSearch?: readonly string[]
  fields: readonly FieldDef[]
  acl: readonly AclEntry[]
  rules?: readonly RuleDef[]
  /** Field used by child_of / parent_of and by the recursion check. */
  parentField?: string
  /** Internal users without read access read through a public projection (hr.employee → hr.employee.public). */
  publicModel?: string
  displayName?: (record: StoredRecord, data: DataView) => string
  /**
   * What the display name is computed from (dotted paths, like `depends`), for models whose display name is not
   * just their `recName` (which is the default). `displayName` must read nothing else.
   */
  displayNameDepends?: readonly string[]
  defaults?: Record<string, (ctx: { uid: number; now: string; data: DataView }) => StoredValue>
  transient?: boolean
  /** Extra modules shown by ir.model.modules. */
  module: string
}

/** `acl('sales_team.group_sale_salesman', 'rwc')`. */
export function acl(group: string | null, perms: string): AclEntry {
  return {
    group,
    read: perms.includes('r'),
    write: perms.includes('w'),
    create: perms.includes('c'),
    unlink: perms.includes('u'),
  }
}

type FieldOptions = Omit<FieldDef, 'name' | 'type' | 'string'>

function make(type: FieldType) {
  return (name: string, string: string, options: FieldOptions = {}): FieldDef => ({ name, type, string, ...options })
}

export const f = {
  char: make('char'),
  text: make('text'),
  html: make('html'),
  integer: make('integer'),
  float: make('float'),
  monetary: make('monetary'),
  boolean: make('boolean'),
  date: make('date'),
  datetime: make('datetime'),
  selection: (
    name: string,
    string: string,
    selection: readonly (readonly [string, string])[],
    options: FieldOptions = {},
  ) => ({ name, type: 'selection', string, selection, ...options }) satisfies FieldDef,
  many2one: (name: string, string: string, relation: string, options: FieldOptions = {}) =>
    ({ name, type: 'many2one', string, relation, ...options }) satisfies FieldDef,
  /** A related field (see FieldDef.related): `f.related('country_code', 'Country Code', 'char', 'country_id.code')`. */
  related: (name: string, string: string, type: FieldType, path: string, options: FieldOptions = {}) =>
    ({ name, type, string, related: path, readonly: true, ...options }) satisfies FieldDef,
  one2many: (name: string, string: string, relation: string, inverseName: string, options: FieldOptions = {}) =>
    ({ name, type: 'one2many', string, relation, inverseName, readonly: false, ...options }) satisfies FieldDef,
  many2many: (name: string, string: string, relation: string, options: FieldOptions = {}) =>
    ({ name, type: 'many2many', string, relation, ...options }) satisfies FieldDef,
}

/** The fields every Odoo model has (`id` is implicit and always readable). */
export function magicFields(): FieldDef[] {
  return [
    // Computed by Db.displayName (its dependencies: ModelDef.displayNameDepends, else recName).
    f.char('display_name', 'Display Name', { readonly: true, store: false, compute: () => false, depends: [] }),
    f.many2one('create_uid', 'Created by', 'res.users', { readonly: true }),
    f.datetime('create_date', 'Created on', { readonly: true }),
    f.many2one('write_uid', 'Last Updated by', 'res.users', { readonly: true }),
    f.datetime('write_date', 'Last Updated on', { readonly: true }),
  ]
}

/** complete_name of a hierarchy ('Parent / Child', the parent's own complete_name first), cycles cut. */
export function hierarchyName(model: string, record: StoredRecord, data: DataView): string {
  const names: string[] = []
  const seen = new Set<number>()
  let current: StoredRecord | undefined = record
  while (current && !seen.has(current.id)) {
    seen.add(current.id)
    names.unshift(String(current['name']))
    const parentId: unknown = current['parent_id']
    current = typeof parentId === 'number' && parentId > 0 ? data.get(model, parentId) : undefined
  }
  return names.join(' / ')
}

/** Default values of stored fields when a record is created without them. */
export function emptyValue(type: FieldType): StoredValue {
  switch (type) {
    case 'integer':
    case 'float':
    case 'monetary':
      return 0
    case 'boolean':
      return false
    case 'many2many':
    case 'one2many':
      return []
    default:
      return false
  }
}
