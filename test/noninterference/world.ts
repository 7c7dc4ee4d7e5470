/**
 * Two simulated Odoo databases that differ only in what a policy hides.
 *
 * What the policy shows is decided here by a reference written from the documented semantics (README "Key
 * policies", docs/SECURITY.md), not by the gateway's own code: a model is reachable through its own entry, else
 * through "*" unless sensitive; a field is visible when listed, or under "*" when its name is not sensitive, it does
 * not point to a sensitive model, and (for a related field) what it mirrors is visible; a display name is shown only
 * where `display_name` is visible; a name search only under "*".
 *
 * Everything else is hidden, and the second database gets other values for it, except what Odoo itself reveals by
 * design and the property therefore cannot cover (docs/SECURITY.md, "What it cannot cover"):
 * - what a visible computed or related field, a shown display name or an allowed name search is computed from
 *   (their declared dependencies: the policy allowed the field, and Odoo computes it from those values);
 * - which records exist and which are archived (`active`: Odoo's default filter shows it, with or without a policy);
 * - the key's own Odoo user (its groups decide what Odoo lets it do);
 * - for write tools, what Odoo's integrity rules read (required fields, recursion checks, business rules such as
 *   "a confirmed order cannot be deleted", the references that keep a record from being deleted).
 */
import { isSensitiveField, isSensitiveModel } from '../../src/policy/sensitive'
import type { Db } from '../odoo-sim/db'
import type { RuntimeField, RuntimeModel } from '../odoo-sim/models'
import { dependencyColumns } from '../odoo-sim/models/dependencies'
import type { StoredRecord, StoredValue } from '../odoo-sim/types'

export interface PolicyDocument {
  version: 1
  models: Record<string, { operations: string[]; fields: '*' | string[] }>
}

const RELATIONAL = new Set(['many2one', 'one2many', 'many2many'])
/** Odoo's bookkeeping fields: every write changes them, whatever the policy. */
export const LOG_FIELDS = new Set(['create_uid', 'create_date', 'write_uid', 'write_date'])
/** The Odoo user every key of the suite is bound to (the demo admin). */
export const KEY_UID = 2

export class ReferencePolicy {
  constructor(
    readonly document: PolicyDocument | null,
    private readonly db: Db,
  ) {}

  entry(model: string): { operations: string[]; fields: '*' | string[] } | undefined {
    const models = this.document?.models
    if (!models) return undefined
    if (Object.hasOwn(models, model)) return models[model]
    return isSensitiveModel(model) ? undefined : models['*']
  }

  may(model: string, operation: string): boolean {
    return this.entry(model)?.operations.includes(operation) ?? false
  }

  /** Field definitions of `model` in this database's Odoo version. */
  model(name: string): RuntimeModel | undefined {
    return this.db.registry.get(name)
  }

  /** May the key see `field` of `model`'s records (the policy lets it read them)? */
  readable(model: string, field: string, seen: ReadonlySet<string> = new Set()): boolean {
    return this.may(model, 'read') && this.listed(model, field, seen)
  }

  /** Is `field` among the fields the policy gives for `model` (whatever the operations)? */
  listed(model: string, field: string, seen: ReadonlySet<string> = new Set()): boolean {
    const entry = this.entry(model)
    if (!entry) return false
    if (field === 'id') return true
    if (entry.fields !== '*') return entry.fields.includes(field)
    if (isSensitiveField(field)) return false
    const def = this.model(model)?.field(field)
    if (def?.relation && RELATIONAL.has(def.type) && isSensitiveModel(def.relation)) return false
    const related = def?.related
    if (!related) return true
    const key = `${model}.${related}`
    if (seen.has(key)) return true
    return this.pathReadable(model, related, new Set([...seen, key]))
  }

  pathReadable(model: string, path: string, seen: ReadonlySet<string> = new Set()): boolean {
    let current = model
    const parts = path.split('.')
    for (const [index, field] of parts.entries()) {
      if (!this.readable(current, field, seen)) return false
      if (index < parts.length - 1) {
        const relation = this.model(current)?.field(field)?.relation
        if (!relation) return false
        current = relation
      }
    }
    return true
  }

