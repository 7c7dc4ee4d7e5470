/** Read tools: search, read by id, count, aggregate. All are `read` operations for the guard. */
import { z } from 'zod'
import { parseDomain } from '../../domain/domain'
import { parseAggregates, parseGroupBy, parseOrder } from '../../domain/query-parts'
import { context, countOf, DEFAULT_SEARCH_LIMIT, domain, fieldList, JSON_VALUE, limit, MAX_LIMIT, modelName, offset, order, recordId, recordIds, recordOutput } from '../schemas'
import { defineTool } from '../tool'

/** One group of aggregate_records: its count, its group-by values and its aggregates (only `count` is checked, as for records). */
const groupOutput = z.looseObject({ count: countOf }).meta({ additionalProperties: JSON_VALUE })
const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const

export const searchRecords = defineTool({
  name: 'search_records',
  title: 'Search Odoo records',
  description:
    'Finds records of a model matching a domain filter and returns the requested fields. "has_more" says whether ' +
    'more records match after this page (page on with offset); "total", the number of matches, comes when it is known ' +
    'for free (the last page), or always with count_total: true (one more query for Odoo: ask only when you need it). ' +
    `Returns ${DEFAULT_SEARCH_LIMIT} records by default, at most ${MAX_LIMIT}. ` +
    'many2one fields come back as [id, "display name"] (or as the bare id when this key may not see the related ' +
    'model\'s display names); one2many/many2many fields as sorted id lists. Use count_records when you only need how many, and ' +
    'aggregate_records for sums and group totals instead of fetching every record.',
  inputSchema: {
    model: modelName,
    domain: domain.optional(),
    fields: fieldList.optional(),
    limit: limit(DEFAULT_SEARCH_LIMIT, 'Records per page'),
    offset: offset('Records'),
    order: order.optional(),
    count_total: z
      .boolean()
      .default(false)
      .describe('true to always get "total", the exact number of matching records (costs Odoo a second query)'),
    context: context.optional(),
  },
  outputSchema: {
    records: z.array(recordOutput),
    has_more: z.boolean().describe('Whether more records match after this page'),
    total: countOf.optional().describe('Number of matching records: on the last page, or with count_total'),
    limit: countOf,
    offset: countOf,
  },
  annotations: READ_ONLY,
  requires: 'read',
  plan: (args) => ({
    tool: 'search_records',
    model: args.model,
    operation: 'read',
    fields: args.fields,
    domain: parseDomain(args.domain),
    order: parseOrder(args.order),
    limit: args.limit,
    offset: args.offset,
    countTotal: args.count_total,
    context: args.context,
  }),
  /**
   * One Odoo query by default: the page plus one record says whether more follow. The total is known without asking
   * on the last page (offset + what came back), unless the offset went past the end (then nothing says how far).
   */
  async execute(request, odoo) {
    const limit = request.limit!
    const offset = request.offset!
    const [rows, counted] = await Promise.all([
      odoo.searchRead({ ...request, limit: limit + 1 }),
      request.countTotal ? odoo.count(request) : undefined,
    ])
    const hasMore = rows.length > limit
    const records = hasMore ? rows.slice(0, limit) : rows
    const knownTotal = !hasMore && (records.length > 0 || offset === 0) ? offset + records.length : undefined
    const total = counted ?? knownTotal
    return { records, has_more: hasMore, ...(total === undefined ? {} : { total }), limit, offset }
  },
})

export const readRecords = defineTool({
  name: 'read_records',
  title: 'Read Odoo records by id',
  description:
    'Reads records of a model by their ids and returns the requested fields. Ids that do not exist (or were ' +
    'deleted) are listed in "missing". Use search_records when you do not know the ids.',
  inputSchema: { model: modelName, ids: recordIds, fields: fieldList.optional(), context: context.optional() },
  outputSchema: { records: z.array(recordOutput), missing: z.array(recordId) },
  annotations: READ_ONLY,
  requires: 'read',
  plan: (args) => ({ tool: 'read_records', model: args.model, operation: 'read', ids: args.ids, fields: args.fields, context: args.context }),
  async execute(request, odoo) {
    const records = await odoo.read(request)
    const found = new Set(records.map((r) => r.id))
    return { records, missing: request.ids!.filter((id) => !found.has(id)) }
  },
})

export const countRecords = defineTool({
  name: 'count_records',
  title: 'Count Odoo records',
  description: 'Counts the records of a model that match a domain filter (same syntax as search_records).',
  inputSchema: { model: modelName, domain: domain.optional(), context: context.optional() },
  outputSchema: { count: countOf },
  annotations: READ_ONLY,
  requires: 'read',
  plan: (args) => ({ tool: 'count_records', model: args.model, operation: 'read', domain: parseDomain(args.domain), context: args.context }),
  async execute(request, odoo) {
    return { count: await odoo.count(request) }
  },
})

export const aggregateRecords = defineTool({
  name: 'aggregate_records',
  title: 'Group and aggregate Odoo records',
  description:
    'Groups the records matching a domain by one or more fields and computes aggregates per group, like SQL ' +
    'GROUP BY: e.g. groupby ["partner_id"] with aggregates ["amount_total:sum"] gives the total sales per customer. ' +
    'Date fields can be grouped by period: "date_order:month" (day, week, month, quarter, year). ' +
    'Aggregate functions: sum, avg, min, max, count, count_distinct. Each group has "count" (records in the group). ' +
    'Groups come in the order of their groupby values (a many2one by the related record\'s order, or by id).',
  inputSchema: {
    model: modelName,
    domain: domain.optional(),
    groupby: z.array(z.string().max(100)).min(1).max(5).describe('Fields to group by, e.g. ["state"] or ["date_order:month"]'),
    aggregates: z.array(z.string().max(100)).max(20).default([]).describe('Aggregates as "field:function", e.g. ["amount_total:sum"]'),
    limit: limit(100, 'Maximum groups'),
    offset: offset('Groups'),
    context: context.optional(),
  },
  outputSchema: { groups: z.array(groupOutput) },
  annotations: READ_ONLY,
  requires: 'read',
  plan: (args) => ({
    tool: 'aggregate_records',
    model: args.model,
    operation: 'read',
    domain: parseDomain(args.domain),
    groupby: parseGroupBy(args.groupby),
    aggregates: parseAggregates(args.aggregates),
    limit: args.limit,
    offset: args.offset,
    context: args.context,
  }),
  async execute(request, odoo) {
    return { groups: await odoo.aggregate(request) }
  },
})

