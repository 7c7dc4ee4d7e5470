/**
 * Generated policies and tool calls over the simulated Odoo's models, for the non-interference property.
 *
 * Policies name a few models (sometimes "*"), each with operations and either "*" or a subset of its fields
 * (display_name, name, parent fields and relations often among them, so that the interesting paths are open);
 * half of them are version 2: some models with a record filter (ids, a field and a value the data holds, $uid,
 * $company_ids, dotted paths, `|` / `&`), masks on text fields, sometimes pinned companies. Ids asked for include
 * the next ones after the demo data (records a filter leaves out may exist in one database only).
 * Calls cover the nine tools with the whole domain language (every operator, `any` / `not any`, dotted paths, `!` /
 * `|` / `&`), orders, groupings with granularities, aggregates, contexts, one2many/many2many commands in every form
 * Odoo accepts, and ids of records the key cannot see. Field names and values are drawn from the database itself, so
 * that conditions select something: a leak can only show when a condition matches differently.
 */
import fc from 'fast-check'
import type { Db } from '../odoo-sim/db'
import type { RuntimeField, RuntimeModel } from '../odoo-sim/models'
import type { MaskKind } from '../../src/policy/masks'
import type { ModelEntry, PolicyDocument } from './world'

/** Models a policy may name; ir.model is left to list_models. */
export const POLICY_MODELS = [
  'res.partner', 'res.users', 'res.groups', 'res.company', 'res.country', 'res.currency', 'res.partner.bank',
  'product.product', 'product.category', 'sale.order', 'sale.order.line', 'hr.employee', 'hr.department',
  'ir.config_parameter',
] as const

const OPERATIONS = ['read', 'create', 'write', 'unlink'] as const

const DOMAIN_OPERATORS = [
  '=', '!=', '<', '>', '<=', '>=', '=?', 'in', 'not in', 'like', 'not like', 'ilike', 'not ilike', '=like', '=ilike',
  'child_of', 'parent_of', 'any', 'not any',
] as const

export interface Call {
  tool: string
  args: Record<string, unknown>
}

/** What the generators draw names and values from: one database's models, ids and stored values. */
export class Catalog {
  constructor(readonly db: Db) {}

  model(name: string): RuntimeModel {
    return this.db.model(name)
  }

  fields(model: string): RuntimeField[] {
    return this.model(model).fields.filter((field) => field.name !== 'id')
  }

  ids(model: string): number[] {
    return [...this.db.table(model).keys()]
  }

  /** Values a field holds in the database (text, numbers, dates), to compare with. */
  samples(model: string, field: RuntimeField): unknown[] {
    const values = new Set<unknown>()
    for (const record of [...this.db.table(model).values()].slice(0, 40)) {
      const value = this.db.value(this.model(model), record, field)
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') values.add(value)
    }
    return [...values]
  }

