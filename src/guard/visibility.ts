/**
 * What a policy lets a key see, as one place every other part of the guard asks: which models it may use for which
 * operations, which fields of them it may see, whose display names it may be shown, and on which models it may run
 * a name search. Everything else (domains, orders, groupings, values, output) is checked in terms of these answers.
 *
 * The rules, allowlist first:
 * - a model is reachable through its own entry, else through `"*"` unless it is sensitive (src/policy/sensitive.ts);
 * - a field is visible when listed (a related field listed by name: unless its path goes through a model with a
 *   record filter); under `"fields": "*"`, when its name is not sensitive, it does not point to a
 *   sensitive model (a `"*"` never reaches access-control models through a relation either), and, for a related
 *   field, when the path it mirrors is itself visible (Odoo reads related fields as superuser);
 * - a display name is shown only where `display_name` itself is visible: Odoo composes display names from other
 *   fields (`[default_code] name` for products), so a readable `name` does not make `display_name` safe;
 * - a name search (a text value on a relational or `id` condition, `display_name` in a domain, a text value of
 *   `child_of`) also matches the fields of Odoo's `_rec_names_search` (email, VAT, reference on contacts), which
 *   fields_get does not name: it is allowed only where the key sees every non-sensitive field (`"fields": "*"`).
 */
import { ToolError, type PolicyRefusal } from '../errors'
import type { FieldInfo, MetadataSource, ModelFields } from '../odoo/metadata'
import { isSensitiveField, isSensitiveModel } from '../policy/sensitive'
import type { MaskKind } from '../policy/masks'
import type { ModelPolicy, Operation, Policy } from '../policy/schema'

export const RELATIONAL_TYPES: ReadonlySet<string> = new Set(['many2one', 'one2many', 'many2many'])
export const X2MANY_TYPES: ReadonlySet<string> = new Set(['one2many', 'many2many'])

/** A `policy_denied` refusal; `refusal` says what was refused when it is a model, an operation or fields (alerts). */
export function denied(message: string, refusal?: PolicyRefusal): never {
  throw new ToolError(message, 'policy_denied', refusal)
}

export interface PolicyView {
  readonly metadata: MetadataSource
  /** The policy entry for a model: its own, else the wildcard (never for sensitive models). */
  entry(model: string): ModelPolicy | undefined
  may(model: string, operation: Operation): boolean
  /** @throws ToolError unless the key may perform `operation` on `model`. */
  requireOperation(model: string, operation: Operation, via?: string): ModelPolicy
  fieldsOf(model: string): Promise<ModelFields>
  /** May the key see `field` of `model` in clear (read it, filter, sort or group on it, write it)? */
  fieldVisible(model: string, field: string): Promise<boolean>
  /** May the key read `field` of `model`, in clear or masked? */
  fieldReadable(model: string, field: string): Promise<boolean>
  /** The mask `field` of `model` is read through, if any. */
  maskOf(model: string, field: string): MaskKind | undefined
  /** Does the key see only some records of `model` (a record filter)? */
  filtered(model: string): boolean
  /** May a many2one or group key pointing to `model` come back with its display name? */
  displayNameShown(model: string): boolean
  /** May the key run Odoo's name search on `model`? */
  nameSearchAllowed(model: string): boolean
}

