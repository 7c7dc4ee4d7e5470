// How a simulated model is described: fields (with Odoo's attributes), default order, access rights per group,
// record rules. Definitions live in the sibling modules, one per Odoo app.
import type { Aggregator, FieldType, OdooVersion, StoredRecord, StoredValue } from '../types'
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
}

export interface FieldDef {
  name: string
  type: FieldType
  string: string
  required?: boolean
  readonly?: boolean
  /** Comodel of relational fields. */
  relation?: string
  /** one2many: the many2one on the comodel that points back. */
  inverseName?: string
  selection?: readonly (readonly [string, string])[]
  /** Comma-separated group xmlids, like Odoo's `groups=` attribute. */
  groups?: string
  help?: string
  /** Computed at read time (Odoo's compute=); stored computed fields stay searchable and sortable. */
  compute?: (record: StoredRecord, data: DataView) => StoredValue
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
  domain: (uid: number) => DomainJson
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
  one2many: (name: string, string: string, relation: string, inverseName: string, options: FieldOptions = {}) =>
    ({ name, type: 'one2many', string, relation, inverseName, readonly: false, ...options }) satisfies FieldDef,
  many2many: (name: string, string: string, relation: string, options: FieldOptions = {}) =>
    ({ name, type: 'many2many', string, relation, ...options }) satisfies FieldDef,
}

/** The fields every Odoo model has (`id` is implicit and always readable). */
export function magicFields(): FieldDef[] {
  return [
    f.char('display_name', 'Display Name', { readonly: true, store: false, compute: () => false }),
    f.many2one('create_uid', 'Created by', 'res.users', { readonly: true }),
    f.datetime('create_date', 'Created on', { readonly: true }),
    f.many2one('write_uid', 'Last Updated by', 'res.users', { readonly: true }),
    f.datetime('write_date', 'Last Updated on', { readonly: true }),
  ]
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
