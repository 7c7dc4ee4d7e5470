/**
 * Two simulated Odoo databases that differ only in what a policy hides.
 *
 * What the policy shows is decided here by a reference written from the documented semantics (README "Key
 * policies", docs/SECURITY.md), not by the gateway's own code: a model is reachable through its own entry, else
 * through "*" unless sensitive; a field is visible when listed, or under "*" when its name is not sensitive, it does
 * not point to a sensitive model, and (for a related field) what it mirrors is visible; a display name is shown only
 * where `display_name` is visible; a name search only under "*".
 *
 * Policy version 2 adds two kinds of hidden data:
 * - records a model's filter leaves out (placeholders resolved for the key's user, companies and a fixed today):
 *   every stored value of theirs, their archival, their existence and their number. The first database holds
 *   "ghost" clones of such records, some of which the second lacks (addGhosts), and the second gives the others
 *   other values (perturbOutside); no record changes side (keepFilterSides);
 * - the clear value of a masked field beyond what its mask keeps: other characters where `partial` / `last4` hide
 *   them, any value under `redact`, an injective change under `hash` (answers are compared with each hash renamed by
 *   its first appearance, canonicalHashes: a hash shows which values are equal, nothing more).
 *
 * Everything else is hidden, and the second database gets other values for it, except what Odoo itself reveals by
 * design and the property therefore cannot cover (docs/SECURITY.md, "What it cannot cover"):
 * - what a visible computed or related field, a shown display name or an allowed name search is computed from
 *   (their declared dependencies: the policy allowed the field, and Odoo computes it from those values);
 * - which records exist and which are archived (`active`: Odoo's default filter shows it, with or without a policy);
 * - the key's own Odoo user (its groups decide what Odoo lets it do);
 * - for write tools, what Odoo's integrity rules read (required fields, recursion checks, business rules such as
 *   "a confirmed order cannot be deleted", the references that keep a record from being deleted), records left out
 *   by a filter included;
 * - with record filters, what a shown computed field or display name reads on other records (crossRecordReads: an
 *   order's total sums its lines, a contact's name carries its company's): the gateway does not know what a
 *   computed field reads, so those values and the existence of the records it counts stay equal.
 */
import { isSensitiveField, isSensitiveModel } from '../../src/policy/sensitive'
import { maskValue, type MaskKind } from '../../src/policy/masks'
import type { Db } from '../odoo-sim/db'
import { compileDomain } from '../odoo-sim/domain'
import type { RuntimeField, RuntimeModel } from '../odoo-sim/models'
import { declaredDependencies, dependenciesOf, dependencyColumns } from '../odoo-sim/models/dependencies'
import type { Json, StoredRecord, StoredValue } from '../odoo-sim/types'

/** One model's entry: version 2 adds a record filter (an Odoo domain with placeholders) and field masks. */
export interface ModelEntry {
  operations: string[]
  fields: '*' | string[]
  filter?: unknown[]
  mask?: Record<string, MaskKind>
}

export interface PolicyDocument {
  version: 1 | 2
  models: Record<string, ModelEntry>
  /** Version 2: the companies every call runs in (the placeholder `$company_ids`). */
  companies?: number[]
}