export function createPolicyView(policy: Policy | null, metadata: MetadataSource): PolicyView {
  function entry(model: string): ModelPolicy | undefined {
    if (!policy) return undefined
    // Own entries only: `models` is a plain object, and a model named "constructor" would find Object's.
    if (Object.hasOwn(policy.models, model)) return policy.models[model]
    return isSensitiveModel(model) ? undefined : policy.models['*']
  }

  function may(model: string, operation: Operation): boolean {
    return entry(model)?.operations.has(operation) ?? false
  }

  function requireOperation(model: string, operation: Operation, via?: string): ModelPolicy {
    if (!policy) {
      denied('This API key has no policy, so it may not use any Odoo model. An administrator can set one with "odoo-mcp keys policy set".', {
        kind: 'model',
        model,
        ...(via ? { via } : {}),
        noPolicy: true,
      })
    }
    const found = entry(model)
    if (!found) denied(`Model '${model}' is not allowed for this API key${via ? ` (reached through ${via})` : ''}.`, { kind: 'model', model, ...(via ? { via } : {}) })
    if (!found.operations.has(operation)) {
      denied(
        `Operation '${operation}' on model '${model}' is not allowed for this API key${via ? ` (needed by ${via})` : ''} ` +
          `(allowed: ${[...found.operations].join(', ')}).`,
        { kind: 'operation', model, operation, ...(via ? { via } : {}) },
      )
    }
    return found
  }

  const fieldsOf = (model: string) => metadata.fieldsOf(model)

  /** `seen` cuts cycles of related fields mirroring each other. */
  const maskOf = (model: string, field: string): MaskKind | undefined => entry(model)?.mask?.get(field)
  const filtered = (model: string): boolean => entry(model)?.filter !== undefined
  const anyFilter = policy !== null && Object.values(policy.models).some((found) => found.filter !== undefined)

  const hasMasks = (found: ModelPolicy) => found.mask !== undefined && found.mask.size > 0

  /**
   * Readable, masked or not: listed, or under `"*"` neither sensitive nor pointing to a sensitive model (nor, on a
   * model with masks, the display name).
   */
  async function readable(model: string, field: string, seen: ReadonlySet<string>): Promise<boolean> {
    if (field === 'id') return entry(model) !== undefined
    const found = entry(model)
    if (!found) return false
    if (found.fields !== '*') return found.fields.has(field) && !(await relatedThroughFilter(model, field))
    if (isSensitiveField(field)) return false
    // Odoo may compose the display name from a masked field: under "*" it is left out like names of relations are.
    if (field === 'display_name' && hasMasks(found)) return false
    const info: FieldInfo | undefined = (await fieldsOf(model))[field]
    if (info?.relation && RELATIONAL_TYPES.has(info.type) && isSensitiveModel(info.relation)) return false
    if (typeof info?.related !== 'string' || info.related === '') return true
    const key = `${model}.${info.related}`
    if (seen.has(key)) return true
    return pathVisible(model, info.related.split('.'), new Set([...seen, key]))
  }

  async function visible(model: string, field: string, seen: ReadonlySet<string>): Promise<boolean> {
    return maskOf(model, field) === undefined && readable(model, field, seen)
  }

  /**
   * Does a related field (listed by name) mirror a record of a filtered model? Odoo reads it as superuser, whichever
   * record is at the end of its path: one the filter hides, too.
   */
  async function relatedThroughFilter(model: string, field: string): Promise<boolean> {
    if (!anyFilter) return false // version 1 policies (most): no metadata lookup per listed field
    const related = (await fieldsOf(model))[field]?.related
    if (typeof related !== 'string' || related === '') return false
    let current = model
    for (const hop of related.split('.').slice(0, -1)) {
      const info = (await fieldsOf(current))[hop]
      if (!info?.relation || !RELATIONAL_TYPES.has(info.type)) return false
      current = info.relation
      if (filtered(current)) return true
    }
    return false
  }

  /**
   * Every hop of `path` from `model` (a related field's): a readable model, a visible field, a relational field to
   * go on, into a model without a record filter.
   */
  async function pathVisible(model: string, path: string[], seen: ReadonlySet<string>): Promise<boolean> {
    let current = model
    for (const [index, field] of path.entries()) {
      if (!may(current, 'read') || !(await visible(current, field, seen))) return false
      if (index < path.length - 1) {
        const info = (await fieldsOf(current))[field]
        if (!info?.relation || !RELATIONAL_TYPES.has(info.type)) return false
        current = info.relation
        if (filtered(current)) return false
      }
    }
    return true
  }

  return {
    metadata,
    entry,
    may,
    requireOperation,
    fieldsOf,
    fieldVisible: (model, field) => visible(model, field, new Set()),
    fieldReadable: (model, field) => readable(model, field, new Set()),
    maskOf,
    filtered,
    displayNameShown(model) {
      const found = entry(model)
      if (!found?.operations.has('read') || found.mask?.has('display_name')) return false
      return (found.fields === '*' && !hasMasks(found)) || (found.fields !== '*' && found.fields.has('display_name'))
    },
    nameSearchAllowed(model) {
      const found = entry(model)
      return found !== undefined && found.operations.has('read') && found.fields === '*' && !hasMasks(found)
    },
  }
}

/** Said after a refusal of a masked field, so the agent knows why a field it can read cannot be used. */
export function maskedNote(view: PolicyView, model: string, field: string): string {
  const mask = view.maskOf(model, field)
  return mask ? `; this key sees '${field}' only masked (${mask}): it can be read, but not filtered, sorted, grouped, aggregated or written` : ''
}

/** Names quoted in one refusal; the rest are counted (30,000 invented field names make no readable message). */
const MAX_QUOTED_NAMES = 20

export function quoteList(names: string[]): string {
  const quoted = names.slice(0, MAX_QUOTED_NAMES).map((name) => `'${name}'`).join(', ')
  return names.length > MAX_QUOTED_NAMES ? `${quoted} and ${names.length - MAX_QUOTED_NAMES} more` : quoted
}
