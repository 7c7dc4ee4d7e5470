// The simulator's computed fields, related fields and display names read only what they declare (FieldDef.depends,
// FieldDef.related, ModelDef.displayNameDepends): the non-interference property suite relies on it to know which
// stored values a visible computed value reveals. Each compute runs on demo records with every read recorded; then
// every stored value it does not declare, on the record and on the records it points to, is changed, and the value
// must stay the same.
import { describe, expect, it } from 'vitest'
import type { Db } from '../odoo-sim/db'
import { createState } from '../odoo-sim/handler'
import type { RuntimeField, RuntimeModel } from '../odoo-sim/models'
import { dependenciesOf, dependencyCells, dependencyColumns } from '../odoo-sim/models/dependencies'
import type { DataView } from '../odoo-sim/models/model'
import type { StoredRecord, StoredValue } from '../odoo-sim/types'

type Version = 18 | 19

/** The fields whose value is computed: computed and related fields, and display_name. */
function computedFields(model: RuntimeModel): RuntimeField[] {
  return model.fields.filter((field) => field.compute || field.name === 'display_name')
}

/** A few records of each model: enough to meet contacts with and without a company, orders with lines... */
function sample(db: Db, model: string): StoredRecord[] {
  const all = [...db.table(model).values()]
  if (all.length <= 12) return all
  return all.filter((_, index) => index % Math.ceil(all.length / 12) === 0)
}

/** A DataView over `db` that records every stored cell read ('model,id,column'; 'model,*,column' for a scan). */
function trackingView(db: Db, reads: Set<string>): DataView {
  const wrap = (model: string, record: StoredRecord): StoredRecord =>
    new Proxy(record, {
      get(target, property, receiver) {
        if (typeof property === 'string' && property !== 'id') reads.add(`${model},${target.id},${property}`)
        return Reflect.get(target, property, receiver) as unknown
      },
    })
  const view: DataView = {
    version: db.version,
    get: (model, id) => {
      const record = db.get(model, id)
      return record ? wrap(model, record) : undefined
    },
    referencing: (model, column, id) => {
      reads.add(`${model},*,${column}`)
      return db.referencing(model, column, id)
    },
    displayName: (model, id) => {
      const record = db.get(model, id)
      return record ? String(computeWith(db, view, db.model(model), record, 'display_name')) : `${model},${id}`
    },
    fieldValue: (model, record, name) => computeWith(db, view, db.model(model), record, name),
  }
  return view
}

/** The value of a field like Db.value, every read going through `view`. */
function computeWith(db: Db, view: DataView, model: RuntimeModel, record: StoredRecord, name: string): StoredValue {
  const field = db.fieldOf(model, name)
  if (!field) throw new Error(`unknown field ${model.name}.${name}`)
  const tracked = view.get(model.name, record.id) ?? record
  if (field.name === 'id') return record.id
  if (field.name === 'display_name') {
    if (model.displayName) return model.displayName(tracked, view)
    const value = computeWith(db, view, model, record, model.recName)
    return typeof value === 'string' ? value : `${model.name},${record.id}`
  }
  if (field.compute) return field.compute(tracked, view)
  if (field.inverseName && (field.type === 'one2many' || field.type === 'many2many')) {
    const comodel = db.model(field.relation ?? '')
    const inverse = db.fieldOf(comodel, field.inverseName)
    return view.referencing(comodel.name, inverse?.column ?? field.inverseName, record.id)
  }
  return tracked[field.column] ?? false
}

function allowed(cells: Set<string>, read: string): boolean {
  if (cells.has(read)) return true
  const [model, , column] = read.split(',')
  return cells.has(`${model},*,${column}`)
}

