/**
 * What tools are given instead of an Odoo client: the Odoo operations, taking only authorized requests and passing
 * every answer through the guard's output filters. A tool has no other handle on Odoo, so it cannot forget a filter.
 */
import type { ModelSummary, OdooOperations } from '../odoo/operations'
import type { AccessGuard } from './guard'
import type { AuthorizedRequest } from './request'

export function createGuardedOdoo(ops: OdooOperations, guard: AccessGuard) {
  return {
    async listModels(request: AuthorizedRequest): Promise<ModelSummary[]> {
      return guard.filterModels(await ops.listModels(request, guard.visibleModels()))
    },
    async fieldsGet(request: AuthorizedRequest) {
      return guard.filterFieldMetadata(request.model, await ops.fieldsGet(request))
    },
    async searchRead(request: AuthorizedRequest) {
      return guard.filterRecords(request, await ops.searchRead(request))
    },
    async read(request: AuthorizedRequest) {
      return guard.filterRecords(request, await ops.read(request))
    },
    count: (request: AuthorizedRequest) => ops.count(request),
    async aggregate(request: AuthorizedRequest) {
      return guard.filterGroups(request, await ops.aggregate(request))
    },
    create: (request: AuthorizedRequest) => ops.create(request),
    write: (request: AuthorizedRequest) => ops.write(request),
    unlink: (request: AuthorizedRequest) => ops.unlink(request),
  }
}

export type GuardedOdoo = ReturnType<typeof createGuardedOdoo>
