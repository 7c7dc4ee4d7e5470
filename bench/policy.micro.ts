/**
 * Micro-benchmark of the policy layer on the hot path (issue #3): for one search_records call of a 50-record page,
 * the guard's `authorize` (model, operation, domain, order, field list) plus `filterRecords` on Odoo's answer.
 * Twice: with the version 1 policy below, and with its version 2 form (a record filter on both models, so the
 * dotted path into res.country is rewritten through `any`; company pinning; two masked fields), the extra cost of
 * filters and masks. Runs in Node (V8, the engine workerd uses). Metadata comes from memory, as it does from the per-isolate cache on
 * a warm gateway. Reports the median of per-batch means, so one slow batch (GC, a noisy neighbour) does not move it.
 */
import { parseDomain } from '../src/domain/domain'
import { parseOrder } from '../src/domain/query-parts'
import { createPolicyGuard } from '../src/guard/policy-guard'
import type { ToolRequest } from '../src/guard/request'
import type { MetadataSource, ModelFields } from '../src/odoo/metadata'
import { parsePolicy } from '../src/policy/schema'
import { round, summarize } from './stats'

const m2o = (relation: string) => ({ type: 'many2one', relation })

/** res.partner as fields_get describes it on a real Odoo: ~60 fields. */
function partnerFields(): ModelFields {
  const fields: ModelFields = {
    id: { type: 'integer' }, name: { type: 'char' }, display_name: { type: 'char' }, email: { type: 'char' },
    phone: { type: 'char' }, vat: { type: 'char' }, ref: { type: 'char' }, city: { type: 'char' },
    street: { type: 'char' }, zip: { type: 'char' }, is_company: { type: 'boolean' },
    country_id: m2o('res.country'), parent_id: m2o('res.partner'), user_id: m2o('res.users'),
    company_id: m2o('res.company'), child_ids: { type: 'one2many', relation: 'res.partner' },
    image_1920: { type: 'binary' }, country_code: { type: 'char', related: 'country_id.code' },
  }
  for (let i = 0; i < 42; i++) fields[`x_custom_${i}`] = { type: 'char' }
  return fields
}

const METADATA: Record<string, ModelFields> = {
  'res.partner': partnerFields(),
  'res.country': { id: { type: 'integer' }, name: { type: 'char' }, code: { type: 'char' } },
  'res.users': { id: { type: 'integer' }, name: { type: 'char' } },
}
const metadata: MetadataSource = { fieldsOf: async (model) => METADATA[model]! }

const parsed = parsePolicy({
  version: 1,
  models: {
    'res.partner': { operations: ['read'], fields: ['name', 'city', 'country_id', 'is_company', 'parent_id', 'user_id', ...Array.from({ length: 14 }, (_, i) => `x_custom_${i}`)] },
    'res.country': { operations: ['read'], fields: ['name', 'code'] },
  },
})
if (!parsed.ok) throw new Error(parsed.errors.join('\n'))

/** The same policy in version 2: filters (one with a placeholder), pinning, masks on e-mail-like custom fields. */
const parsedV2 = parsePolicy({
  version: 2,
  companies: [1],
  models: {
    'res.partner': {
      operations: ['read'],
      fields: ['name', 'city', 'country_id', 'is_company', 'parent_id', 'user_id', ...Array.from({ length: 14 }, (_, i) => `x_custom_${i}`)],
      filter: [['company_id', 'in', '$company_ids'], ['is_company', '!=', false]],
      mask: { x_custom_0: 'partial', x_custom_1: 'last4' },
    },
    'res.country': { operations: ['read'], fields: ['name', 'code'], filter: [['code', '!=', 'XX']] },
  },
})
if (!parsedV2.ok) throw new Error(parsedV2.errors.join('\n'))
const policyV1 = parsed.policy
const policyV2 = parsedV2.policy
const placeholders = async () => ({ uid: 2, companyIds: [1], today: '2026-12-05' })

/** A page of 50 records of 20 allowed fields, plus fields Odoo should not have sent (filtered out). */
const page = Array.from({ length: 50 }, (_, i) => {
  const record: Record<string, unknown> = {
    id: i + 1, name: `Partner ${i}`, city: 'Brussels', country_id: [21, 'Belgium'], is_company: i % 2 === 0,
    parent_id: i > 0 ? [1, 'Partner 0'] : false, user_id: [2, 'Mitchell Admin'], email: `p${i}@example.com`,
  }
  for (let f = 0; f < 14; f++) record[`x_custom_${f}`] = `value ${f}`
  return record
})

function request(): ToolRequest {
  return {
    tool: 'search_records',
    model: 'res.partner',
    operation: 'read',
    domain: parseDomain([['is_company', '=', true], '|', ['city', 'ilike', 'brus'], ['country_id.code', '=', 'BE']]),
    order: parseOrder('name asc'),
    limit: 50,
    offset: 0,
  }
}

/** Every related record inside its filter: the lookup's answer comes from memory (Odoo's search is not timed). */
const allInside = async (_model: string, ids: number[]) => new Set(ids)

export async function runPolicyMicroBenchmark(options: { batches?: number; batchSize?: number } = {}) {
  const v1 = await measure(createPolicyGuard(policyV1, metadata), options)
  const v2 = await measure(createPolicyGuard(policyV2, metadata, { placeholders }), options)
  return { ...v1, version2: v2, version2Ratio: round(v2.total / v1.total) }
}

async function measure(guard: ReturnType<typeof createPolicyGuard>, options: { batches?: number; batchSize?: number }) {
  const batches = options.batches ?? 40
  const batchSize = options.batchSize ?? 500
  const perCall = { authorize: [] as number[], filter: [] as number[], total: [] as number[] }
  const filter = async (authorized: Awaited<ReturnType<typeof guard.authorize>>) => guard.finishRecords(authorized, guard.filterRecords(authorized, page), allInside)
  // Warm up the JIT first.
  for (let i = 0; i < 2000; i++) await filter(await guard.authorize(request()))
  for (let b = 0; b < batches; b++) {
    let authorizeNs = 0
    let filterNs = 0
    for (let i = 0; i < batchSize; i++) {
      const t0 = process.hrtime.bigint()
      const authorized = await guard.authorize(request())
      const t1 = process.hrtime.bigint()
      const filtered = await filter(authorized)
      const t2 = process.hrtime.bigint()
      if (filtered.length !== 50 || 'email' in filtered[0]!) throw new Error('filter is broken')
      authorizeNs += Number(t1 - t0)
      filterNs += Number(t2 - t1)
    }
    perCall.authorize.push(authorizeNs / batchSize / 1000)
    perCall.filter.push(filterNs / batchSize / 1000)
    perCall.total.push((authorizeNs + filterNs) / batchSize / 1000)
  }
  const result = {
    unit: 'microseconds per call (median of per-batch means)',
    batches,
    batchSize,
    authorize: round(summarize(perCall.authorize).p50),
    filter50Records: round(summarize(perCall.filter).p50),
    total: round(summarize(perCall.total).p50),
    totalP95: round(summarize(perCall.total).p95),
  }
  return result
}
