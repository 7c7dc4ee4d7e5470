/**
 * The access guard of a key with a policy: models, operations and fields, default deny.
 *
 * The property it keeps (docs/SECURITY.md, "Non-interference"): no answer depends on a value the policy hides, and
 * no request changes one. A hidden field cannot be read, nor used to filter, sort or group (each answers questions
 * about its value), nor followed in a dotted path, nor written, nor reached indirectly: a related field mirroring it,
 * a display name composed from it, a name search matching it, a hierarchy walked through it, a default sort order
 * ranking by it, a one2many command rewriting it. What each part of a request reads is decided by the modules next
 * to this one: visibility.ts (what the policy shows), domain-check.ts (conditions), order-plan.ts (sorting),
 * values-check.ts (writes and x2many commands). Refusals name the field and where it was used, so an agent can
 * correct itself instead of guessing.
 */
import type { AggregateFunction } from '../domain/query-parts'
import type { FieldInfo, MetadataSource, ModelFields } from '../odoo/metadata'
import type { AggregateGroup, ModelSummary } from '../odoo/operations'
import { maskValue, type MaskHasher } from '../policy/masks'
import type { PlaceholderValues } from '../policy/record-filter'
import type { Policy } from '../policy/schema'
import { createDomainChecker } from './domain-check'
import { isDefaultReadable, type AccessGuard, type InsideLookup } from './guard'
import { createOrderPlanner } from './order-plan'
import { createRecordScope, toTerms } from './record-scope'
import { filterReads, scopeValues } from './record-scope-values'
import type { AuthorizedRequest, OdooRecord, ToolRequest } from './request'
import { createValuesChecker } from './values-check'
import { createPolicyView, denied, maskedNote, quoteList, RELATIONAL_TYPES, X2MANY_TYPES } from './visibility'

/** What a version 2 policy needs from the session beyond metadata. */
export interface GuardServices {
  /** Values of `$uid`, `$company_ids`, `$today` for one call (asked only when a record filter uses them). */
  placeholders?: () => Promise<PlaceholderValues>
  /** The key's hasher for `hash` masks. */
  maskHasher?: MaskHasher
}

/** Context keys an agent may set; anything else (allowed_company_ids, force_company, uid...) changes what Odoo shows. */
const ALLOWED_CONTEXT_KEYS: ReadonlySet<string> = new Set(['lang', 'tz', 'active_test'])

/** Aggregate functions per field type: what Odoo computes for that type and the gateway understands. */
const NUMERIC_AGGREGATES: readonly AggregateFunction[] = ['sum', 'avg', 'min', 'max', 'count', 'count_distinct']
const AGGREGATES_BY_TYPE: Record<string, readonly AggregateFunction[]> = {
  integer: NUMERIC_AGGREGATES,
  float: NUMERIC_AGGREGATES,
  monetary: NUMERIC_AGGREGATES,
  // Of a many2one, min and max are a related record's id.
  many2one: ['min', 'max', 'count', 'count_distinct'],
  date: ['min', 'max', 'count', 'count_distinct'],
  datetime: ['min', 'max', 'count', 'count_distinct'],
  char: ['min', 'max', 'count', 'count_distinct'],
  selection: ['min', 'max', 'count', 'count_distinct'],
  boolean: ['count', 'count_distinct'],
}
/** Field types a group may be keyed by (a one2many cannot: Odoo does not store it). */
const GROUPABLE_TYPES: ReadonlySet<string> = new Set([
  'char', 'selection', 'boolean', 'integer', 'float', 'monetary', 'date', 'datetime', 'many2one', 'many2many',
])
const TEMPORAL_TYPES: ReadonlySet<string> = new Set(['date', 'datetime'])