  displayNameShown(model: string): boolean {
    const entry = this.entry(model)
    return this.may(model, 'read') && entry !== undefined && (entry.fields === '*' || entry.fields.includes('display_name'))
  }

  nameSearchAllowed(model: string): boolean {
    return this.may(model, 'read') && this.entry(model)?.fields === '*'
  }
}

/** What a write call may make Odoo's integrity rules read: the models it writes, and those it may delete from. */
export interface WriteReach {
  /** Models the call creates or writes records of (required fields, recursion checks, business rules). */
  written: readonly string[]
  /** Models the call may delete records of: whether other records still point to them decides if Odoo refuses. */
  deleted: readonly string[]
}

export const NO_WRITES: WriteReach = { written: [], deleted: [] }

/**
 * Stored columns whose values the suite may change: `(model, field)` pairs that are hidden and not revealed by Odoo
 * through something visible. For a write call, what Odoo's integrity rules read on what it writes or deletes.
 */
export function perturbableColumns(reference: ReferencePolicy, db: Db, writes: WriteReach = NO_WRITES): Map<string, RuntimeField[]> {
  // Stored columns ('model.column') something visible is computed from (the simulator's declared dependencies).
  const revealed = new Set<string>()
  const reveal = (model: string, field: string) => {
    if (!db.registry.get(model)?.field(field)) return
    for (const column of dependencyColumns(db.registry, model, field)) revealed.add(column)
  }
  for (const model of db.registry.values()) {
    if (reference.displayNameShown(model.name)) reveal(model.name, 'display_name')
    if (reference.nameSearchAllowed(model.name)) {
      reveal(model.name, 'display_name')
      for (const field of model.recNamesSearch ?? []) reveal(model.name, field)
    }
    for (const field of model.fields) if (reference.readable(model.name, field.name)) reveal(model.name, field.name)
  }
  for (const model of writes.written) for (const field of INTEGRITY_READS[model] ?? []) reveal(model, field)
  for (const target of writes.deleted) {
    for (const model of db.registry.values()) {
      for (const field of model.fields) if (field.type === 'many2one' && field.relation === target) reveal(model.name, field.name)
    }
  }

  const columns = new Map<string, RuntimeField[]>()
  for (const model of db.registry.values()) {
    if (model.name === 'ir.model') continue // metadata, not data
    const hidden = model.fields.filter(
      (field) =>
        !field.compute &&
        field.store !== false &&
        field.type !== 'one2many' &&
        field.name !== 'active' &&
        field.name !== 'display_name' &&
        !reference.readable(model.name, field.name) &&
        !revealed.has(`${model.name}.${field.column}`),
    )
    if (hidden.length > 0) columns.set(model.name, hidden)
  }
  return columns
}

/**
 * What Odoo's own integrity rules read when a record of the model is written or deleted: required columns, the
 * recursion check of a hierarchy, business rules. A write tool's answer may depend on them, whatever the policy.
 */
const INTEGRITY_READS: Record<string, readonly string[]> = {
  'res.partner': ['type', 'name', 'parent_id'],
  'sale.order': ['state', 'partner_id', 'name', 'date_order', 'company_id', 'partner_invoice_id', 'partner_shipping_id'],
  'sale.order.line': ['order_id', 'name', 'product_id'],
  'hr.employee': ['parent_id', 'company_id'],
  'hr.department': ['parent_id', 'name'],
  'product.category': ['parent_id', 'name'],
  'product.product': ['name', 'type', 'categ_id'],
  'res.users': ['name', 'login', 'partner_id', 'company_id'],
  'res.company': ['name', 'partner_id', 'currency_id'],
  'res.partner.bank': ['acc_number', 'partner_id'],
  'res.country': ['name', 'code'],
  'res.currency': ['name', 'symbol'],
  'res.groups': ['name'],
  'ir.config_parameter': ['key', 'value'],
}

