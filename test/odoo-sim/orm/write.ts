// create / write / unlink with Odoo's checks: model access, record rules, unknown fields, relational commands,
// required columns and foreign keys (PostgreSQL errors turned into ValidationError like odoo/service/model.py),
// Python constraints (recursive hierarchies) and business rules (confirmed orders cannot be deleted).
import { fieldAccessError18, fieldAccessError19, fieldAllowed, ruleError } from '../access'
import { OdooError, missingError, userError, validationError, valueError } from '../errors'
import type { Operation } from '../models/model'
import type { RuntimeField, RuntimeModel } from '../models'
import { reprRecordset, pyRepr } from '../python'
import type { Json, JsonObject, StoredRecord, StoredValue } from '../types'
import type { Env } from './env'
import { visibleLinks } from './read'
import { checkAcl, rulePredicate } from './search'

const MAGIC = new Set(['id', 'display_name', 'create_uid', 'create_date', 'write_uid', 'write_date'])

function table(model: RuntimeModel): string {
  return model.name.replace(/\./g, '_')
}

function foreignKeyError(model: RuntimeModel, constraint: string, pgMessage: string): OdooError {
  return validationError(
    'The operation cannot be completed: another model requires the record being deleted. If possible, archive it instead.\n\n' +
      `Model: ${model.description} (${model.name})\nConstraint: ${constraint}`,
    'sql',
    { pgError: 'psycopg2.errors.ForeignKeyViolation', pgMessage },
  )
}

function notNullError(model: RuntimeModel, field: RuntimeField): OdooError {
  return validationError(
    'The operation cannot be completed:\n' +
      '- Create/update: a mandatory field is not set.\n' +
      '- Delete: another model requires the record being deleted. If possible, archive it instead.\n\n' +
      `Model: ${model.description} (${model.name})\nField: ${field.string} (${field.name})`,
    'sql',
    {
      pgError: 'psycopg2.errors.NotNullViolation',
      pgMessage: `null value in column "${field.column}" of relation "${table(model)}" violates not-null constraint`,
    },
  )
}

function missing(env: Env, model: RuntimeModel, ids: number[]): OdooError {
  return missingError(
    `Record does not exist or has been deleted.\n(Record: ${reprRecordset(model.name, ids)}, User: ${env.user.uid})`,
  )
}

function checkRecords(env: Env, model: RuntimeModel, ids: number[], operation: Operation): StoredRecord[] {
  const records: StoredRecord[] = []
  const absent: number[] = []
  for (const id of new Set(ids)) {
    const record = env.db.get(model.name, id)
    if (record) records.push(record)
    else absent.push(id)
  }
  if (absent.length) throw missing(env, model, absent)
  const rule = rulePredicate(env, model, operation)
  if (rule && records.some((record) => !rule(record))) throw ruleError(model, operation, env.user)
  return records
}

function toIds(value: Json): number[] {
  if (typeof value === 'number') return [value]
  return Array.isArray(value) ? value.filter((v): v is number => typeof v === 'number') : []
}

/** The code of an x2many command: Python compares it with Command.CREATE... so False is 0 and True is 1. */
function commandCode(code: Json): number | null {
  if (typeof code === 'boolean') return code ? 1 : 0
  return typeof code === 'number' ? code : null
}

/** Python truthiness of a value of `vals`. */
function truthy(value: Json | undefined): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return false
  return Array.isArray(value) ? value.length > 0 : true
}

function isVals(value: Json | undefined): value is JsonObject {
  return value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value)
}

/**
 * An x2many value as a list of commands (_RelationalMulti.write_batch): a list of bare ids is [6, 0, ids], False
 * is [5].
 */
function asCommands(value: Json): Json[] {
  if (value === false || value === null) return [[5]]
  if (!Array.isArray(value)) return []
  if (value.length > 0 && !Array.isArray(value[0])) return [[6, 0, value]]
  return value
}

interface PendingLines {
  field: RuntimeField
  commands: Json[]
}