/** `$today` as the suite's keys resolve it (both databases, every call). */
export const TODAY = '2026-06-15'

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

  entry(model: string): ModelEntry | undefined {
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

  /**
   * May the key see `field` of `model`'s records in clear (the policy lets it read them, unmasked)? A masked field
   * is read only through its mask: its clear value stays hidden (`maskOf`).
   */
  readable(model: string, field: string, seen: ReadonlySet<string> = new Set()): boolean {
    return this.may(model, 'read') && this.maskOf(model, field) === undefined && this.listed(model, field, seen)
  }

  /** The mask `field` of `model` is read through (when the key may read it at all). */
  maskOf(model: string, field: string): MaskKind | undefined {
    const mask = this.entry(model)?.mask
    return mask && Object.hasOwn(mask, field) ? mask[field] : undefined
  }

  hasMasks(model: string): boolean {
    return Object.keys(this.entry(model)?.mask ?? {}).length > 0
  }

  /** The record filter of `model`, placeholders resolved (the key's user, its companies, the suite's today). */
  filterOf(model: string): Json[] | undefined {
    const filter = this.entry(model)?.filter
    if (!filter) return undefined
    const values: Record<string, Json> = { $uid: KEY_UID, $company_ids: this.document?.companies ?? [], $today: TODAY }
    const resolve = (node: unknown): Json =>
      typeof node === 'string' && Object.hasOwn(values, node) ? values[node]! : Array.isArray(node) ? node.map(resolve) : (node as Json)
    return resolve(filter) as Json[]
  }

  filtered(model: string): boolean {
    return this.entry(model)?.filter !== undefined
  }

  /** Is `field` among the fields the policy gives for `model` (whatever the operations)? */
  listed(model: string, field: string, seen: ReadonlySet<string> = new Set()): boolean {
    const entry = this.entry(model)
    if (!entry) return false
    if (field === 'id') return true
    if (entry.fields !== '*') return entry.fields.includes(field) && !this.relatedThroughFilter(model, field)
    if (isSensitiveField(field)) return false
    // Under "*", a display name is shown only on a model without masks (Odoo may compose it from a masked field).
    if (field === 'display_name' && this.hasMasks(model)) return false
    const def = this.model(model)?.field(field)
    if (def?.relation && RELATIONAL.has(def.type) && isSensitiveModel(def.relation)) return false
    const related = def?.related
    if (!related) return true
    const key = `${model}.${related}`
    if (seen.has(key)) return true
    return this.pathReadable(model, related, new Set([...seen, key]))
  }

  /** A related field's path through a filtered model: Odoo would show (or write) a record the filter hides. */
  relatedThroughFilter(model: string, field: string): boolean {
    const related = this.model(model)?.field(field)?.related
    if (!related) return false
    let current = model
    for (const hop of related.split('.').slice(0, -1)) {
      const relation = this.model(current)?.field(hop)?.relation
      if (!relation) return false
      current = relation
      if (this.filtered(current)) return true
    }
    return false
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
        // Odoo reads a related field as superuser: through a filtered model it would show records the filter hides.
        if (this.filtered(current)) return false
      }
    }
    return true
  }

  /** Display names: where `display_name` is listed (and not masked), or under "*" on a model without masks. */
  displayNameShown(model: string): boolean {
    const entry = this.entry(model)
    if (!this.may(model, 'read') || entry === undefined || this.maskOf(model, 'display_name')) return false
    return entry.fields === '*' ? !this.hasMasks(model) : entry.fields.includes('display_name')
  }

  /**
   * A name search: under "*" on a model without masks, and (record filters) neither filtered itself nor with a
   * relational field into a filtered model (Odoo's _rec_names_search may follow it: a sale order's 'partner_id.name').
   */
  nameSearchAllowed(model: string): boolean {
    if (!this.may(model, 'read') || this.entry(model)?.fields !== '*' || this.hasMasks(model)) return false
    return !this.filtered(model) && !(this.model(model)?.fields ?? []).some((field) => field.relation && RELATIONAL.has(field.type) && this.filtered(field.relation))
  }

  /** Ids of `model` records inside its filter in `db` (every record without a filter), archived ones included. */
  insideIds(db: Db, model: string): Set<number> {
    const filter = this.filterOf(model)
    const records = [...db.table(model).values()]
    if (!filter) return new Set(records.map((record) => record.id))
    const matches = compileDomain(filter, db.model(model), { db, version: db.version, context: { active_test: false } })
    return new Set(records.filter(matches).map((record) => record.id))
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
  for (const [model, field] of shownValues(reference, db)) reveal(model, field)
  for (const column of integrityColumns(db, writes)) revealed.add(column)
  // Which records a filter leaves out is what the key is told (they do not exist): what decides it stays as it is.
  for (const column of filterColumns(reference, db)) revealed.add(column)

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
        !maskedReadable(reference, model.name, field.name) &&
        !revealed.has(`${model.name}.${field.column}`),
    )
    if (hidden.length > 0) columns.set(model.name, hidden)
  }
  return columns
}