/** A small deterministic random source (mulberry32), so that a shrunk counter-example replays exactly. */
export function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const WORDS = ['Azure', 'azure', 'Desk', 'FURN_0096', 'secret', 'Zeta', 'alpha', 'Gemini', 'x@example.com', 'BE0477472701', '']

/** Another value of the same type for `field` (valid for Odoo: an existing id, a selection key, a date...). */
function otherValue(db: Db, model: RuntimeModel, record: StoredRecord, field: RuntimeField, next: () => number): StoredValue {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!
  switch (field.type) {
    case 'boolean':
      return !(record[field.column] === true)
    case 'integer':
      return Math.floor(next() * 200) - 50
    case 'float':
    case 'monetary':
      return Math.round(next() * 100_000) / 100
    case 'date':
      return `20${String(20 + Math.floor(next() * 9)).padStart(2, '0')}-${String(1 + Math.floor(next() * 12)).padStart(2, '0')}-${String(1 + Math.floor(next() * 28)).padStart(2, '0')}`
    case 'datetime':
      return `20${String(20 + Math.floor(next() * 9)).padStart(2, '0')}-${String(1 + Math.floor(next() * 12)).padStart(2, '0')}-${String(1 + Math.floor(next() * 28)).padStart(2, '0')} ${String(Math.floor(next() * 24)).padStart(2, '0')}:00:00`
    case 'selection': {
      const keys = (field.selection ?? []).map(([key]) => key)
      return keys.length > 0 ? pick(keys) : false
    }
    case 'many2one': {
      const ids = [...db.table(field.relation!).keys()]
      // A hierarchy stays a tree: a parent is chosen among smaller ids, which cannot close a cycle.
      const candidates = field.relation === model.name ? ids.filter((id) => id < record.id) : ids
      if (!field.required && (candidates.length === 0 || next() < 0.25)) return false
      return candidates.length > 0 ? pick(candidates) : record[field.column] ?? false
    }
    case 'many2many': {
      const ids = [...db.table(field.relation!).keys()]
      return ids.filter(() => next() < 0.2)
    }
    default: {
      const text = `${pick(WORDS)}${next() < 0.5 ? ` ${pick(WORDS)}` : ''}`
      return field.required && text === '' ? 'x' : text
    }
  }
}

/** Gives the hidden columns of `db` other values (each record with probability 1/2), reproducibly from `seed`. */
export function perturb(db: Db, columns: Map<string, RuntimeField[]>, seed: number): void {
  const next = random(seed)
  for (const [modelName, fields] of columns) {
    const model = db.model(modelName)
    for (const record of db.table(modelName).values()) {
      if (modelName === 'res.users' && record.id === KEY_UID) continue
      const values: Record<string, StoredValue> = {}
      for (const field of fields) if (next() < 0.5) values[field.column] = otherValue(db, model, record, field, next)
      if (Object.keys(values).length > 0) db.update(modelName, record.id, values)
    }
  }
}

/**
 * Display names the key may not be shown get a suffix in the second database: Odoo composes display names from
 * other fields (and, in real databases, from fields the simulator does not have), so a name the policy does not
 * show must not reach any answer, whatever it is made of.
 */
export function decorateHiddenDisplayNames(db: Db, reference: ReferencePolicy, seed: number): void {
  const hidden = new Set([...db.registry.keys()].filter((model) => !reference.displayNameShown(model) && !reference.nameSearchAllowed(model)))
  const suffix = ` ⟨${(seed >>> 0).toString(36)}⟩`
  db.displayNameDecoration = (model, _id, name) =>
    hidden.has(model) ? `${name}${suffix}` : name
}

/**
 * Columns a request may not change: every stored column the policy does not let the key write (the model lacks
 * create/write, or the field is not among its fields). Odoo's bookkeeping fields are left out.
 */