/** Converts one value of `vals`; x2many commands on one2many fields are applied after the record exists. */
function convert(
  env: Env,
  model: RuntimeModel,
  field: RuntimeField,
  value: Json,
  current: StoredValue | undefined,
): StoredValue {
  switch (field.type) {
    case 'boolean':
      return Boolean(value)
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : Number(value) || 0
    case 'float':
    case 'monetary':
      return typeof value === 'number' ? value : Number(value) || 0
    case 'many2one': {
      if (value === false || value === null || value === 0) return false
      const id =
        typeof value === 'number' ? value : Array.isArray(value) && typeof value[0] === 'number' ? value[0] : NaN
      if (!Number.isInteger(id))
        throw valueError(`Wrong value for ${model.name}.${field.name}: ${pyRepr(value)}`, 'value')
      if (!env.db.get(field.relation ?? '', id)) {
        const comodel = env.db.model(field.relation ?? '')
        throw foreignKeyError(
          model,
          `${table(model)}_${field.column}_fkey`,
          `insert or update on table "${table(model)}" violates foreign key constraint "${table(model)}_${field.column}_fkey"\n` +
            `DETAIL:  Key (${field.column})=(${id}) is not present in table "${table(comodel)}".`,
        )
      }
      return id
    }
    case 'many2many': {
      let ids = Array.isArray(current) ? [...current] : []
      const comodel = env.db.model(field.relation ?? '')
      for (const command of asCommands(value)) {
        if (!Array.isArray(command)) continue
        const [rawCode, id, arg] = command as [Json, Json, Json]
        const code = commandCode(rawCode)
        if (code === 6) ids = [...new Set(toIds(arg))]
        else if (code === 0 && isVals(arg)) ids.push(...createRecords(env, comodel, [arg], { sudo: true }))
        else if (code === 1 && typeof id === 'number' && isVals(arg)) {
          writeRecords(env, comodel, [id], arg, { sudo: true })
          if (!ids.includes(id)) ids.push(id)
        } else if (code === 4 && typeof id === 'number' && !ids.includes(id)) ids.push(id)
        else if ((code === 3 || code === 2) && typeof id === 'number') ids = ids.filter((x) => x !== id)
        else if (code === 5) ids = []
      }
      for (const id of ids) {
        if (!env.db.get(field.relation ?? '', id)) throw missing(env, env.db.model(field.relation ?? ''), [id])
      }
      return ids
    }
    case 'selection': {
      if (value === false || value === null) return false
      if (!field.selection?.some(([key]) => key === value)) {
        throw valueError(`Wrong value for ${model.name}.${field.name}: ${pyRepr(value)}`, 'value')
      }
      return value as string
    }
    case 'date':
    case 'datetime': {
      if (value === false || value === null || value === '') return false
      const text = String(value)
        .replace('T', ' ')
        .replace(/Z$/, '')
        .replace(/\.\d+$/, '')
      if (field.type === 'date') return text.slice(0, 10)
      return /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text} 00:00:00` : text
    }
    default:
      return value === null || value === false ? false : typeof value === 'string' ? value : String(value)
  }
}

/** Checks the keys of `vals` and converts them; returns the stored values and the one2many commands. */
function prepare(
  env: Env,
  model: RuntimeModel,
  vals: JsonObject,
  record: StoredRecord | null,
): { values: Record<string, StoredValue>; lines: PendingLines[]; related: RelatedWrite[] } {
  const values: Record<string, StoredValue> = {}
  const lines: PendingLines[] = []
  const related: RelatedWrite[] = []
  const denied: RuntimeField[] = []
  for (const name of Object.keys(vals)) {
    const field = model.field(name)
    if (!field) throw valueError(`Invalid field '${name}' on model '${model.name}'`, 'write-field')
    if (field.groups && !fieldAllowed(field, env.user)) denied.push(field)
  }
  if (denied.length) {
    throw env.version === 18
      ? fieldAccessError18(model, denied, 'write', env.user.uid)
      : fieldAccessError19(model, denied[0] as RuntimeField, 'write', env.user)
  }
  for (const [name, value] of Object.entries(vals)) {
    const field = model.field(name) as RuntimeField
    // A writable related field (res.users.email) writes the field it mirrors (Field._inverse_related).
    if (field.related && !field.readonly && !MAGIC.has(name)) related.push({ field, value })
    if (MAGIC.has(name) || field.compute || field.store === false) continue
    if (field.type === 'one2many') {
      lines.push({ field, commands: asCommands(value) })
      continue
    }
    values[field.column] = convert(env, model, field, value, record?.[field.column])
  }
  return { values, lines, related }
}

interface RelatedWrite {
  field: RuntimeField
  value: Json
}

/** Writes the values of writable related fields on the records their paths lead to (as superuser, like Odoo). */
function applyRelated(env: Env, model: RuntimeModel, recordId: number, writes: RelatedWrite[]): void {
  for (const { field, value } of writes) {
    const names = (field.related ?? '').split('.')
    let current: RuntimeModel = model
    let id: number | undefined = recordId
    for (const name of names.slice(0, -1)) {
      const step = env.db.fieldOf(current, name)
      const record = id === undefined ? undefined : env.db.get(current.name, id)
      if (!step || !record) {
        id = undefined
        break
      }
      const target = env.db.value(current, record, step)
      id = typeof target === 'number' ? target : Array.isArray(target) ? target[0] : undefined
      current = env.db.model(step.relation ?? '')
    }
    const last = names.at(-1) ?? ''
    if (id !== undefined && env.db.get(current.name, id)) writeRecords(env, current, [id], { [last]: value }, { sudo: true })
  }
}

/**
 * One2many commands (One2many.write_real): 0 creates a line, 1 updates one, 2 deletes one, 4 links one (moving it
 * from its current parent), 3 removes one and 5 / 6 remove the lines not kept. A removed line is deleted when its
 * inverse many2one is ondelete='cascade' (sale.order.line.order_id), else detached (its inverse set to False).
 * 5 and 6 remove the current lines the field shows: its domain and its context's active_test apply.
 */
function applyLines(env: Env, parentId: number, pending: PendingLines[]): void {
  for (const { field, commands } of pending) {
    const comodel = env.db.model(field.relation ?? '')
    const inverse = env.db.fieldOf(comodel, field.inverseName ?? '')
    if (!inverse) continue
    const remove = (ids: number[]) => {
      const existing = ids.filter((id) => env.db.get(comodel.name, id) !== undefined)
      if (existing.length === 0) return
      if (inverse.ondelete === 'cascade') unlinkRecords(env, comodel, existing, { sudo: true })
      else for (const id of existing) env.db.update(comodel.name, id, { [inverse.column]: false })
    }
    for (const command of commands) {
      if (!Array.isArray(command)) continue
      const [rawCode, id, arg] = command as [Json, Json, Json]
      const code = commandCode(rawCode)
      if (code === 0 && isVals(arg)) {
        createRecords(env, comodel, [{ ...arg, [inverse.name]: parentId }], { sudo: true })
      } else if (code === 1 && typeof id === 'number' && isVals(arg)) {
        writeRecords(env, comodel, [id], arg, { sudo: true })
      } else if (code === 2 && typeof id === 'number') {
        unlinkRecords(env, comodel, [id], { sudo: true })
      } else if (code === 3 && typeof id === 'number') {
        remove([id])
      } else if (code === 4 && typeof id === 'number') {
        env.db.update(comodel.name, id, { [inverse.column]: parentId })
      } else if (code === 5 || code === 6) {
        const keep = code === 6 ? toIds(arg) : []
        const current = visibleLinks(env, field, env.db.referencing(comodel.name, inverse.column, parentId))
        remove(current.filter((childId) => !keep.includes(childId)))
        for (const childId of keep) env.db.update(comodel.name, childId, { [inverse.column]: parentId })
      }
    }
  }
}

const RECURSION_MESSAGES: Record<string, string> = {
  'res.partner': 'You cannot create recursive Partner hierarchies.',
  'hr.employee': 'You cannot create a recursive hierarchy.',
  'hr.department': 'You cannot create recursive departments.',
  'product.category': 'You cannot create recursive categories.',
}

function checkRecursion(env: Env, model: RuntimeModel, id: number, values: Record<string, StoredValue>): void {
  const parentField = model.parentField ? model.field(model.parentField) : undefined
  if (!parentField || !(parentField.column in values)) return
  let current = values[parentField.column]
  const seen = new Set<number>()
  while (typeof current === 'number' && current > 0 && !seen.has(current)) {
    if (current === id) throw validationError(RECURSION_MESSAGES[model.name] ?? 'Recursion Detected.', 'constraint')
    seen.add(current)
    current = env.db.get(model.name, current)?.[parentField.column] ?? false
  }
}

function checkRequired(model: RuntimeModel, record: StoredRecord): void {
  if (model.name === 'res.partner') {
    // CHECK (type='contact' AND name IS NOT NULL or type!='contact') on res_partner.
    if (record['type'] === 'contact' && !record['name']) {
      throw validationError('The operation cannot be completed: Contacts require a name', 'sql', {
        pgError: 'psycopg2.errors.CheckViolation',
        pgMessage: 'new row for relation "res_partner" violates check constraint "res_partner_check_name"',
      })
    }
    return
  }
  for (const field of model.fields) {
    if (!field.required || field.compute || field.type === 'one2many' || field.type === 'many2many') continue
    const value = record[field.column]
    if (value === false || value === undefined || value === '') throw notNullError(model, field)
  }
}

interface WriteOptions {
  /** Internal writes (one2many commands) skip access rights, as Odoo does with sudo() in those paths. */
  sudo?: boolean
}

export function createRecords(
  env: Env,
  model: RuntimeModel,
  valsList: JsonObject[],
  options: WriteOptions = {},
): number[] {
  if (!options.sudo) checkAcl(env, model, 'create')
  const ids: number[] = []
  for (const vals of valsList) {
    const { values, lines, related } = prepare(env, model, vals, null)
    if (model.name === 'res.users' && !values['partner_id']) {
      // _inherits res.partner: the user's partner is created with it (its name; related fields are written below).
      const name = typeof vals['name'] === 'string' ? vals['name'] : typeof vals['login'] === 'string' ? vals['login'] : false
      values['partner_id'] = createRecords(env, env.db.model('res.partner'), [{ name }], { sudo: true })[0] ?? false
    }
    // The id is taken before the INSERT can fail, like a PostgreSQL sequence.
    const record: StoredRecord = { id: env.db.nextId(model.name) }
    for (const [name, makeDefault] of Object.entries(model.defaults ?? {})) {
      const field = env.db.fieldOf(model, name)
      if (field && !(field.column in values))
        record[field.column] = makeDefault({ uid: env.user.uid, now: env.now, data: env.db })
    }
    Object.assign(record, values)
    if (model.name === 'sale.order' && (!record['name'] || record['name'] === 'New')) {
      record['name'] = `S${String(env.db.sequence('sale.order')).padStart(5, '0')}`
    }
    if (model.name === 'sale.order') {
      record['partner_invoice_id'] ||= record['partner_id'] ?? false
      record['partner_shipping_id'] ||= record['partner_id'] ?? false
    }
    if (model.name === 'sale.order.line') completeOrderLine(env, record)
    Object.assign(record, {
      create_uid: env.user.uid,
      write_uid: env.user.uid,
      create_date: env.now,
      write_date: env.now,
    })
    env.db.complete(model, record)
    checkRequired(model, record)
    if (!options.sudo) {
      const rule = rulePredicate(env, model, 'create')
      if (rule && !rule(record)) throw ruleError(model, 'create', env.user)
    }
    env.db.insert(model.name, record)
    applyLines(env, record.id, lines)
    applyRelated(env, model, record.id, related)
    ids.push(record.id)
  }
  return ids
}

function completeOrderLine(env: Env, line: StoredRecord): void {
  const productId = line['product_id']
  const product = typeof productId === 'number' ? env.db.get('product.product', productId) : undefined
  if (product) {
    line['name'] ||= env.db.displayName('product.product', product.id)
    if (line['price_unit'] === undefined) line['price_unit'] = product['list_price'] ?? 0
  }
  if (line['product_uom_qty'] === undefined) line['product_uom_qty'] = 1
  if (line['discount'] === undefined) line['discount'] = 0
}

export function writeRecords(
  env: Env,
  model: RuntimeModel,
  ids: number[],
  vals: JsonObject,
  options: WriteOptions = {},
): boolean {
  if (!options.sudo) checkAcl(env, model, 'write')
  if (!options.sudo && model.name === 'sale.order' && truthy(vals['order_line'])) {
    // sale_stock's SaleOrder.write reads `self.state` when order lines are written, before Odoo checks the write
    // access: a record rule then refuses the *read* (transcript 61), raised from fetch().
    const rule = rulePredicate(env, model, 'read')
    const hidden = ids.some((id) => {
      const record = env.db.get(model.name, id)
      return record !== undefined && rule !== null && !rule(record)
    })
    if (hidden) {
      const error = ruleError(model, 'read', env.user)
      error.extra.method = 'read'
      throw error
    }
  }
  const records = options.sudo
    ? ids.map((id) => env.db.get(model.name, id)).filter((r): r is StoredRecord => r !== undefined)
    : checkRecords(env, model, ids, 'write')
  for (const record of records) {
    const { values, lines, related } = prepare(env, model, vals, record)
    checkRecursion(env, model, record.id, values)
    const next: StoredRecord = { ...record, ...values }
    checkRequired(model, next)
    env.db.update(model.name, record.id, { ...values, write_uid: env.user.uid, write_date: env.now })
    applyLines(env, record.id, lines)
    applyRelated(env, model, record.id, related)
  }
  return true
}

export function unlinkRecords(env: Env, model: RuntimeModel, ids: number[], options: WriteOptions = {}): boolean {
  if (!options.sudo) checkAcl(env, model, 'unlink')
  const records = options.sudo
    ? ids.map((id) => env.db.get(model.name, id)).filter((r): r is StoredRecord => r !== undefined)
    : checkRecords(env, model, ids, 'unlink')
  if (model.name === 'sale.order' && records.some((r) => r['state'] !== 'draft' && r['state'] !== 'cancel')) {
    throw userError('You can not delete a sent quotation or a confirmed sales order. You must first cancel it.')
  }
  const doomed = new Set(records.map((r) => r.id))
  // Foreign keys towards the deleted records: restrict, cascade or set null.
  for (const other of env.db.registry.values()) {
    for (const field of other.fields) {
      if (field.relation !== model.name || field.compute || field.store === false) continue
      if (field.type === 'many2one') {
        for (const id of doomed) {
          const referencing = env.db
            .referencing(other.name, field.column, id)
            .filter((rid) => !(other.name === model.name && doomed.has(rid)))
          if (referencing.length === 0) continue
          const ondelete = field.ondelete ?? (field.required ? 'restrict' : 'set null')
          if (ondelete === 'restrict') {
            const constraint = `${table(other)}_${field.column}_fkey`
            throw foreignKeyError(
              other,
              constraint,
              `update or delete on table "${table(model)}" violates foreign key constraint "${constraint}" on table "${table(other)}"\n` +
                `DETAIL:  Key (id)=(${id}) is still referenced from table "${table(other)}".`,
            )
          }
          if (ondelete === 'cascade') unlinkRecords(env, other, referencing, { sudo: true })
          else for (const rid of referencing) env.db.update(other.name, rid, { [field.column]: false })
        }
      } else if (field.type === 'many2many') {
        for (const record of [...env.db.table(other.name).values()]) {
          const value = record[field.column]
          if (Array.isArray(value) && value.some((v) => doomed.has(v)))
            env.db.update(other.name, record.id, { [field.column]: value.filter((v) => !doomed.has(v)) })
        }
      }
    }
  }
  for (const id of doomed) env.db.remove(model.name, id)
  return true
}

/** sale.order state transitions (action_confirm / action_cancel / action_draft). */
export function changeOrderState(
  env: Env,
  model: RuntimeModel,
  ids: number[],
  target: 'sale' | 'cancel' | 'draft',
): boolean {
  checkAcl(env, model, 'write')
  const records = checkRecords(env, model, ids, 'write')
  const allowed: Record<string, string[]> = {
    sale: ['draft', 'sent'],
    cancel: ['draft', 'sent', 'sale'],
    draft: ['cancel', 'sent'],
  }
  const wrong = records.filter((r) => !allowed[target]?.includes(String(r['state'])))
  if (target === 'sale' && wrong.length) {
    throw userError(
      `The following orders are not in a state requiring confirmation: ${wrong.map((r) => env.db.displayName(model.name, r.id)).join(', ')}`,
    )
  }
  for (const record of records) {
    if (wrong.includes(record)) continue
    env.db.update(model.name, record.id, { state: target, write_uid: env.user.uid, write_date: env.now })
  }
  return true
}
