/**
 * Odoo operations the tools need, in Odoo's own terms, for every supported version: which method to call, with which
 * named arguments, and how to normalise the answer (e.g. read_group before 19, formatted_read_group from 19).
 * Nothing here knows about keys or policies; the guard wraps these (guard/guarded-odoo.ts).
 */
import type { AuthorizedRequest, OdooRecord } from '../guard/request'
import { FIELD_ATTRIBUTES, type ModelFields } from './metadata'
import type { OdooCallParams, OdooClient } from './types'

/** One aggregate row: the group-by values, `count`, and one `field:function` key per aggregate. */
export type AggregateGroup = Record<string, unknown> & { count: number }

export interface ModelSummary {
  model: string
  name: string
}

function contextOf(request: AuthorizedRequest): Pick<OdooCallParams, 'context'> {
  return request.context && Object.keys(request.context).length > 0 ? { context: { ...request.context } } : {}
}

export function createOdooOperations(odoo: OdooClient) {
  return {
    async listModels(request: AuthorizedRequest, names: string[] | null): Promise<ModelSummary[]> {
      const domain: unknown[] = [['transient', '=', false]]
      if (names) domain.push(['model', 'in', names])
      if (request.search) domain.push('|', ['model', 'ilike', request.search], ['name', 'ilike', request.search])
      const rows = await odoo.call<ModelSummary[]>('ir.model', 'search_read', {
        kwargs: { domain, fields: ['model', 'name'], order: 'model asc', limit: request.limit },
      })
      return rows.map(({ model, name }) => ({ model, name }))
    },

    fieldsGet(request: AuthorizedRequest): Promise<ModelFields> {
      return odoo.call<ModelFields>(request.model, 'fields_get', {
        kwargs: { attributes: [...FIELD_ATTRIBUTES] },
        ...contextOf(request),
      })
    },

    searchRead(request: AuthorizedRequest): Promise<OdooRecord[]> {
      const kwargs: Record<string, unknown> = {
        domain: request.domain?.terms ?? [],
        fields: request.readFields,
        limit: request.limit,
        offset: request.offset ?? 0,
      }
      const order = request.odooOrder ?? request.order?.odoo
      if (order) kwargs.order = order
      return odoo.call<OdooRecord[]>(request.model, 'search_read', { kwargs, ...contextOf(request) })
    },

    read(request: AuthorizedRequest): Promise<OdooRecord[]> {
      return odoo.call<OdooRecord[]>(request.model, 'read', {
        ids: request.ids,
        kwargs: { fields: request.readFields },
        ...contextOf(request),
      })
    },

    /**
     * A read by ids of a model with a record filter: a search of `id in ids ∧ filter`, archived records included
     * (a read by ids shows them), in the order of the ids asked.
     */
    async readInside(request: AuthorizedRequest, filter: unknown[]): Promise<OdooRecord[]> {
      const ids = request.ids ?? []
      const rows = await odoo.call<OdooRecord[]>(request.model, 'search_read', {
        kwargs: { domain: ['&', ['id', 'in', ids], ...filter], fields: request.readFields, order: 'id' },
        context: { ...request.context, active_test: false },
      })
      const position = new Map(ids.map((id, index) => [id, index]))
      return rows.sort((a, b) => (position.get(a.id as number) ?? 0) - (position.get(b.id as number) ?? 0))
    },

    /** Which of `ids` of `model` match `filter` (a resolved record filter), archived records included. */
    async idsInside(request: AuthorizedRequest, model: string, ids: number[], filter: unknown[]): Promise<Set<number>> {
      const found = await odoo.call<number[]>(model, 'search', {
        kwargs: { domain: ['&', ['id', 'in', ids], ...filter] },
        context: { ...request.context, active_test: false },
      })
      return new Set(found)
    },

    count(request: AuthorizedRequest): Promise<number> {
      return odoo.call<number>(request.model, 'search_count', {
        kwargs: { domain: request.domain?.terms ?? [] },
        ...contextOf(request),
      })
    },

    async aggregate(request: AuthorizedRequest): Promise<AggregateGroup[]> {
      const page = { limit: request.limit, offset: request.offset ?? 0 }
      const groupby = (request.groupby ?? []).map((g) => g.spec)
      const aggregates = (request.aggregates ?? []).map((a) => a.spec)
      const domain = request.domain?.terms ?? []
      const { majorVersion } = await odoo.serverInfo()
      if (majorVersion >= 19) {
        // Odoo 19 deprecates read_group for formatted_read_group, which keys aggregates as 'field:function'.
        const kwargs: Record<string, unknown> = { domain, groupby, aggregates: [...aggregates, '__count'], offset: page.offset, limit: page.limit }
        if (request.odooOrder) kwargs.order = request.odooOrder
        const rows = await odoo.call<Record<string, unknown>[]>(request.model, 'formatted_read_group', {
          kwargs,
          ...contextOf(request),
        })
        return rows.map((row) => {
          const group: AggregateGroup = { count: Number(row.__count ?? 0) }
          for (const spec of groupby) group[spec] = row[spec]
          for (const spec of aggregates) group[spec] = row[spec]
          return group
        })
      }
      // Before 19: read_group keys each aggregate by its field name and the count as __count (lazy=False).
      const kwargs: Record<string, unknown> = { domain, fields: aggregates, groupby, offset: page.offset, limit: page.limit, lazy: false }
      if (request.odooOrder) kwargs.orderby = request.odooOrder
      const rows = await odoo.call<Record<string, unknown>[]>(request.model, 'read_group', {
        kwargs,
        ...contextOf(request),
      })
      return rows.map((row) => {
        const group: AggregateGroup = { count: Number(row.__count ?? 0) }
        for (const spec of groupby) group[spec] = row[spec]
        for (const aggregate of request.aggregates ?? []) group[aggregate.spec] = row[aggregate.field]
        return group
      })
    },

    async create(request: AuthorizedRequest): Promise<number> {
      // Odoo 17+ create() takes a list of dicts and returns a list of ids (older versions: one id).
      const result = await odoo.call<number | number[]>(request.model, 'create', {
        kwargs: { vals_list: [request.values] },
        ...contextOf(request),
      })
      const id = Array.isArray(result) ? result[0] : result
      if (typeof id !== 'number') throw new TypeError(`create returned ${JSON.stringify(result)}`)
      return id
    },

    async write(request: AuthorizedRequest): Promise<void> {
      await odoo.call(request.model, 'write', { ids: request.ids, kwargs: { vals: request.values }, ...contextOf(request) })
    },

    async unlink(request: AuthorizedRequest): Promise<void> {
      await odoo.call(request.model, 'unlink', { ids: request.ids, ...contextOf(request) })
    },
  }
}

export type OdooOperations = ReturnType<typeof createOdooOperations>
