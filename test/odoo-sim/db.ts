// In-memory tables of the simulated database, with an inverse index for one2many values (rebuilt lazily after a
// write, so reads stay O(records)).
import { emptyValue, type DataView } from './models/model'
import type { Registry, RuntimeField, RuntimeModel } from './models'
import type { OdooVersion, StoredRecord, StoredValue } from './types'

export const SEED_TIMESTAMP = '2026-10-01 08:00:00'

export class Db implements DataView {
  private tables = new Map<string, Map<number, StoredRecord>>()
  private nextIds = new Map<string, number>()
  private sequences = new Map<string, number>()
  private revision = 0
  private indexRevision = -1
  private inverse = new Map<string, Map<number, number[]>>()

  constructor(
    readonly registry: Registry,
    readonly version: OdooVersion,
  ) {}

  load(seed: ReadonlyMap<string, readonly StoredRecord[]>): void {
    this.tables.clear()
    this.nextIds.clear()
    this.sequences.clear()
    for (const [name, model] of this.registry) {
      const table = new Map<number, StoredRecord>()
      for (const seedRecord of seed.get(name) ?? []) table.set(seedRecord.id, this.complete(model, { ...seedRecord }))
      this.tables.set(name, table)
      this.nextIds.set(name, Math.max(0, ...table.keys()) + 1)
      this.sequences.set(name, Math.max(0, ...table.keys()) + 1)
    }
    this.revision++
  }

  /** Fills the stored columns a seed or a create left out. */
  complete(model: RuntimeModel, record: StoredRecord): StoredRecord {
    for (const field of model.fields) {
      if (field.compute || field.type === 'one2many' || field.store === false) continue
      if (record[field.column] === undefined) {
        if (field.name === 'create_uid' || field.name === 'write_uid') record[field.column] = 1
        else if (field.name === 'create_date' || field.name === 'write_date') record[field.column] = SEED_TIMESTAMP
        else record[field.column] = emptyValue(field.type)
      }
    }
    return record
  }

  model(name: string): RuntimeModel {
    const model = this.registry.get(name)
    if (!model) throw new Error(`unknown model ${name}`)
    return model
  }

  table(model: string): Map<number, StoredRecord> {
    const table = this.tables.get(model)
    if (!table) throw new Error(`unknown model ${model}`)
    return table
  }

  get(model: string, id: number): StoredRecord | undefined {
    return this.tables.get(model)?.get(id)
  }

  /** Reserves the next id (ids are never reused, like a PostgreSQL sequence). */
  nextId(model: string): number {
    const id = this.nextIds.get(model) ?? 1
    this.nextIds.set(model, id + 1)
    return id
  }

  /** ir.sequence look-alike (sale.order names S00021, ...): starts after the demo records. */
  sequence(name: string): number {
    const next = this.sequences.get(name) ?? 1
    this.sequences.set(name, next + 1)
    return next
  }

  /** Undo steps of the call in progress (see transaction), or null outside one. */
  private journal: (() => void)[] | null = null

  /**
   * Runs one ORM call as Odoo runs it in a database transaction: if it throws, every insert, update and removal it
   * made is undone (a failed unlink leaves the records it had already emptied or cascaded untouched). Ids and
   * sequence numbers taken stay taken, like PostgreSQL sequences.
   */
  transaction<T>(run: () => T): T {
    if (this.journal) return run()
    this.journal = []
    try {
      const result = run()
      this.journal = null
      return result
    } catch (error) {
      const undo = this.journal ?? []
      this.journal = null
      for (const step of undo.reverse()) step()
      this.revision++
      throw error
    }
  }

  insert(model: string, record: StoredRecord): void {
    const table = this.table(model)
    table.set(record.id, record)
    this.journal?.push(() => table.delete(record.id))
    this.revision++
  }

  update(model: string, id: number, values: Record<string, StoredValue>): void {
    const record = this.get(model, id)
    if (!record) return
    if (this.journal) {
      const previous: Record<string, StoredValue | undefined> = {}
      for (const key of Object.keys(values)) previous[key] = record[key]
      this.journal.push(() => {
        for (const [key, value] of Object.entries(previous)) {
          if (value === undefined) delete record[key]
          else record[key] = value
        }
      })
    }
    Object.assign(record, values)
    this.revision++
  }