export function protectedColumns(reference: ReferencePolicy, db: Db): Map<string, RuntimeField[]> {
  const columns = new Map<string, RuntimeField[]>()
  for (const model of db.registry.values()) {
    const writable = reference.may(model.name, 'write') || reference.may(model.name, 'create')
    const fields = model.fields.filter(
      (field) => !field.compute && field.store !== false && field.type !== 'one2many' && !LOG_FIELDS.has(field.name) && !(writable && reference.listed(model.name, field.name)),
    )
    columns.set(model.name, fields) // even with no field: deletions and creations are checked per model
  }
  return columns
}

export interface Snapshot {
  columns: Map<string, RuntimeField[]>
  /** Every record of every model, as stored (the protected columns are compared; the rest explains cascades). */
  records: Map<string, Map<number, StoredRecord>>
}

/** The records of `db`, to compare the `columns` of later. */
export function snapshot(db: Db, columns: Map<string, RuntimeField[]>): Snapshot {
  const records = new Map<string, Map<number, StoredRecord>>()
  for (const model of columns.keys()) {
    records.set(model, new Map([...db.table(model).values()].map((record) => [record.id, structuredClone(record)])))
  }
  return { columns, records }
}

/**
 * What changed between two snapshots that Odoo's own cascade does not explain: values of records present in both
 * (a many2one emptied, or many2many ids removed, because the record they pointed to was deleted are Odoo's
 * `ondelete`), records of models the policy may not delete from that disappeared without a deleted parent, and
 * records of models the policy may not create that appeared.
 */
export function unexplainedChanges(before: Snapshot, after: Snapshot, db: Db, reference: ReferencePolicy): string[] {
  const changes: string[] = []
  const exists = (model: string, id: number) => db.get(model, id) !== undefined
  for (const [model, records] of before.records) {
    const definition = db.model(model)
    const protectedFields = before.columns.get(model) ?? []
    for (const [id, record] of records) {
      const now = after.records.get(model)?.get(id)
      if (!now) {
        // Deleted with a record it belongs to (ondelete='cascade'), or by an unlink the policy allows.
        const cascaded = definition.fields.some((field) => {
          const target = record[field.column]
          return field.type === 'many2one' && field.ondelete === 'cascade' && typeof target === 'number' && !exists(field.relation!, target)
        })
        if (!reference.may(model, 'unlink') && !cascaded) changes.push(`${model},${id} was deleted`)
        continue
      }
      for (const field of protectedFields) {
        const value = record[field.column] ?? false
        const later = now[field.column] ?? false
        if (JSON.stringify(value) === JSON.stringify(later)) continue
        // Odoo's ondelete='set null', and many2many rows of deleted records.
        if (field.type === 'many2one' && later === false && typeof value === 'number' && !exists(field.relation!, value)) continue
        if (field.type === 'many2many' && Array.isArray(value) && Array.isArray(later)) {
          const kept = value.filter((target) => exists(field.relation!, target))
          if (JSON.stringify(kept) === JSON.stringify(later)) continue
        }
        changes.push(`${model},${id}.${field.name}: ${JSON.stringify(value)} → ${JSON.stringify(later)}`)
      }
    }
    for (const id of after.records.get(model)?.keys() ?? []) {
      if (!records.has(id) && !reference.may(model, 'create') && !createdAlong(before, after, db, model, id)) changes.push(`${model},${id} was created`)
    }
  }
  return changes
}

/**
 * Whether a new record was created by Odoo along with another new record that requires it (a user's partner:
 * res.users.partner_id is required, Odoo's `_inherits`), rather than by the call itself.
 */
function createdAlong(before: Snapshot, after: Snapshot, db: Db, model: string, id: number): boolean {
  for (const [owner, records] of after.records) {
    const requiring = db.model(owner).fields.filter((field) => field.type === 'many2one' && field.relation === model && field.required)
    if (requiring.length === 0) continue
    for (const [ownerId, record] of records) {
      if (before.records.get(owner)?.has(ownerId)) continue
      if (requiring.some((field) => record[field.column] === id)) return true
    }
  }
  return false
}