export function createPolicyGuard(policy: Policy | null, metadata: MetadataSource, services: GuardServices = {}): AccessGuard {
  const view = createPolicyView(policy, metadata)
  const hasFilters = policy !== null && Object.values(policy.models).some((entry) => entry.filter !== undefined)
  const placeholders = services.placeholders ?? (() => Promise.reject(new Error('record filters need the session\'s placeholder values')))
  const domains = createDomainChecker(view)
  const orders = createOrderPlanner(view)
  const values = createValuesChecker(view)

  /** A field used on its own (order, groupby, aggregate): visible, and known to Odoo's metadata. */
  async function requireVisible(model: string, field: string, where: string): Promise<FieldInfo | undefined> {
    if (!(await view.fieldVisible(model, field))) {
      denied(
        `Field '${field}' of model '${model}' is not allowed for this API key (used in ${where}; filtering, sorting or grouping on a field reveals its value)${maskedNote(view, model, field)}.`,
        { kind: 'field', model, fields: [field], where },
      )
    }
    // Sorting or grouping by display_name ranks by what Odoo composes it from (e.g. a product's hidden code).
    if (field === 'display_name' && !view.nameSearchAllowed(model)) {
      denied(`Field 'display_name' of model '${model}' cannot be used in ${where} with this key's field list; use 'name' or another listed field.`)
    }
    return (await view.fieldsOf(model))[field]
  }

  async function checkFieldList(model: string, fields: string[], where: string): Promise<void> {
    const refused: string[] = []
    for (const field of fields) if (!(await view.fieldReadable(model, field))) refused.push(field)
    if (refused.length > 0) {
      denied(
        `${refused.length === 1 ? 'Field' : 'Fields'} ${quoteList(refused)} of model '${model}' ${refused.length === 1 ? 'is' : 'are'} ` +
          `not allowed for this API key (in ${where}). Call describe_model to see the fields this key may use.`,
        { kind: 'field', model, fields: refused, where },
      )
    }
  }

  async function defaultReadFields(model: string): Promise<string[]> {
    const names: string[] = []
    for (const [name, info] of Object.entries(await view.fieldsOf(model))) {
      if (isDefaultReadable(info) && (await view.fieldReadable(model, name))) names.push(name)
    }
    return names
  }

  /** Relational fields among `fields` whose display names the key may not see: returned as bare ids. */
  function idOnlyFields(fields: ModelFields, shown: string[]): string[] {
    return shown.filter((field) => {
      const info = fields[field]
      return info?.relation !== undefined && RELATIONAL_TYPES.has(info.type) && !view.displayNameShown(info.relation)
    })
  }

  function checkContextKeys(request: ToolRequest): void {
    const extra = Object.keys(request.context ?? {}).filter((key) => !ALLOWED_CONTEXT_KEYS.has(key))
    if (extra.length > 0) denied(`Context keys ${quoteList(extra)} are not allowed; only lang, tz and active_test may be set.`)
  }

  /**
   * `active_test: false` shows archived records, which tells which records are archived: allowed only where the key
   * sees `active` on every model the call reads records of.
   */
  async function checkActiveTest(request: ToolRequest, reached: Iterable<string>): Promise<void> {
    if (request.context?.active_test !== false) return
    for (const model of reached) {
      const fields = await view.fieldsOf(model)
      if (fields.active && !(await view.fieldVisible(model, 'active'))) {
        denied(`Context 'active_test: false' shows archived records of '${model}', and field 'active' of '${model}' is not allowed for this API key.`, {
          kind: 'field',
          model,
          fields: ['active'],
          where: "the context 'active_test: false'",
        })
      }
    }
  }

  /** The masks of the fields a read returns. */
  function maskedFields(request: AuthorizedRequest): [string, NonNullable<ReturnType<typeof view.maskOf>>][] {
    const masks: [string, NonNullable<ReturnType<typeof view.maskOf>>][] = []
    for (const field of request.readFields) {
      const mask = view.maskOf(request.model, field)
      if (mask) masks.push([field, mask])
    }
    return masks
  }

  /**
   * Record filters on a call (guard/record-scope.ts): the domain scoped, the ids to check, the values checked, the
   * display names to keep only inside filters.
   */
  async function applyRecordFilters(authorized: AuthorizedRequest, fields: ModelFields, shown: string[]): Promise<void> {
    const scope = createRecordScope(view, placeholders)
    const { model, tool } = authorized
    if (tool === 'search_records' || tool === 'count_records' || tool === 'aggregate_records') {
      authorized.domain = await scope.scopeDomain(model, authorized.domain?.tree ?? null)
    }
    const own = await scope.filterOf(model)
    if (own && authorized.ids) authorized.recordFilter = { terms: toTerms(own), tree: own }
    const filteredModels = Object.keys(policy!.models).filter((name) => name !== '*' && view.filtered(name))
    if (authorized.operation === 'unlink') {
      const counted = (await filterReads(view, scope, filteredModels)).counted.get(model)
      if (counted) denied(`Deleting '${model}' records could decide which records of '${counted}' this API key may reach (its record filter reads them), so this key cannot delete them.`)
    }
    if (authorized.values) {
      const checked = await scopeValues(view, scope, model, authorized.operation, authorized.values, filteredModels)
      authorized.values = checked.values
      if (checked.within.length > 0) authorized.within = checked.within
    }
    const namesWithin: NonNullable<AuthorizedRequest['namesWithin']> = []
    for (const field of shown) {
      const info = fields[field]
      if (!info?.relation || !RELATIONAL_TYPES.has(info.type)) continue
      // A bare many2one id is the record's own value; an x2many lists the related records, so every one counts.
      if (authorized.idOnlyFields.includes(field) && !X2MANY_TYPES.has(info.type)) continue
      const filter = await scope.filterOf(info.relation)
      if (!filter) continue
      if (authorized.groupby && X2MANY_TYPES.has(info.type)) {
        // Each group of an x2many key is one related record: records left out would show as groups (and counts).
        denied(`Cannot group by '${field}': it lists records of '${info.relation}', and this API key sees only some of them (a record filter).`)
      }
      namesWithin.push({ field, model: info.relation, filter: toTerms(filter) })
    }
    if (namesWithin.length > 0) authorized.namesWithin = namesWithin
  }

  /**
   * [id, name] values (records' many2ones, group keys) of records outside their model's filter become the bare id;
   * one2many / many2many values keep only the ids inside (the others, to the key, do not exist).
   */
  async function keepNamesInside<T extends Record<string, unknown>>(request: AuthorizedRequest, rows: T[], inside: InsideLookup): Promise<T[]> {
    if (!request.namesWithin || rows.length === 0) return rows
    const isPair = (value: unknown): value is [number, string] => Array.isArray(value) && value.length === 2 && typeof value[0] === 'number' && typeof value[1] === 'string'
    const isIdList = (value: unknown): value is number[] => Array.isArray(value) && value.every((item) => typeof item === 'number')
    const keyOf = (row: T, field: string) => Object.keys(row).find((key) => key === field || key.split(':')[0] === field)
    const kept = await Promise.all(
      request.namesWithin.map(async ({ field, model, filter }) => {
        const ids = new Set<number>()
        for (const row of rows) {
          const key = keyOf(row, field)
          const value = key === undefined ? undefined : row[key]
          if (isPair(value)) ids.add(value[0])
          else if (isIdList(value)) for (const id of value) ids.add(id)
        }
        return { field, inside: ids.size === 0 ? new Set<number>() : await inside(model, [...ids], filter) }
      }),
    )
    return rows.map((row) => {
      const out: Record<string, unknown> = { ...row }
      for (const { field, inside: shownIds } of kept) {
        const key = keyOf(row, field)
        if (key === undefined) continue
        const value = out[key]
        if (isPair(value) && !shownIds.has(value[0])) out[key] = value[0]
        else if (isIdList(value)) out[key] = value.filter((id) => shownIds.has(id))
      }
      return out as T
    })
  }

  return {
    async authorize(request) {
      checkContextKeys(request)
      if (request.tool === 'list_models') return { ...request, readFields: [], idOnlyFields: [] }
      view.requireOperation(request.model, request.operation)
      const fields = await view.fieldsOf(request.model)
      const reached = new Set([request.model])

      if (request.domain) for (const model of (await domains.check(request.model, request.domain.tree)).models) reached.add(model)
      for (const term of request.order?.terms ?? []) await requireVisible(request.model, term.field, 'the order')
      for (const group of request.groupby ?? []) {
        const info = await requireVisible(request.model, group.field, 'the groupby')
        if (info && !GROUPABLE_TYPES.has(info.type)) denied(`Cannot group by '${group.field}': it is a ${info.type} field.`)
        if (info && group.granularity && !TEMPORAL_TYPES.has(info.type)) denied(`Cannot group by '${group.spec}': only date and datetime fields take a granularity.`)
        if (info?.relation && X2MANY_TYPES.has(info.type)) reached.add(info.relation)
      }
      for (const aggregate of request.aggregates ?? []) {
        const info = await requireVisible(request.model, aggregate.field, 'the aggregates')
        const allowed = aggregate.field === 'id' ? ['count', 'count_distinct', 'min', 'max'] : info ? AGGREGATES_BY_TYPE[info.type] : undefined
        if (info || aggregate.field === 'id') {
          if (!allowed?.includes(aggregate.fn)) {
            denied(`Aggregate '${aggregate.spec}': '${aggregate.fn}' cannot be computed on a ${info?.type ?? 'id'} field${allowed ? ` (allowed: ${allowed.join(', ')})` : ''}.`)
          }
        }
      }
      if (request.values) await values.checkValues(request.model, request.values)

      let readFields: string[] = []
      if (request.tool === 'search_records' || request.tool === 'read_records') {
        if (request.fields) {
          await checkFieldList(request.model, request.fields, 'the fields to return')
          readFields = request.fields
        } else {
          readFields = await defaultReadFields(request.model)
        }
        for (const field of readFields) {
          const relation = fields[field]?.relation
          if (relation && X2MANY_TYPES.has(fields[field]!.type)) reached.add(relation)
        }
      }
      await checkActiveTest(request, reached)

      const shown = request.groupby ? request.groupby.map((g) => g.field) : readFields
      const authorized: AuthorizedRequest = {
        ...request,
        readFields,
        idOnlyFields: idOnlyFields(fields, shown),
      }
      if (request.tool === 'search_records') authorized.odooOrder = await orders.searchOrder(request.model, request.order?.terms ?? [])
      if (request.groupby) authorized.odooOrder = await orders.groupOrder(request.model, request.groupby)
      if (policy?.companies) authorized.context = { ...request.context, allowed_company_ids: [...policy.companies] } as AuthorizedRequest['context']
      if (hasFilters) await applyRecordFilters(authorized, fields, shown)
      return authorized
    },

    async finishRecords(request, records, inside) {
      const withNames = await keepNamesInside(request, records, inside)
      const masks = maskedFields(request)
      if (masks.length === 0) return withNames
      const hasher = services.maskHasher ?? (() => Promise.reject(new Error('hash masks need the key\'s hasher')))
      return Promise.all(
        withNames.map(async (record) => {
          const masked: OdooRecord = { ...record }
          for (const [field, mask] of masks) if (Object.hasOwn(masked, field)) masked[field] = await maskValue(masked[field], mask, hasher)
          return masked
        }),
      )
    },

    async finishGroups(request, groups, inside) {
      return keepNamesInside(request, groups, inside) as Promise<AggregateGroup[]>
    },

    filterRecords(request, records) {
      // Walk the allowed list rather than the record: cost follows what is returned, and nothing else can slip in.
      const keep = request.readFields.includes('id') ? request.readFields : ['id', ...request.readFields]
      const idOnly = new Set(request.idOnlyFields)
      return records.map((record) => {
        const filtered: OdooRecord = {}
        for (const field of keep) {
          if (!Object.hasOwn(record, field)) continue
          filtered[field] = shownValue(record[field], idOnly.has(field))
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
      if (!view.entry(model)) return {}
      const visible: ModelFields = {}
      for (const [name, info] of Object.entries(fields)) {
        if (!(await view.fieldReadable(model, name))) continue
        const mask = view.maskOf(model, name)
        // A masked field says so, and that it can only be read (it is refused in filters, orders, groups and values).
        visible[name] = mask ? { ...info, readonly: true, mask } as ModelFields[string] : info
      }
      return visible
    },

    visibleModels() {
      if (!policy) return []
      if (policy.models['*']) return null
      return Object.keys(policy.models).filter((model) => policy.models[model]!.operations.size > 0)
    },

    filterModels(models: ModelSummary[]) {
      return models.filter((summary) => view.entry(summary.model) !== undefined)
    },
  }
}

/**
 * A value as the key may see it. A many2one comes as `[id, display name]`: the name is dropped where the key may
 * not see it. A one2many / many2many comes as ids in the related model's order, which ranks them by its sort
 * fields: they are sorted by id instead.
 */
function shownValue(value: unknown, idOnly: boolean): unknown {
  if (!Array.isArray(value)) return value
  if (value.length === 2 && typeof value[0] === 'number' && typeof value[1] === 'string') return idOnly ? value[0] : value
  if (value.every((item) => typeof item === 'number')) return [...value].sort((a: number, b: number) => a - b)
  return value
}