  remove(model: string, id: number): void {
    const table = this.table(model)
    const record = table.get(id)
    table.delete(id)
    if (record) this.journal?.push(() => table.set(id, record))
    this.revision++
  }

  /** Ids of `model` records whose column `column` (many2one or many2many) contains `id`, ascending. */
  referencing(model: string, column: string, id: number): number[] {
    if (this.indexRevision !== this.revision) {
      this.inverse.clear()
      this.indexRevision = this.revision
    }
    const key = `${model}\u0000${column}`
    let index = this.inverse.get(key)
    if (!index) {
      index = new Map()
      for (const record of this.table(model).values()) {
        const value = record[column]
        const targets = typeof value === 'number' ? [value] : Array.isArray(value) ? value : []
        for (const target of targets) {
          const list = index.get(target)
          if (list) list.push(record.id)
          else index.set(target, [record.id])
        }
      }
      for (const list of index.values()) list.sort((a, b) => a - b)
      this.inverse.set(key, index)
    }
    return index.get(id) ?? []
  }

  /** `model`'s field by its name in this version, or by its storage key (the definition name). */
  fieldOf(model: RuntimeModel, name: string): RuntimeField | undefined {
    return model.field(name) ?? model.fields.find((field) => field.column === name)
  }

  /** The value of a field, computed fields and one2many included. */
  value(model: RuntimeModel, record: StoredRecord, field: RuntimeField): StoredValue {
    if (field.name === 'id') return record.id
    if (field.name === 'display_name') return this.displayName(model.name, record.id)
    if (field.compute) return field.compute(record, this)
    if (field.inverseName && (field.type === 'one2many' || field.type === 'many2many')) {
      // One2many, or a many2many read from the other side (res.groups.users): the comodel records pointing here.
      const comodel = this.registry.get(field.relation ?? '')
      const inverse = comodel ? this.fieldOf(comodel, field.inverseName) : undefined
      if (!comodel || !inverse) return []
      if (inverse.compute) {
        // The inverse is computed (sale.order.line.salesman_id): scan.
        return [...this.table(comodel.name).values()]
          .filter((r) => {
            const target = inverse.compute?.(r, this)
            return target === record.id || (Array.isArray(target) && target.includes(record.id))
          })
          .map((r) => r.id)
      }
      return this.referencing(comodel.name, inverse.column, record.id)
    }
    const value = record[field.column]
    return value === undefined ? emptyValue(field.type) : value
  }

  /** DataView.fieldValue: the value of the field named `name` (or stored under it) on `record`. */
  fieldValue(modelName: string, record: StoredRecord, name: string): StoredValue {
    const model = this.model(modelName)
    const field = this.fieldOf(model, name)
    if (!field) throw new Error(`unknown field ${modelName}.${name}`)
    return this.value(model, record, field)
  }

  /**
   * Optional decoration of every display name (for property tests: a name the policy hides differs between two
   * databases). Applied by displayName(), i.e. everywhere Odoo shows a display name (many2one values, the
   * display_name field, read_group labels, name_search) and where it searches one (see domain.ts: a record whose
   * decorated name differs from the plain one is matched on its decorated name). Unset: names as Odoo computes them.
   */
  displayNameDecoration?: (model: string, id: number, name: string) => string

  /** The display name as Odoo shows it (`display_name`), decorated when a decoration is set. */
  displayName(modelName: string, id: number): string {
    const name = this.plainDisplayName(modelName, id)
    return this.displayNameDecoration ? this.displayNameDecoration(modelName, id, name) : name
  }

  /** The display name without the decoration (what Odoo's _compute_display_name gives). */
  plainDisplayName(modelName: string, id: number): string {
    const model = this.registry.get(modelName)
    const record = this.get(modelName, id)
    if (!model || !record) return `${modelName},${id}`
    if (model.displayName) return model.displayName(record, this)
    const recField = model.field(model.recName)
    const value = recField ? this.value(model, record, recField) : false
    return typeof value === 'string' ? value : `${modelName},${id}`
  }
}
