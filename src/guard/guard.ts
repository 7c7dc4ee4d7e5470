/**
 * The access guard: the single place where a key's permissions are applied to a tool call. Every tool goes through
 * `authorize` before Odoo is called, and every answer through the output filters (guarded-odoo.ts); tools have no
 * other way to reach Odoo. The implementation is policy-guard.ts.
 */
import type { FieldInfo, ModelFields } from '../odoo/metadata'
import type { AggregateGroup, ModelSummary } from '../odoo/operations'
import type { AuthorizedRequest, OdooRecord, ToolRequest } from './request'

export interface AccessGuard {
  /** Checks a request and fixes the fields to read. @throws ToolError naming what is not allowed. */
  authorize(request: ToolRequest): Promise<AuthorizedRequest>
  /** Keeps only what the key may see of records of `request.model`. */
  filterRecords(request: AuthorizedRequest, records: OdooRecord[]): OdooRecord[]
  /** Keeps only what the key may see of aggregate rows. */
  filterGroups(request: AuthorizedRequest, groups: AggregateGroup[]): AggregateGroup[]
  /**
   * After `filterRecords`: masks masked fields, and drops the display names of related records a record filter
   * hides (asking `inside` which ids are within; policy version 2).
   */
  finishRecords(request: AuthorizedRequest, records: OdooRecord[], inside: InsideLookup): Promise<OdooRecord[]>
  /** After `filterGroups`: drops the display names of group keys a record filter hides. */
  finishGroups(request: AuthorizedRequest, groups: AggregateGroup[], inside: InsideLookup): Promise<AggregateGroup[]>
  /** Keeps only the fields the key may see in `fields_get` output. */
  filterFieldMetadata(model: string, fields: ModelFields): Promise<ModelFields>
  /** Models to ask Odoo about in list_models, or `null` for all (then filtered by `filterModels`). */
  visibleModels(): string[] | null
  filterModels(models: ModelSummary[]): ModelSummary[]
}

/** Which of `ids` of `model` match `filter` (a resolved record filter), asked of Odoo as the key's user. */
export type InsideLookup = (model: string, ids: number[], filter: unknown[]) => Promise<Set<number>>

/** Field types left out of the default field set: binary blobs (images, attachments) are large and rarely wanted. */
const HEAVY_FIELD_TYPES: ReadonlySet<string> = new Set(['binary'])

export function isDefaultReadable(field: FieldInfo): boolean {
  return !HEAVY_FIELD_TYPES.has(field.type)
}