/** Columns Odoo's integrity rules read for a write call (INTEGRITY_READS, and what points to records it may delete). */
function integrityColumns(db: Db, writes: WriteReach): Set<string> {
  const columns = new Set<string>()
  const reveal = (model: string, field: string) => {
    if (!db.registry.get(model)?.field(field)) return
    for (const column of dependencyColumns(db.registry, model, field)) columns.add(column)
  }
  for (const model of writes.written) for (const field of INTEGRITY_READS[model] ?? []) reveal(model, field)
  for (const target of writes.deleted) {
    for (const model of db.registry.values()) {
      for (const field of model.fields) if (field.type === 'many2one' && field.relation === target) reveal(model.name, field.name)
    }
  }
  return columns
}

/** A field the key reads through a mask: its clear value is hidden beyond what the mask keeps (perturbMasked). */
function maskedReadable(reference: ReferencePolicy, model: string, field: string): boolean {
  return reference.may(model, 'read') && reference.maskOf(model, field) !== undefined && reference.listed(model, field)
}

/**
 * The values answers show, as (model, field): fields the key reads in clear, display names shown, and what an
 * allowed name search matches.
 */
function shownValues(reference: ReferencePolicy, db: Db): [string, string][] {
  const shown: [string, string][] = []
  for (const model of db.registry.values()) {
    if (reference.displayNameShown(model.name)) shown.push([model.name, 'display_name'])
    if (reference.nameSearchAllowed(model.name)) {
      shown.push([model.name, 'display_name'])
      for (const field of model.recNamesSearch ?? []) shown.push([model.name, field])
    }
    for (const field of model.fields) {
      if (reference.readable(model.name, field.name)) shown.push([model.name, field.name])
      // A masked computed field (a display name) shows, through its mask, what it is computed from.
      else if (maskedReadable(reference, model.name, field.name) && (field.compute || field.name === 'display_name')) shown.push([model.name, field.name])
    }
  }
  return shown
}

/** A one2many, or a many2many mirrored from the comodel: which comodel records point here. */
function isInverseView(field: RuntimeField): boolean {
  return !field.compute && field.inverseName !== undefined && (field.type === 'one2many' || field.type === 'many2many')
}

/**
 * What Odoo computes shown values from on records other than the one shown (a computed field or a display name
 * reading through a relation): `columns` it reads there, and `counted` models whose records it reads through a
 * one2many (their number and existence count: an order's total sums its lines). Odoo reveals these by design
 * (docs/SECURITY.md, "What it cannot cover"), record filters or not: the gateway does not know what a computed field
 * reads.
 */
export function crossRecordReads(reference: ReferencePolicy, db: Db): { columns: Set<string>; counted: Set<string> } {
  const columns = new Set<string>()
  const counted = new Set<string>()
  for (const [modelName, fieldName] of shownValues(reference, db)) {
    const model = db.registry.get(modelName)
    const field = model?.field(fieldName)
    if (!model || !field || declaredDependencies(model, field) === null) continue
    for (const path of dependenciesOf(db.registry, modelName, fieldName)) {
      let current = model
      for (const [index, name] of path.split('.').entries()) {
        const step = current.field(name) ?? current.fields.find((f) => f.column === name)
        if (!step) break
        if (isInverseView(step)) {
          const comodel = db.model(step.relation!)
          counted.add(comodel.name)
          columns.add(`${comodel.name}.${comodel.field(step.inverseName!)!.column}`)
        } else if (index > 0 && !step.compute && step.store !== false) {
          columns.add(`${current.name}.${step.column}`)
        }
        if (!step.relation) break
        current = db.model(step.relation)
      }
    }
  }
  // An allowed name search also matches Odoo's _rec_names_search paths through relations ('partner_id.name').
  for (const model of db.registry.values()) {
    if (!reference.nameSearchAllowed(model.name)) continue
    for (const path of model.recNamesSearch ?? []) {
      let current = model
      for (const [index, name] of path.split('.').entries()) {
        const step = current.field(name)
        if (!step) break
        if (index > 0) for (const column of dependencyColumns(db.registry, current.name, step.name)) columns.add(column)
        if (!step.relation) break
        current = db.model(step.relation)
      }
    }
  }
  return { columns, counted }
}

