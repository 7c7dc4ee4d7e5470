/**
 * The access guard of a key with a policy (issue #3): models, operations and fields, default deny.
 *
 * Principle: a field the policy hides must not influence any answer. Reading it is refused, but so is filtering,
 * ordering or grouping on it (each answers questions about its value), following a dotted path through it, writing
 * it, or reaching it indirectly: a related field that mirrors it, a many2one display name of a model the key may not
 * read, a text search on a relational field (Odoo runs a name search on the related model, which on res.partner also
 * matches email, VAT and reference). Refusals name the field and where it was used, so an agent can correct itself
 * instead of guessing.
 */
import { domainLeaves, type DomainNode } from '../domain/domain'
import { ToolError } from '../errors'
import type { FieldInfo, MetadataSource, ModelFields } from '../odoo/metadata'
import type { AggregateGroup, ModelSummary } from '../odoo/operations'
import { isSensitiveField, isSensitiveModel } from '../policy/sensitive'
import type { ModelPolicy, Operation, Policy } from '../policy/schema'
import { isDefaultReadable, type AccessGuard } from './guard'
import type { OdooRecord, ToolRequest } from './request'

const RELATIONAL_TYPES: ReadonlySet<string> = new Set(['many2one', 'one2many', 'many2many'])
const X2MANY_TYPES: ReadonlySet<string> = new Set(['one2many', 'many2many'])
/** Context keys an agent may set; anything else (allowed_company_ids, force_company, uid...) changes what Odoo shows. */
const ALLOWED_CONTEXT_KEYS: ReadonlySet<string> = new Set(['lang', 'tz', 'active_test'])

function denied(message: string): never {
  throw new ToolError(message, 'policy_denied')
}

/** Names quoted in one refusal; the rest are counted (30,000 invented field names make no readable message). */
const MAX_QUOTED_NAMES = 20

/**
 * The code of a one2many/many2many command as Odoo reads it. Odoo compares codes with Python's `==`, for which
 * `False == 0` (create) and `True == 1` (update): JSON booleans are commands too.
 */
function commandCode(code: unknown): number | undefined {
  if (typeof code === 'boolean') return code ? 1 : 0
  return typeof code === 'number' ? code : undefined
}

function quoteList(names: string[]): string {
  const quoted = names.slice(0, MAX_QUOTED_NAMES).map((name) => `'${name}'`).join(', ')
  return names.length > MAX_QUOTED_NAMES ? `${quoted} and ${names.length - MAX_QUOTED_NAMES} more` : quoted
}

