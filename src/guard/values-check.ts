/**
 * Values to create or write, under a policy. Every key must be a field the key may see; a related field writes the
 * field it mirrors (Odoo writes through related fields), so that one must be writable too; and every value of a
 * one2many / many2many field is read as the commands Odoo will run, each requiring the rights of what it does to
 * the related model:
 *
 * | command (Odoo)            | one2many (rewrites the line's link back)        | many2many (rewrites the relation) |
 * |---------------------------|-------------------------------------------------|-----------------------------------|
 * | 0 create, vals            | create on the related model, vals checked there | the same                          |
 * | 1 update, id, vals        | write on the related model, vals checked there  | the same                          |
 * | 2 delete, id              | unlink on the related model                     | the same                          |
 * | 3 unlink, id              | write of the link back + unlink (cascade)       | read of the related model         |
 * | 4 link, id                | write of the link back (moves the line)         | read of the related model         |
 * | 5 clear / false           | write of the link back + unlink                 | read of the related model         |
 * | 6 set, ids / a bare id list | write of the link back + unlink               | read of the related model         |
 *
 * Codes may be JSON booleans (Odoo compares with Python's `==`: false is 0, true is 1). Anything else, and lists
 * that mix commands with ids, is refused: nothing is passed to Odoo that the gateway has not understood.
 */
import { ToolError } from '../errors'
import type { FieldInfo } from '../odoo/metadata'
import { denied, maskedNote, quoteList, RELATIONAL_TYPES, X2MANY_TYPES, type PolicyView } from './visibility'

/** The code of a one2many/many2many command as Odoo reads it (Python `==`: False is 0, True is 1). */
export function commandCode(code: unknown): number | undefined {
  if (typeof code === 'boolean') return code ? 1 : 0
  return typeof code === 'number' && Number.isInteger(code) && code >= 0 && code <= 6 ? code : undefined
}

const isId = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value > 0

function invalidValue(message: string): never {
  throw new ToolError(message, 'invalid_values')
}

export function createValuesChecker(view: PolicyView) {
  async function requireWritableField(model: string, field: string, via: string): Promise<void> {
    view.requireOperation(model, 'write', via)
    if (!(await view.fieldVisible(model, field))) {
      denied(`Field '${field}' of model '${model}' is not allowed for this API key (written by ${via})${maskedNote(view, model, field)}.`, {
        kind: 'field',
        model,
        fields: [field],
        where: `the values to write, through ${via}`,
      })
    }
  }

  /**
   * A related field writes the field at the end of its path (`partner_id.email` writes the partner's email), which
   * may itself be related: followed to the stored field at the end of the chain (`seen` cuts cycles).
   */
  async function checkRelatedWrite(model: string, field: string, related: string, seen: ReadonlySet<string> = new Set()): Promise<void> {
    const key = `${model}.${field}`
    if (seen.has(key)) return
    const path = related.split('.')
    let current = model
    for (let i = 0; i < path.length - 1; i++) {
      view.requireOperation(current, 'read', `related field '${field}'`)
      const info = (await view.fieldsOf(current))[path[i]!]
      if (!info?.relation || !RELATIONAL_TYPES.has(info.type)) return // Odoo would refuse the path itself
      current = info.relation
    }
    const target = path.at(-1)!
    await requireWritableField(current, target, `related field '${field}' of '${model}' (it mirrors '${related}')`)
    const next = (await view.fieldsOf(current))[target]?.related
    if (typeof next === 'string' && next) await checkRelatedWrite(current, target, next, new Set([...seen, key]))
  }

  async function checkCommands(model: string, field: string, info: FieldInfo, value: unknown): Promise<void> {
    const target = info.relation!
    const one2many = info.type === 'one2many'
    const where = (code: number | string) => `'${field}' of '${model}' (command ${code})`

    /** What linking, unlinking, clearing or setting lines rewrites. */
    const relink = async (code: number | string) => {
      if (!one2many) {
        view.requireOperation(target, 'read', where(code))
        return
      }
      const inverse = typeof info.relation_field === 'string' && info.relation_field ? info.relation_field : undefined
      if (!inverse) denied(`${where(code)}: Odoo did not say which field of '${target}' this one2many rewrites, so the change is refused.`)
      await requireWritableField(target, inverse, where(code))
      // Lines taken out of a one2many are deleted when their link back is ondelete='cascade' (sale.order.line).
      if (code !== 4) view.requireOperation(target, 'unlink', where(code))
    }

    if (value === false || value === null) return relink('5 (false clears the field)')
    if (!Array.isArray(value)) invalidValue(`The value of '${field}' must be a list of commands (e.g. [[4, 7]]) or of ids.`)
    if (value.length === 0) return relink('6 (an empty list replaces every record)')
    if (value.every(isId)) return relink('6 (a list of ids replaces the records)')
    for (const command of value) {
      if (!Array.isArray(command) || command.length === 0 || command.length > 3) {
        invalidValue(`The value of '${field}' must be a list of commands such as [0, 0, {...}], [4, id] or [6, 0, [ids]], not a mix of commands and ids (got ${JSON.stringify(command)?.slice(0, 60)}).`)
      }
      const code = commandCode(command[0])
      if (code === undefined) invalidValue(`Unknown command ${JSON.stringify(command[0])?.slice(0, 20)} in '${field}': commands are 0 to 6.`)
      if ((code >= 1 && code <= 4) && !isId(command[1])) invalidValue(`Command ${code} in '${field}' needs a record id as its second element.`)
      if (code === 0 || code === 1) {
        const nested: unknown = command[2]
        view.requireOperation(target, code === 0 ? 'create' : 'write', where(code))
        // Odoo would also build the values with dict(), which takes a list of pairs: only an object can be checked.
        if (!nested || typeof nested !== 'object' || Array.isArray(nested)) {
          invalidValue(`The values of ${where(code)} must be an object of field values, e.g. [0, 0, {"name": "..."}].`)
        }
        await checkValues(target, nested as Record<string, unknown>)
      } else if (code === 2) {
        view.requireOperation(target, 'unlink', where(code))
      } else if (code === 6) {
        const ids: unknown = command[2]
        if (!Array.isArray(ids) || !ids.every(isId)) invalidValue(`Command 6 in '${field}' needs a list of record ids: [6, 0, [ids]].`)
        await relink(code)
      } else {
        await relink(code)
      }
    }
  }

  async function checkValues(model: string, values: Record<string, unknown>): Promise<void> {
    const fields = await view.fieldsOf(model)
    const refused: string[] = []
    for (const field of Object.keys(values)) if (!(await view.fieldVisible(model, field))) refused.push(field)
    if (refused.length > 0) {
      denied(
        `${refused.length === 1 ? 'Field' : 'Fields'} ${quoteList(refused)} of model '${model}' ${refused.length === 1 ? 'is' : 'are'} ` +
          'not allowed for this API key (in the values to write). Call describe_model to see the fields this key may use' +
          `${refused.length === 1 ? maskedNote(view, model, refused[0]!) : ''}.`,
        { kind: 'field', model, fields: refused, where: 'the values to write' },
      )
    }
    for (const [field, value] of Object.entries(values)) {
      const info = fields[field]
      if (!info) continue // Odoo refuses unknown fields itself
      if (typeof info.related === 'string' && info.related) await checkRelatedWrite(model, field, info.related)
      if (X2MANY_TYPES.has(info.type) && info.relation) await checkCommands(model, field, info, value)
    }
  }

  return { checkValues }
}