/** Another valid value for a stored cell. */
function otherValue(db: Db, model: RuntimeModel, record: StoredRecord, field: RuntimeField): StoredValue {
  const value = record[field.column]
  switch (field.type) {
    case 'boolean':
      return value !== true
    case 'integer':
    case 'float':
    case 'monetary':
      return (typeof value === 'number' ? value : 0) + 7
    case 'selection': {
      const keys = (field.selection ?? []).map(([key]) => key)
      return keys.find((key) => key !== value) ?? false
    }
    case 'many2one': {
      const ids = [...db.table(field.relation ?? '').keys()].filter((id) => id !== value && !(field.relation === model.name && id === record.id))
      return ids[0] ?? false
    }
    case 'many2many':
      return Array.isArray(value) && value.length > 0 ? [] : [...db.table(field.relation ?? '').keys()].slice(0, 1)
    case 'date':
      return '2001-02-03'
    case 'datetime':
      return '2001-02-03 04:05:06'
    default:
      return `${typeof value === 'string' ? value : ''} (changed)`
  }
}

function storedFields(model: RuntimeModel): RuntimeField[] {
  return model.fields.filter((field) => !field.compute && field.store !== false && field.type !== 'one2many')
}

/** The records a record points to (many2one targets, x2many members), with their models. */
function neighbours(db: Db, model: RuntimeModel, record: StoredRecord): [RuntimeModel, StoredRecord][] {
  const out: [RuntimeModel, StoredRecord][] = [[model, record]]
  for (const field of model.fields) {
    if (!field.relation || field.name === 'display_name' || field.compute) continue
    const value = db.value(model, record, field)
    const ids = typeof value === 'number' ? [value] : Array.isArray(value) ? value : []
    const comodel = db.model(field.relation)
    for (const id of ids) {
      const target = db.get(comodel.name, id)
      if (target) out.push([comodel, target])
    }
  }
  return out
}