export function createPolicyGuard(policy: Policy | null, metadata: MetadataSource): AccessGuard {
  /** The policy entry for a model: its own, else the wildcard (never for sensitive models). */
  function modelPolicy(model: string): ModelPolicy | undefined {
    if (!policy) return undefined
    // Own entries only: `models` is a plain object, and a model named "constructor" would find Object's.
    if (Object.hasOwn(policy.models, model)) return policy.models[model]
    return isSensitiveModel(model) ? undefined : policy.models['*']
  }

  function requireOperation(model: string, operation: Operation, via?: string): ModelPolicy {
    if (!policy) {
      denied('This API key has no policy, so it may not use any Odoo model. An administrator can set one with "odoo-mcp keys policy set".')
    }
    const entry = modelPolicy(model)
    if (!entry) denied(`Model '${model}' is not allowed for this API key${via ? ` (reached through ${via})` : ''}.`)
    if (!entry.operations.has(operation)) {
      denied(`Operation '${operation}' on model '${model}' is not allowed for this API key (allowed: ${[...entry.operations].join(', ')}).`)
    }
    return entry
  }

  function fieldAllowed(entry: ModelPolicy, field: string): boolean {
    if (field === 'id') return true
    return entry.fields === '*' ? !isSensitiveField(field) : entry.fields.has(field)
  }

  function canShowDisplayName(model: string): boolean {
    const entry = modelPolicy(model)
    if (!entry?.operations.has('read')) return false
    return entry.fields === '*' || entry.fields.has('display_name') || entry.fields.has('name')
  }

  /**
   * A field reached by a wildcard may be a related field mirroring another model's field (Odoo reads those as
   * superuser). It is allowed only if the path it mirrors is itself readable.
   */
  async function relatedAllowed(model: string, entry: ModelPolicy, info: FieldInfo | undefined, seen: Set<string>): Promise<boolean> {
    if (entry.fields !== '*' || !info?.related || typeof info.related !== 'string') return true
    const key = `${model}.${info.related}`
    if (seen.has(key)) return true
    seen.add(key)
    try {
      await checkPath(model, info.related.split('.'), `related field`, seen)
      return true
    } catch (error) {
      if (error instanceof ToolError) return false
      throw error
    }
  }

  /** Checks a (possibly dotted) field path used on `model`, hop by hop. */
  async function checkPath(model: string, path: string[], where: string, seen = new Set<string>()): Promise<FieldInfo | undefined> {
    let current = model
    let entry = requireOperation(current, 'read', where === 'the domain' ? undefined : where)
    let info: FieldInfo | undefined
    for (let i = 0; i < path.length; i++) {
      const field = path[i]!
      if (!fieldAllowed(entry, field)) {
        denied(
          `Field '${field}' of model '${current}' is not allowed for this API key (used in ${where}` +
            (path.length > 1 ? ` as '${path.join('.')}'` : '') +
            '; filtering, sorting or grouping on a field reveals its value).',
        )
      }
      if (field === 'display_name' && entry.fields !== '*') {
        // display_name searches run Odoo's name search, which matches other fields (email, VAT...) too.
        denied(`Field 'display_name' of model '${current}' cannot be used in ${where} with this key's field list; use 'name' instead.`)
      }
      const fields = await metadata.fieldsOf(current)
      info = fields[field]
      if (!(await relatedAllowed(current, entry, info, seen))) {
        denied(`Field '${field}' of model '${current}' mirrors a field this API key may not read (used in ${where}).`)
      }
      if (i < path.length - 1) {
        if (!info?.relation || !RELATIONAL_TYPES.has(info.type)) {
          denied(`Invalid path '${path.join('.')}' in ${where}: '${field}' of model '${current}' is not a relational field.`)
        }
        current = info.relation
        entry = requireOperation(current, 'read', `'${path.slice(0, i + 1).join('.')}' in ${where}`)
      }
    }
    return info
  }

  async function checkDomain(model: string, tree: DomainNode | null): Promise<void> {
    for (const leaf of domainLeaves(tree)) {
      const info = await checkPath(model, leaf.path, 'the domain')
      // A text value on a relational field makes Odoo name-search the related model.
      const values = Array.isArray(leaf.value) ? leaf.value : [leaf.value]
      if (info?.relation && RELATIONAL_TYPES.has(info.type) && values.some((v) => typeof v === 'string')) {
        if (!canShowDisplayName(info.relation) || modelPolicy(info.relation)?.fields !== '*') {
          denied(
            `Condition on '${leaf.path.join('.')}' compares a relational field with text, which searches the names of ` +
              `'${info.relation}' records; this API key may not do that. Compare with ids instead, or filter on an allowed field of '${info.relation}' through a dotted path.`,
          )
        }
      }
    }
  }

  async function checkFieldList(model: string, entry: ModelPolicy, fields: string[], where: string): Promise<void> {
    const refused = fields.filter((field) => !fieldAllowed(entry, field))
    if (refused.length > 0) {
      denied(
        `${refused.length === 1 ? 'Field' : 'Fields'} ${quoteList(refused)} of model '${model}' ${refused.length === 1 ? 'is' : 'are'} ` +
          `not allowed for this API key (in ${where}). Call describe_model to see the fields this key may use.`,
      )
    }
    const metadataFields = await metadata.fieldsOf(model)
    for (const field of fields) {
      if (!(await relatedAllowed(model, entry, metadataFields[field], new Set()))) {
        denied(`Field '${field}' of model '${model}' mirrors a field this API key may not read (in ${where}).`)
      }
    }
  }

  async function defaultReadFields(model: string, entry: ModelPolicy): Promise<string[]> {
    const fields = await metadata.fieldsOf(model)
    const names: string[] = []
    for (const [name, info] of Object.entries(fields)) {
      if (fieldAllowed(entry, name) && isDefaultReadable(info) && (await relatedAllowed(model, entry, info, new Set()))) names.push(name)
    }
    return names
  }

  /** many2one fields among `fields` whose display name the key may not see: returned as bare ids. */
  async function idOnlyFields(model: string, fields: string[]): Promise<string[]> {
    const info = await metadata.fieldsOf(model)
    return fields.filter((field) => {
      const relation = info[field]?.type === 'many2one' ? info[field]?.relation : undefined
      return relation !== undefined && !canShowDisplayName(relation)
    })
  }

  /** Values to create/write, including commands on one2many/many2many fields that write the related model. */
  async function checkValues(model: string, entry: ModelPolicy, values: Record<string, unknown>): Promise<void> {
    await checkFieldList(model, entry, Object.keys(values), 'the values to write')
    const fields = await metadata.fieldsOf(model)
    for (const [field, value] of Object.entries(values)) {
      const info = fields[field]
      if (!info || !X2MANY_TYPES.has(info.type) || !info.relation || !Array.isArray(value)) continue
      for (const command of value) {
        const code = Array.isArray(command) ? commandCode(command[0]) : undefined
        if (code === undefined) continue
        const nested: unknown = command[2]
        const where = `'${field}' (command ${code})`
        if (code === 0 || code === 1) {
          const nestedEntry = requireOperation(info.relation, code === 0 ? 'create' : 'write', where)
          // Odoo also builds the values with dict(), which takes a list of [field, value] pairs: only an object can be
          // checked field by field.
          if (!nested || typeof nested !== 'object' || Array.isArray(nested)) {
            denied(`The values of ${where} must be an object of field values, e.g. [0, 0, {"name": "..."}].`)
          }
          await checkValues(info.relation, nestedEntry, nested as Record<string, unknown>)
        } else if (code === 2 || (info.type === 'one2many' && (code === 3 || code === 5 || code === 6))) {
          // On a one2many, unlinking (3), clearing (5) or replacing (6) lines deletes them when their link back is
          // ondelete='cascade' (sale.order.line): that needs the right to delete them. On a many2many they only unlink.
          requireOperation(info.relation, 'unlink', where)
        }
      }
    }
  }

  function checkContext(request: ToolRequest): void {
    const extra = Object.keys(request.context ?? {}).filter((key) => !ALLOWED_CONTEXT_KEYS.has(key))
    if (extra.length > 0) denied(`Context keys ${quoteList(extra)} are not allowed; only lang, tz and active_test may be set.`)
  }

  return {
    async authorize(request) {
      checkContext(request)
      if (request.tool === 'list_models') return { ...request, readFields: [], idOnlyFields: [] }
      const entry = requireOperation(request.model, request.operation)

      if (request.domain) await checkDomain(request.model, request.domain.tree)
      for (const term of request.order?.terms ?? []) await checkPath(request.model, [term.field], 'the order')
      for (const group of request.groupby ?? []) await checkPath(request.model, [group.field], 'the groupby')
      for (const aggregate of request.aggregates ?? []) await checkPath(request.model, [aggregate.field], 'the aggregates')
      if (request.values) await checkValues(request.model, entry, request.values)

      let readFields: string[] = []
      if (request.tool === 'search_records' || request.tool === 'read_records') {
        if (request.fields) {
          await checkFieldList(request.model, entry, request.fields, 'the fields to return')
          readFields = request.fields
        } else {
          readFields = await defaultReadFields(request.model, entry)
        }
      }
      const shown = request.groupby ? request.groupby.map((g) => g.field) : readFields
      return { ...request, readFields, idOnlyFields: await idOnlyFields(request.model, shown) }
    },

    filterRecords(request, records) {
      // Walk the allowed list rather than the record: cost follows what is returned, and nothing else can slip in.
      const keep = request.readFields.includes('id') ? request.readFields : ['id', ...request.readFields]
      const idOnly = new Set(request.idOnlyFields)
      return records.map((record) => {
        const filtered: OdooRecord = {}
        for (const field of keep) {
          if (!Object.hasOwn(record, field)) continue
          const value = record[field]
          filtered[field] = idOnly.has(field) && Array.isArray(value) ? value[0] : value
        }
        return filtered
      })
    },

    filterGroups(request, groups) {
      const idOnly = new Set(request.idOnlyFields)
      const keep = new Set(['count', ...(request.groupby ?? []).map((g) => g.spec), ...(request.aggregates ?? []).map((a) => a.spec)])
      return groups.map((group) => {
        const filtered = { count: group.count } as AggregateGroup
        for (const [key, value] of Object.entries(group)) {
          if (!keep.has(key)) continue
          filtered[key] = idOnly.has(key.split(':')[0]!) && Array.isArray(value) ? value[0] : value
        }
        return filtered
      })
    },

    async filterFieldMetadata(model, fields) {
      const entry = modelPolicy(model)
      if (!entry) return {}
      const visible: ModelFields = {}
      for (const [name, info] of Object.entries(fields)) {
        if (fieldAllowed(entry, name) && (await relatedAllowed(model, entry, info, new Set()))) visible[name] = info
      }
      return visible
    },

    visibleModels() {
      if (!policy) return []
      if (policy.models['*']) return null
      return Object.keys(policy.models).filter((model) => policy.models[model]!.operations.size > 0)
    },

    filterModels(models: ModelSummary[]) {
      return models.filter((summary) => modelPolicy(summary.model) !== undefined)
    },
  }
}