  displayNames(model: string): string[] {
    return this.ids(model).slice(0, 30).map((id) => this.db.displayName(model, id))
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Policies
// ---------------------------------------------------------------------------------------------------------------

export function policyArbitrary(catalog: Catalog): fc.Arbitrary<PolicyDocument | null> {
  const entryFor = (model: string) =>
    fc.record({
      operations: fc.oneof(
        { weight: 3, arbitrary: fc.constant<string[]>(['read']) },
        { weight: 2, arbitrary: fc.subarray<string>([...OPERATIONS], { minLength: 1 }) },
      ),
      fields: fc.oneof(
        { weight: 1, arbitrary: fc.constant('*' as const) },
        {
          weight: 3,
          // display_name, name, the parent field and active are often listed: they open the paths attacks use.
          arbitrary: fc
            .tuple(fc.subarray(catalog.fields(model).map((field) => field.name)), fc.subarray(['display_name', 'name', 'parent_id', 'active']))
            .map(([fields, extra]) => [...new Set([...fields, ...extra.filter((name) => catalog.model(model).field(name))])]),
        },
      ),
    })
  const document = fc
    .uniqueArray(fc.constantFrom('*', ...POLICY_MODELS), { minLength: 1, maxLength: 5 })
    .chain((models) =>
      fc.tuple(...models.map((model) => entryFor(model === '*' ? 'res.country' : model))).map((entries) => ({
        version: 1 as const,
        models: Object.fromEntries(models.map((model, i) => [model, model === '*' ? { ...entries[i]!, fields: sanitizeWildcardFields(entries[i]!.fields) } : entries[i]!])),
      })),
    )
  // Version 2: the same policies, some models with a record filter and masks, sometimes pinned to companies.
  const version2 = document.chain((base) => {
    const models = Object.keys(base.models)
    return fc
      .tuple(
        fc.tuple(...models.map((model) => fc.option(filterFor(catalog, model), { freq: 2, nil: undefined }))),
        fc.tuple(...models.map((model) => fc.option(masksFor(catalog, model, base.models[model]!.fields), { freq: 3, nil: undefined }))),
        fc.option(fc.constantFrom([1], catalog.ids('res.company')), { nil: undefined }),
      )
      .map(([filters, masks, companies]): PolicyDocument => {
        const pinned = companies ?? (filters.some((filter) => JSON.stringify(filter ?? []).includes('$company_ids')) ? [1] : undefined)
        return {
          version: 2,
          ...(pinned ? { companies: pinned } : {}),
          models: Object.fromEntries(
            models.map((model, i) => {
              const entry: ModelEntry = { ...base.models[model]! }
              if (filters[i]) entry.filter = filters[i]
              if (masks[i] && Object.keys(masks[i]!).length > 0) entry.mask = masks[i]
              return [model, entry]
            }),
          ),
        }
      })
  })
  return fc.oneof({ weight: 10, arbitrary: document }, { weight: 10, arbitrary: version2 }, { weight: 1, arbitrary: fc.constant(null) })
}

/**
 * A record filter for `model` ("*": on ids only, which every model has): ids, a field compared with a value the
 * database holds, the placeholders, a dotted path, and `|` / `&` of two.
 */
function filterFor(catalog: Catalog, model: string): fc.Arbitrary<unknown[]> {
  const ids = model === '*' ? Array.from({ length: 40 }, (_, i) => i + 1) : catalog.ids(model)
  const byId = fc.oneof(
    fc.constantFrom(...ids).map((id) => [['id', '<=', id]]),
    fc.uniqueArray(fc.constantFrom(...ids), { minLength: 1, maxLength: 8 }).map((some) => [['id', 'not in', some]]),
    fc.uniqueArray(fc.constantFrom(...ids), { minLength: 1, maxLength: 12 }).map((some) => [['id', 'in', some]]),
  )
  if (model === '*') return byId
  const fields = catalog.fields(model).filter((field) => field.store !== false && !field.compute && ['boolean', 'selection', 'many2one', 'char', 'integer'].includes(field.type))
  const byField = fields.length === 0 ? byId : fc.constantFrom(...fields).chain((field) => {
    const values: unknown[] = field.type === 'many2one' ? catalog.ids(field.relation!).slice(0, 10) : catalog.samples(model, field).filter((v) => !(typeof v === 'string' && v.startsWith('$')))
    const value = values.length > 0 ? fc.constantFrom(...values) : fc.constant(false)
    return fc.oneof(
      fc.tuple(fc.constantFrom('=', '!='), value).map(([op, v]) => [[field.name, op, v]]),
      fc.array(value, { minLength: 1, maxLength: 3 }).map((vs) => [[field.name, 'in', vs]]),
    )
  })
  const has = (name: string) => catalog.model(model).field(name) !== undefined
  const special: fc.Arbitrary<unknown[]>[] = []
  if (has('user_id')) special.push(fc.constant([['user_id', '=', '$uid']]))
  if (has('company_id')) special.push(fc.constant([['company_id', 'in', '$company_ids']]))
  if (has('partner_id')) special.push(fc.constantFrom<unknown[]>([['partner_id.is_company', '=', true]], [['partner_id.country_id', '!=', false]]))
  if (has('parent_id')) special.push(fc.constantFrom<unknown[]>([['parent_id', '=', false]], [['parent_id', '!=', false]]))
  const single = fc.oneof(
    { weight: 3, arbitrary: byId },
    { weight: 4, arbitrary: byField },
    { weight: special.length > 0 ? 2 : 0, arbitrary: special.length > 0 ? fc.oneof(...special) : byId },
  )
  return fc.oneof(
    { weight: 4, arbitrary: single },
    { weight: 1, arbitrary: fc.tuple(single, single).map(([a, b]) => ['|', ...a, ...b]) },
    { weight: 1, arbitrary: fc.tuple(single, single).map(([a, b]) => [...a, ...b]) },
  )
}

/** Masks on text fields of `model` the entry lists (under "*", any; on the "*" entry, `name` only). */
function masksFor(catalog: Catalog, model: string, fields: '*' | string[]): fc.Arbitrary<Record<string, MaskKind>> {
  const kind = fc.constantFrom<MaskKind>('partial', 'last4', 'hash', 'redact')
  if (model === '*') return fields === '*' || fields.includes('name') ? kind.map((mask) => ({ name: mask })) : fc.constant({})
  const texts = catalog
    .fields(model)
    .filter((field) => (field.type === 'char' || field.type === 'text') && (fields === '*' || fields.includes(field.name)))
    .map((field) => field.name)
  if (texts.length === 0) return fc.constant({})
  return fc.uniqueArray(fc.tuple(fc.constantFrom(...texts), kind), { minLength: 1, maxLength: 3, selector: ([name]) => name }).map((pairs) => Object.fromEntries(pairs))
}

/** The "*" model entry lists fields of no model in particular: only names every model has, or "*". */
function sanitizeWildcardFields(fields: '*' | string[]): '*' | string[] {
  return fields === '*' ? '*' : fields.filter((field) => ['name', 'display_name', 'active', 'create_date', 'write_date'].includes(field))
}

// ---------------------------------------------------------------------------------------------------------------
// Calls
// ---------------------------------------------------------------------------------------------------------------

/** Arbitraries bound to one catalog and one policy (names the policy lists are picked more often). */
export function callArbitrary(catalog: Catalog, policy: PolicyDocument | null): fc.Arbitrary<Call> {
  const named = Object.keys(policy?.models ?? {}).filter((model) => model !== '*')
  const modelName = fc.oneof(
    { weight: named.length > 0 ? 4 : 0, arbitrary: named.length > 0 ? fc.constantFrom(...named) : fc.constant('res.partner') },
    { weight: 1, arbitrary: fc.constantFrom(...POLICY_MODELS) },
  )
  const listedFields = (model: string): string[] => {
    const entry = policy?.models[model] ?? policy?.models['*']
    if (!entry) return []
    return entry.fields === '*' ? catalog.fields(model).map((f) => f.name) : entry.fields.filter((f) => catalog.model(model).field(f))
  }
  /** A field of `model`, usually one the policy lists. */
  const fieldOf = (model: string): fc.Arbitrary<RuntimeField> => {
    const all = catalog.fields(model)
    const listed = listedFields(model).map((name) => catalog.model(model).field(name)!).filter(Boolean)
    return fc.oneof(
      { weight: listed.length > 0 ? 4 : 0, arbitrary: listed.length > 0 ? fc.constantFrom(...listed) : fc.constantFrom(...all) },
      { weight: 1, arbitrary: fc.constantFrom(...all) },
    )
  }

  /** A value to compare `field` with, of the kinds Odoo accepts (and some it does not). */
  const valueFor = (model: string, field: RuntimeField, operator: string): fc.Arbitrary<unknown> => {
    const relation = field.relation
    const ids = relation ? catalog.ids(relation) : catalog.ids(model)
    const id = fc.oneof(fc.constantFrom(...ids.slice(0, 60)), fc.integer({ min: 1, max: 120 }))
    const samples = catalog.samples(model, field)
    const text = fc.oneof(
      { weight: 3, arbitrary: samples.filter((s) => typeof s === 'string').length > 0 ? fc.constantFrom(...(samples.filter((s) => typeof s === 'string') as string[])) : fc.constant('a') },
      { weight: relation ? 3 : 0, arbitrary: relation ? fc.constantFrom(...catalog.displayNames(relation)) : fc.constant('a') },
      { weight: 2, arbitrary: fc.constantFrom('Azure', 'azure', 'Desk', 'FURN', '%', 'Deco', 'secret', '@', 'BE0', 'Mitchell') },
    )
    const scalar: fc.Arbitrary<unknown> =
      field.type === 'many2one' || field.type === 'one2many' || field.type === 'many2many' || field.name === 'id'
        ? fc.oneof({ weight: 4, arbitrary: id }, { weight: 2, arbitrary: text }, { weight: 1, arbitrary: fc.constant(false) })
        : field.type === 'boolean'
          ? fc.boolean()
          : ['integer', 'float', 'monetary'].includes(field.type)
            ? fc.oneof(samples.length > 0 ? fc.constantFrom(...samples) : fc.integer(), fc.integer({ min: -5, max: 5000 }))
            : fc.oneof({ weight: 4, arbitrary: samples.length > 0 ? fc.constantFrom(...samples) : text }, { weight: 2, arbitrary: text }, { weight: 1, arbitrary: fc.constant(false) })
    if (operator === 'in' || operator === 'not in') return fc.array(scalar, { maxLength: 3 })
    if (operator === 'child_of' || operator === 'parent_of') return fc.oneof(scalar, fc.array(scalar, { minLength: 1, maxLength: 2 }))
    return scalar
  }

  /** A dotted path from `model` of 1-3 hops, through relational fields, mostly through fields the policy lists. */
  const pathFrom = (model: string): fc.Arbitrary<{ path: string; model: string; field: RuntimeField }> =>
    fc.tuple(fieldOf(model), fc.nat(2), fc.array(fc.tuple(fc.nat(), fc.boolean()), { minLength: 2, maxLength: 2 })).map(([first, extraHops, choices]) => {
      let current = model
      let field = first
      const parts = [first.name]
      for (let hop = 0; hop < extraHops && field.relation; hop++) {
        current = field.relation
        const listed = listedFields(current).map((name) => catalog.model(current).field(name)!).filter(Boolean)
        const [choice, preferListed] = choices[hop]!
        const next = preferListed && listed.length > 0 ? listed : catalog.fields(current)
        field = next[choice % next.length]!
        parts.push(field.name)
      }
      return { path: parts.join('.'), model: current, field }
    })

  /** Operators, mostly ones the field's type takes (so that the guard's decision, not a type error, is tested). */
  const operatorFor = (field: RuntimeField): fc.Arbitrary<string> => {
    const relational = field.type === 'many2one' || field.type === 'one2many' || field.type === 'many2many'
    const fitting = relational
      ? ['=', '!=', 'in', 'not in', 'child_of', 'parent_of', 'any', 'not any', 'ilike']
      : ['integer', 'float', 'monetary', 'date', 'datetime'].includes(field.type)
        ? ['=', '!=', '<', '>', '<=', '>=', 'in', 'not in', '=?']
        : field.type === 'boolean'
          ? ['=', '!=', 'in']
          : ['=', '!=', 'ilike', 'like', 'not ilike', '=like', 'in', 'not in', '<', '>=']
    return fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...fitting) }, { weight: 1, arbitrary: fc.constantFrom(...DOMAIN_OPERATORS) })
  }

  const domainOn = (model: string, depth: number): fc.Arbitrary<unknown[]> => {
    const leaf = pathFrom(model)
      .chain((target) => fc.tuple(fc.constant(target), operatorFor(target.field)))
      .chain(([target, operator]) => {
        if (operator === 'any' || operator === 'not any') {
          const relation = target.field.relation
          if (!relation || depth >= 2) return fc.constant<unknown[]>([target.path, '=', false])
          return domainOn(relation, depth + 1).map((sub): unknown[] => [target.path, operator, sub])
        }
        return valueFor(target.model, target.field, operator).map((value): unknown[] => [target.path, operator, value])
      })
    return fc.array(fc.oneof({ weight: 4, arbitrary: leaf }, { weight: 1, arbitrary: fc.constantFrom('!', '|', '&') }), { maxLength: depth === 0 ? 4 : 2 }).map(wellFormed)
  }

  const context = fc.oneof(
    { weight: 6, arbitrary: fc.constant(undefined) },
    { weight: 3, arbitrary: fc.constant({ active_test: false }) },
    { weight: 1, arbitrary: fc.constant({ active_test: true, lang: 'fr_BE' }) },
    { weight: 1, arbitrary: fc.constant({ allowed_company_ids: [1] }) },
  )

  const order = (model: string) =>
    fc.option(
      fc.array(fc.tuple(fieldOf(model), fc.constantFrom('asc', 'desc', 'desc nulls last')), { minLength: 1, maxLength: 2 }).map((terms) => terms.map(([f, d]) => `${f.name} ${d}`).join(', ')),
      { freq: 2 },
    )

  // Ids of the demo data, any ids, and the next ones (records a filter leaves out may exist only in one database).
  const ids = (model: string) =>
    fc.uniqueArray(
      fc.oneof(fc.constantFrom(...catalog.ids(model).slice(0, 60)), fc.integer({ min: 1, max: 150 }), fc.integer({ min: 1, max: 3 }).map((n) => Math.max(0, ...catalog.ids(model)) + n)),
      { minLength: 1, maxLength: 4 },
    )

  /** Values to write: plain values, and for x2many fields commands in every form Odoo accepts. */
  const valuesFor = (model: string, depth = 0): fc.Arbitrary<Record<string, unknown>> =>
    fc
      .array(fieldOf(model).chain((field) => writeValue(model, field, depth).map((value) => [field.name, value] as const)), { minLength: 1, maxLength: 3 })
      .map((pairs) => Object.fromEntries(pairs))

  const writeValue = (model: string, field: RuntimeField, depth: number): fc.Arbitrary<unknown> => {
    if ((field.type === 'one2many' || field.type === 'many2many') && field.relation) {
      const relation = field.relation
      const id = fc.constantFrom(...catalog.ids(relation).slice(0, 40))
      const code = fc.constantFrom<unknown>(0, 1, 2, 3, 4, 5, 6, true, false)
      const nested = depth >= 1 ? fc.constant({}) : valuesFor(relation, depth + 1)
      const command = fc.oneof(
        fc.tuple(code, id, nested),
        fc.tuple(code, id),
        fc.tuple(fc.constant(6), fc.constant(0), fc.array(id, { maxLength: 3 })),
        fc.tuple(fc.constant(5)),
      )
      return fc.oneof({ weight: 4, arbitrary: fc.array(command, { minLength: 1, maxLength: 2 }) }, { weight: 1, arbitrary: fc.array(id, { maxLength: 2 }) }, { weight: 1, arbitrary: fc.constant(false) })
    }
    return valueFor(model, field, '=')
  }

  /** For a write tool, usually a model the policy lets it write (else it is refused before anything is tested). */
  const modelFor = (operation: string) => {
    const allowing = named.filter((model) => policy?.models[model]?.operations.includes(operation))
    return allowing.length > 0 ? fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...allowing) }, { weight: 1, arbitrary: modelName }) : modelName
  }
  const writeCall = (tool: string, operation: string, build: (model: string) => fc.Arbitrary<Record<string, unknown>>) =>
    modelFor(operation).chain((model) => build(model).map((args) => ({ tool, args: Object.fromEntries(Object.entries({ model, ...args }).filter(([, v]) => v !== undefined && v !== null)) })))

  const writes = fc.oneof(
    { weight: 2, arbitrary: writeCall('create_record', 'create', (model) => fc.record({ values: valuesFor(model), context })) },
    { weight: 3, arbitrary: writeCall('update_records', 'write', (model) => fc.record({ ids: ids(model), values: valuesFor(model), context })) },
    { weight: 1, arbitrary: writeCall('delete_records', 'unlink', (model) => fc.record({ ids: ids(model), context })) },
  )

  const reads = modelName.chain((model) => {
    const fieldNames = fc.option(fc.uniqueArray(fieldOf(model).map((f) => f.name), { minLength: 1, maxLength: 4 }), { freq: 2 })
    const groupSpec = fieldOf(model).chain((field) =>
      field.type === 'date' || field.type === 'datetime' ? fc.constantFrom(field.name, `${field.name}:month`, `${field.name}:year`, `${field.name}:week`) : fc.constant(field.name),
    )
    const aggregate = fieldOf(model).chain((field) =>
      fc
        .oneof(
          { weight: 3, arbitrary: fc.constantFrom(...(['integer', 'float', 'monetary'].includes(field.type) ? ['sum', 'avg', 'max'] : ['count', 'count_distinct', 'min'])) },
          { weight: 1, arbitrary: fc.constantFrom('sum', 'avg', 'min', 'max', 'count', 'count_distinct') },
        )
        .map((fn) => `${field.name}:${fn}`),
    )
    const opt = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined })
    const clean = (args: Record<string, unknown>) => Object.fromEntries(Object.entries(args).filter(([, v]) => v !== undefined && v !== null))
    return fc.oneof(
      { weight: 6, arbitrary: fc.record({ domain: opt(domainOn(model, 0)), fields: fieldNames, limit: fc.constantFrom(3, 10, 80), offset: fc.constantFrom(0, 0, 2), order: order(model), count_total: opt(fc.boolean()), context }).map((a) => ({ tool: 'search_records', args: clean({ model, ...a }) })) },
      { weight: 2, arbitrary: fc.record({ ids: ids(model), fields: fieldNames, context }).map((a) => ({ tool: 'read_records', args: clean({ model, ...a }) })) },
      { weight: 2, arbitrary: fc.record({ domain: opt(domainOn(model, 0)), context }).map((a) => ({ tool: 'count_records', args: clean({ model, ...a }) })) },
      { weight: 4, arbitrary: fc.record({ domain: opt(domainOn(model, 0)), groupby: fc.uniqueArray(groupSpec, { minLength: 1, maxLength: 2 }), aggregates: fc.uniqueArray(aggregate, { maxLength: 2 }), limit: fc.constantFrom(2, 5, 100), offset: fc.constantFrom(0, 0, 1), context }).map((a) => ({ tool: 'aggregate_records', args: clean({ model, ...a }) })) },
      { weight: 1, arbitrary: fc.record({ context }).map((a) => ({ tool: 'describe_model', args: clean({ model, ...a }) })) },
      { weight: 1, arbitrary: fc.record({ search: opt(fc.constantFrom('partner', 'sale', 'res', 'config')) }).map((a) => ({ tool: 'list_models', args: clean(a) })) },
    )
  })
  return fc.oneof({ weight: 3, arbitrary: reads }, { weight: 1, arbitrary: writes })
}

/** Makes prefix notation well formed by dropping the operators that lack operands (read right to left). */
export function wellFormed(terms: unknown[]): unknown[] {
  let operands = 0
  const kept: unknown[] = []
  for (const term of [...terms].reverse()) {
    if (term === '!') {
      if (operands >= 1) kept.unshift(term)
    } else if (term === '&' || term === '|') {
      if (operands >= 2) {
        kept.unshift(term)
        operands--
      }
    } else {
      kept.unshift(term)
      operands++
    }
  }
  return kept
}