/** Columns of other records a filter reads through its dotted paths (their values decide who is inside). */
function filterColumns(reference: ReferencePolicy, db: Db): Set<string> {
  const columns = new Set<string>()
  const walk = (model: RuntimeModel, node: unknown): void => {
    if (!Array.isArray(node)) return
    if (node.length === 3 && typeof node[0] === 'string' && typeof node[1] === 'string' && !['&', '|', '!'].includes(node[0])) {
      let current = model
      for (const [index, name] of node[0].split('.').entries()) {
        const field = current.field(name)
        if (!field) break
        if (index > 0) columns.add(`${current.name}.${field.column}`)
        if (!field.relation) break
        current = db.model(field.relation)
      }
      return
    }
    for (const term of node) walk(model, term)
  }
  for (const model of db.registry.values()) walk(model, reference.filterOf(model.name))
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

/** Models a record filter may not get ghost records in: the key's own user and companies (logins are unique). */
const NO_GHOSTS = new Set(['res.users', 'res.company', 'ir.model', 'ir.config_parameter'])

/** Models with a record filter (through their own entry or "*"). */
function filteredModels(reference: ReferencePolicy, db: Db): string[] {
  return [...db.registry.keys()].filter((model) => model !== 'ir.model' && reference.filtered(model))
}

/** Per filtered model, the ids its filter leaves out in `db`. */
export function outsideIds(reference: ReferencePolicy, db: Db): Map<string, Set<number>> {
  const outside = new Map<string, Set<number>>()
  for (const model of filteredModels(reference, db)) {
    const inside = reference.insideIds(db, model)
    outside.set(model, new Set([...db.table(model).keys()].filter((id) => !inside.has(id))))
  }
  return outside
}

/**
 * Records a filter leaves out that exist in the first database only, some of them also in the second: clones of
 * records already left out, inserted in both (the same ids, so that the ids later creates get stay equal), then
 * removed from the second with probability 1/2. Their existence and number must not show. Not in models whose
 * records Odoo counts into a shown value (crossRecordReads).
 */
export function addGhosts(reference: ReferencePolicy, first: Db, second: Db, seed: number, writes: WriteReach = NO_WRITES): void {
  if (filteredModels(reference, first).length === 0) return
  const next = random(seed ^ 0x5bd1e995)
  const { counted } = crossRecordReads(reference, first)
  // Odoo's integrity rules see every record (a reference that keeps a record from being deleted, unique values).
  const integrity = (model: string) =>
    writes.written.includes(model) || first.model(model).fields.some((field) => field.type === 'many2one' && writes.deleted.includes(field.relation!))
  for (const model of filteredModels(reference, first)) {
    if (NO_GHOSTS.has(model) || counted.has(model) || integrity(model)) continue
    const inside = reference.insideIds(first, model)
    const outside = [...first.table(model).values()].filter((record) => !inside.has(record.id))
    if (outside.length === 0) continue
    const ghosts: number[] = []
    for (let i = 0; i < 1 + Math.floor(next() * 2); i++) {
      const original = outside[Math.floor(next() * outside.length)]!
      const id = first.nextId(model)
      if (second.nextId(model) !== id) throw new Error(`the two databases give ${model} different ids`)
      first.insert(model, { ...structuredClone(original), id })
      second.insert(model, { ...structuredClone(original), id })
      ghosts.push(id)
    }
    // A clone is inside when the filter reads its id: not a ghost then (its id stays used in both databases).
    const nowInside = reference.insideIds(first, model)
    for (const id of ghosts) {
      if (nowInside.has(id) || next() < 0.5) second.remove(model, id)
      if (nowInside.has(id)) first.remove(model, id)
    }
  }
}

/**
 * Gives records a filter leaves out other values in every stored column (each record with probability 1/2), but
 * what shown values read across records (crossRecordReads), what decides the filter on other records, and what
 * Odoo's integrity rules read for a write call (docs/SECURITY.md, "What it cannot cover").
 */
export function perturbOutside(reference: ReferencePolicy, db: Db, outside: Map<string, Set<number>>, seed: number, writes: WriteReach = NO_WRITES): void {
  if (outside.size === 0) return
  const next = random(seed ^ 0x27d4eb2f)
  const { columns: kept } = crossRecordReads(reference, db)
  for (const column of filterColumns(reference, db)) kept.add(column)
  for (const column of integrityColumns(db, writes)) kept.add(column)
  for (const [modelName, ids] of outside) {
    const model = db.model(modelName)
    const fields = model.fields.filter(
      (field) => field.name !== 'id' && !field.compute && field.store !== false && field.type !== 'one2many' && !kept.has(`${modelName}.${field.column}`),
    )
    for (const id of ids) {
      const record = db.get(modelName, id)
      if (!record || next() < 0.5 || (modelName === 'res.users' && id === KEY_UID)) continue
      const values: Record<string, StoredValue> = {}
      for (const field of fields) if (next() < 0.5) values[field.column] = otherValue(db, model, record, field, next)
      db.update(modelName, id, values)
    }
  }
}

/**
 * Puts back, in `second`, every record whose side of its filter the changes moved (its values as in `first`): the
 * second database must leave out the same records.
 */
export function keepFilterSides(reference: ReferencePolicy, first: Db, second: Db): void {
  if (filteredModels(reference, first).length === 0) return
  for (let round = 0; round < 4; round++) {
    let moved = false
    for (const model of filteredModels(reference, first)) {
      const before = reference.insideIds(first, model)
      const after = reference.insideIds(second, model)
      for (const id of second.table(model).keys()) {
        const original = first.get(model, id)
        if (!original || before.has(id) === after.has(id)) continue
        second.update(model, id, structuredClone(original))
        moved = true
      }
    }
    if (!moved) return
  }
  throw new Error('the second database does not leave out the records the first does')
}

/** Letters a masked value's hidden characters are replaced with. */
const LETTERS = 'abcdefghijklmnopqrstuvwxyzQXZ'

/**
 * Gives masked fields other clear values that their masks show alike: `partial` and `last4` other characters
 * where the mask hides them (the mask of the new value is checked equal), `hash` an injective change of every text
 * (equal values stay equal, different ones different: what the hash shows), `redact` anything.
 */
export async function perturbMasked(reference: ReferencePolicy, db: Db, seed: number): Promise<void> {
  if (![...db.registry.keys()].some((model) => reference.hasMasks(model))) return
  const next = random(seed ^ 0x1b873593)
  const revealed = new Set<string>()
  for (const [model, field] of shownValues(reference, db)) {
    if (db.registry.get(model)?.field(field)) for (const column of dependencyColumns(db.registry, model, field)) revealed.add(column)
  }
  // Values a filter reads decide which records exist for the key: they stay (keepFilterSides ran before).
  for (const column of filterColumns(reference, db)) revealed.add(column)
  for (const model of db.registry.values()) {
    const filter = reference.filterOf(model.name)
    if (filter) for (const field of model.fields) if (JSON.stringify(filter).includes(JSON.stringify(field.name))) revealed.add(`${model.name}.${field.column}`)
  }
  const unused = async () => 'h:unused'
  for (const model of db.registry.values()) {
    for (const field of model.fields) {
      const mask = reference.maskOf(model.name, field.name)
      if (!mask || !maskedReadable(reference, model.name, field.name) || field.compute || field.store === false || field.type === 'one2many') continue
      if (revealed.has(`${model.name}.${field.column}`)) continue
      // The key's own user keeps its values (its login signs in): a hash would then show an equality broken.
      if (mask === 'hash' && model.name === 'res.users') continue
      for (const record of db.table(model.name).values()) {
        if (model.name === 'res.users' && record.id === KEY_UID) continue
        const value = record[field.column]
        let changed: StoredValue | undefined
        if (mask === 'redact') changed = otherValue(db, model, record, field, next)
        else if (typeof value === 'string' && value !== '') {
          if (mask === 'hash') changed = `${value}~${(seed >>> 0).toString(36)}`
          else {
            const shown = await maskValue(value, mask, unused)
            const chars = [...value]
            for (const [index, char] of chars.entries()) {
              if (char === '@') continue
              const candidate = [...chars]
              candidate[index] = LETTERS[Math.floor(next() * LETTERS.length)]!
              if ((await maskValue(candidate.join(''), mask, unused)) === shown) chars[index] = candidate[index]!
            }
            changed = chars.join('')
          }
        }
        if (changed !== undefined && changed !== value) db.update(model.name, record.id, { [field.column]: changed })
      }
    }
  }
}

/** Hash masks show equality only: each answer's hashes renamed in order of appearance (h#1, h#2...). */
export function canonicalHashes(answer: string): string {
  const names = new Map<string, string>()
  return answer.replace(/h:[0-9a-f]{16}/g, (hash) => {
    if (!names.has(hash)) names.set(hash, `h#${names.size + 1}`)
    return names.get(hash)!
  })
}

/**
 * Display names the key may not be shown get a suffix in the second database: Odoo composes display names from
 * other fields (and, in real databases, from fields the simulator does not have), so a name the policy does not
 * show must not reach any answer, whatever it is made of.
 */
export function decorateHiddenDisplayNames(db: Db, reference: ReferencePolicy, seed: number, outside: Map<string, Set<number>> = new Map()): void {
  // A display name read through a mask is perturbed as what it is computed from (perturbMasked), not decorated.
  const hidden = new Set(
    [...db.registry.keys()].filter(
      (model) => !reference.displayNameShown(model) && !reference.nameSearchAllowed(model) && !maskedReadable(reference, model, 'display_name'),
    ),
  )
  const suffix = ` ⟨${(seed >>> 0).toString(36)}⟩`
  // Records a filter leaves out do not exist for the key: their names neither.
  db.displayNameDecoration = (model, id, name) =>
    hidden.has(model) || outside.get(model)?.has(id) ? `${name}${suffix}` : name
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
      (field) =>
        !field.compute &&
        field.store !== false &&
        field.type !== 'one2many' &&
        !LOG_FIELDS.has(field.name) &&
        // A masked field is read-only (its clear value is never written by the key).
        !(writable && reference.listed(model.name, field.name) && reference.maskOf(model.name, field.name) === undefined),
    )
    columns.set(model.name, fields) // even with no field: deletions and creations are checked per model
  }
  return columns
}

