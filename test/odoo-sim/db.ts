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

  insert(model: string, record: StoredRecord): void {
    this.table(model).set(record.id, record)
    this.revision++
  }

  update(model: string, id: number, values: Record<string, StoredValue>): void {
    const record = this.get(model, id)
    if (!record) return
    Object.assign(record, values)
    this.revision++
  }

  remove(model: string, id: number): void {
    this.table(model).delete(id)
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

  /** The value of a field, computed fields and one2many included. */
  value(model: RuntimeModel, record: StoredRecord, field: RuntimeField): StoredValue {
    if (field.name === 'id') return record.id
    if (field.name === 'display_name') return this.displayName(model.name, record.id)
    if (field.compute) return field.compute(record, this)
    if (field.type === 'one2many') {
      const comodel = this.registry.get(field.relation ?? '')
      const inverse = comodel?.field(field.inverseName ?? '')
      if (!comodel || !inverse) return []
      if (inverse.compute) {
        // The inverse is computed (sale.order.line.salesman_id): scan.
        return [...this.table(comodel.name).values()]
          .filter((r) => inverse.compute?.(r, this) === record.id)
          .map((r) => r.id)
      }
      return this.referencing(comodel.name, inverse.column, record.id)
    }
    const value = record[field.column]
    return value === undefined ? emptyValue(field.type) : value
  }

  displayName(modelName: string, id: number): string {
    const model = this.registry.get(modelName)
    const record = this.get(modelName, id)
    if (!model || !record) return `${modelName},${id}`
    if (model.displayName) return model.displayName(record, this)
    const recField = model.field(model.recName)
    const value = recField ? this.value(model, record, recField) : false
    return typeof value === 'string' ? value : `${modelName},${id}`
  }
}
