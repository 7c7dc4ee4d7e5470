/**
 * What tools are given instead of an Odoo client: the Odoo operations, taking only authorized requests and passing
 * every answer through the guard's output filters. A tool has no other handle on Odoo, so it cannot forget a filter.
 *
 * Record filters (guard/record-scope.ts) add what needs Odoo: a read by ids becomes a search inside the filter, a
 * write or delete checks its ids (and the ids its values name) before changing anything, and display names of
 * related records are kept only for records inside their filter.
 */
import type { ModelSummary, OdooOperations } from '../odoo/operations'
import type { AccessGuard, InsideLookup } from './guard'
import { missingRecords } from './record-scope'
import type { AuthorizedRequest, ScopedIds } from './request'

export function createGuardedOdoo(ops: OdooOperations, guard: AccessGuard) {
  function insideLookup(request: AuthorizedRequest): InsideLookup {
    return (model, ids, filter) => ops.idsInside(request, model, ids, filter)
  }

  /** Every id the call names must be inside its model's filter; else the call answers as for missing records. */
  async function requireInside(request: AuthorizedRequest): Promise<void> {
    const checks: ScopedIds[] = [...(request.within ?? [])]
    if (request.recordFilter && request.ids) checks.unshift({ model: request.model, ids: request.ids, filter: request.recordFilter.terms })
    const outcomes = await Promise.all(checks.map(async (check) => ({ check, inside: await ops.idsInside(request, check.model, check.ids, check.filter) })))
    for (const { check, inside } of outcomes) {
      const outside = check.ids.filter((id) => !inside.has(id))
      if (outside.length > 0) missingRecords(check.model, outside)
    }
  }

  return {
    async listModels(request: AuthorizedRequest): Promise<ModelSummary[]> {
      return guard.filterModels(await ops.listModels(request, guard.visibleModels()))
    },
    async fieldsGet(request: AuthorizedRequest) {
      return guard.filterFieldMetadata(request.model, await ops.fieldsGet(request))
    },
    async searchRead(request: AuthorizedRequest) {
      return guard.finishRecords(request, guard.filterRecords(request, await ops.searchRead(request)), insideLookup(request))
    },
    async read(request: AuthorizedRequest) {
      const records = request.recordFilter ? await ops.readInside(request, request.recordFilter.terms) : await ops.read(request)
      return guard.finishRecords(request, guard.filterRecords(request, records), insideLookup(request))
    },
    count: (request: AuthorizedRequest) => ops.count(request),
    async aggregate(request: AuthorizedRequest) {
      return guard.finishGroups(request, guard.filterGroups(request, await ops.aggregate(request)), insideLookup(request))
    },
    async create(request: AuthorizedRequest) {
      await requireInside(request)
      return ops.create(request)
    },
    async write(request: AuthorizedRequest) {
      await requireInside(request)
      return ops.write(request)
    },
    async unlink(request: AuthorizedRequest) {
      await requireInside(request)
      return ops.unlink(request)
    },
  }
}

export type GuardedOdoo = ReturnType<typeof createGuardedOdoo>