export interface Snapshot {
  columns: Map<string, RuntimeField[]>
  /** Every record of every model, as stored (the protected columns are compared; the rest explains cascades). */
  records: Map<string, Map<number, StoredRecord>>
  /** Records record filters leave out: every column of theirs is protected, and they may not be deleted. */
  outside: Map<string, Set<number>>
}

/** The records of `db`, to compare the `columns` of later. */
export function snapshot(db: Db, columns: Map<string, RuntimeField[]>, outside: Map<string, Set<number>> = new Map()): Snapshot {
  const records = new Map<string, Map<number, StoredRecord>>()
  for (const model of columns.keys()) {
    records.set(model, new Map([...db.table(model).values()].map((record) => [record.id, structuredClone(record)])))
  }
  return { columns, records, outside }
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
    const outside = before.outside.get(model) ?? new Set<number>()
    const allColumns = definition.fields.filter((field) => !field.compute && field.store !== false && field.type !== 'one2many' && field.name !== 'id' && !LOG_FIELDS.has(field.name))
    for (const [id, record] of records) {
      const now = after.records.get(model)?.get(id)
      const left = outside.has(id)
      if (!now) {
        // Deleted with a record it belongs to (ondelete='cascade'), or by an unlink the policy allows.
        const cascaded = definition.fields.some((field) => {
          const target = record[field.column]
          return field.type === 'many2one' && field.ondelete === 'cascade' && typeof target === 'number' && !exists(field.relation!, target)
        })
        if ((left || !reference.may(model, 'unlink')) && !cascaded) changes.push(`${model},${id} was deleted${left ? ' (its filter leaves it out)' : ''}`)
        continue
      }
      // A record its filter leaves out: no call changes it.
      for (const field of left ? allColumns : (before.columns.get(model) ?? [])) {
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