describe.each([18, 19] as const)('Odoo %s computed values and their dependencies', (version: Version) => {
  it('declares depends on every computed field, and dependenciesOf expands them to stored fields', () => {
    const db = createState({ version }).db
    for (const model of db.registry.values()) {
      for (const field of computedFields(model)) {
        if (field.name !== 'display_name') expect(field.depends, `${model.name}.${field.name}`).toBeDefined()
        for (const path of dependenciesOf(db.registry, model.name, field.name)) {
          // Every step exists; the last one is stored (or a one2many, standing for its comodel's inverse field).
          let current: RuntimeModel = model
          const names = path.split('.')
          for (const [index, name] of names.entries()) {
            const step = db.fieldOf(current, name)
            expect(step, `${model.name}.${field.name}: ${path}`).toBeDefined()
            if (index === names.length - 1) {
              expect(!step?.compute || step.relation !== undefined, `${model.name}.${field.name}: ${path}`).toBe(true)
            } else {
              current = db.model(step?.relation ?? '')
            }
          }
        }
      }
    }
  })

  it('expands dependencies like Odoo declares them', () => {
    const { registry } = createState({ version }).db
    expect(dependenciesOf(registry, 'res.partner', 'country_code')).toEqual(['country_id.code'])
    expect(dependenciesOf(registry, 'res.partner', 'display_name')).toEqual(['is_company', 'name', 'parent_id.name', 'type'])
    expect(dependenciesOf(registry, 'sale.order', 'amount_total')).toEqual([
      'order_line.product_uom_qty',
      'order_line.discount',
      'order_line.price_unit',
    ])
    expect(dependenciesOf(registry, 'sale.order.line', 'salesman_id')).toEqual(['order_id.user_id'])
    expect(dependenciesOf(registry, 'sale.order.line', 'display_name')).toEqual(['name', 'order_id.name'])
    expect(dependenciesOf(registry, 'product.product', 'display_name')).toEqual(['name', 'default_code'])
    expect(dependenciesOf(registry, 'res.users', 'email')).toEqual(['partner_id.email'])
    expect(dependenciesOf(registry, 'res.users', 'share')).toEqual([version === 18 ? 'groups_id' : 'group_ids'])
    expect(dependenciesOf(registry, 'res.partner', 'email')).toEqual(['email'])
    // A recursive dependency is unrolled once: the paths name every column it reads.
    expect(dependenciesOf(registry, 'product.category', 'complete_name')).toEqual(['name', 'parent_id.name', 'parent_id.parent_id'])
    expect(dependencyColumns(registry, 'res.partner', 'commercial_partner_id')).toEqual(['res.partner.is_company', 'res.partner.parent_id'])
    // A one2many stands for its comodel's inverse field.
    expect(dependencyColumns(registry, 'sale.order', 'amount_untaxed')).toEqual([
      'sale.order.line.discount',
      'sale.order.line.order_id',
      'sale.order.line.price_unit',
      'sale.order.line.product_uom_qty',
    ])
    expect(dependencyColumns(registry, 'res.partner', 'sale_order_count')).toEqual(['sale.order.partner_id'])
  })

  it('reads, in every compute, only the stored values its dependencies name', () => {
    const db = createState({ version }).db
    let checked = 0
    for (const model of db.registry.values()) {
      for (const field of computedFields(model)) {
        for (const record of sample(db, model.name)) {
          const reads = new Set<string>()
          const value = computeWith(db, trackingView(db, reads), model, record, field.name)
          expect(value).toEqual(db.value(model, record, field))
          const cells = dependencyCells(db, model.name, record.id, field.name)
          const undeclared = [...reads].filter((read) => !allowed(cells, read))
          expect(undeclared, `${model.name}.${field.name} of ${record.id}`).toEqual([])
          checked++
        }
      }
    }
    expect(checked).toBeGreaterThan(200)
  })

  it('computes the same value whatever the stored values it does not depend on', () => {
    const db = createState({ version }).db
    let changed = 0
    for (const model of db.registry.values()) {
      for (const field of computedFields(model)) {
        for (const record of sample(db, model.name).slice(0, 4)) {
          const before = db.value(model, record, field)
          const cells = dependencyCells(db, model.name, record.id, field.name)
          for (const [other, target] of neighbours(db, model, record)) {
            for (const column of storedFields(other)) {
              if (allowed(cells, `${other.name},${target.id},${column.column}`)) continue
              const old = target[column.column] ?? false
              db.update(other.name, target.id, { [column.column]: otherValue(db, other, target, column) })
              const after = db.value(model, db.get(model.name, record.id) as StoredRecord, field)
              db.update(other.name, target.id, { [column.column]: old })
              expect(after, `${model.name}.${field.name} of ${record.id} after changing ${other.name}.${column.name} of ${target.id}`).toEqual(before)
              changed++
            }
          }
        }
      }
    }
    expect(changed).toBeGreaterThan(1000)
  })

  it('reports related fields and dependencies in fields_get, like Odoo', async () => {
    const { handleOdooRequest } = await import('../odoo-sim/handler')
    const state = createState({ version })
    const call = (model: string, fields: string[]) => {
      const response = handleOdooRequest(state, {
        method: 'POST',
        path: '/jsonrpc',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          method: 'call',
          id: 1,
          params: {
            service: 'object',
            method: 'execute_kw',
            args: ['mcp_demo', 2, 'admin', model, 'fields_get', [fields], { attributes: ['related', 'depends', 'type', 'relation', 'store', 'readonly'] }],
          },
        }),
      })
      return (JSON.parse(response.body) as { result: Record<string, Record<string, unknown>> }).result
    }
    const partner = call('res.partner', ['country_code', 'parent_name', 'name', 'complete_name', 'child_ids'])
    expect(partner['country_code']).toEqual({ depends: ['country_id.code'], readonly: true, related: 'country_id.code', store: false, type: 'char' })
    expect(partner['parent_name']?.['related']).toBe('parent_id.name')
    expect(partner['name']).toEqual({ depends: [], readonly: false, store: true, type: 'char' })
    expect(partner['complete_name']?.['depends']).toEqual(['is_company', 'name', 'parent_id.name', 'type'])
    expect(partner['child_ids']?.['depends']).toEqual(['child_ids.active'])
    const line = call('sale.order.line', ['salesman_id', 'order_partner_id', 'state', 'currency_id', 'company_id'])
    expect(Object.fromEntries(Object.entries(line).map(([name, d]) => [name, [d['related'], d['relation'] ?? null, d['store']]]))).toEqual({
      salesman_id: ['order_id.user_id', 'res.users', true],
      order_partner_id: ['order_id.partner_id', 'res.partner', true],
      state: ['order_id.state', null, true],
      currency_id: ['order_id.currency_id', 'res.currency', true],
      company_id: ['order_id.company_id', 'res.company', true],
    })
    expect(call('res.users', ['email'])['email']?.['related']).toBe('partner_id.email')
  })
})
