/**
 * The access guard: the single place where a key's permissions are applied to a tool call. Every tool goes through
 * `authorize` before Odoo is called and through the output filters after (see mcp/run-tool.ts); tools cannot reach
 * Odoo any other way.
 */
import type { FieldInfo, MetadataSource, ModelFields } from '../odoo/metadata'
import type { AggregateGroup } from '../odoo/operations'
import type { AuthorizedRequest, OdooRecord, ToolRequest } from './request'

export interface AccessGuard {
  /** Checks a request and fixes the fields to read. @throws ToolError naming what is not allowed. */
  authorize(request: ToolRequest): Promise<AuthorizedRequest>
  /** Keeps only what the key may see of records of `request.model`. */
  filterRecords(request: AuthorizedRequest, records: OdooRecord[]): OdooRecord[]
  /** Keeps only what the key may see of aggregate rows (group values of relational fields). */
  filterGroups(request: AuthorizedRequest, groups: AggregateGroup[]): AggregateGroup[]
  /** Keeps only the fields the key may see in `fields_get` output. */
  filterFieldMetadata(model: string, fields: ModelFields): ModelFields
  /** Models the key may use, or `null` when Odoo's own rights are the only limit. */
  visibleModels(): string[] | null
}

/** Field types left out of the default field set: binary blobs (images, attachments) are large and rarely wanted. */
const HEAVY_FIELD_TYPES: ReadonlySet<string> = new Set(['binary'])

export function isDefaultReadable(field: FieldInfo): boolean {
  return !HEAVY_FIELD_TYPES.has(field.type)
}

/** Guard for a key without narrowing: Odoo's own access rights for the key's user are the only limit. */
export function createOdooRightsGuard(metadata: MetadataSource): AccessGuard {
  return {
    async authorize(request) {
      if (request.operation !== 'read' || request.groupby || request.tool === 'count_records') {
        return { ...request, readFields: [] }
      }
      if (request.fields) return { ...request, readFields: request.fields }
      const fields = await metadata.fieldsOf(request.model)
      return { ...request, readFields: Object.keys(fields).filter((name) => isDefaultReadable(fields[name]!)) }
    },
    filterRecords: (_request, records) => records,
    filterGroups: (_request, groups) => groups,
    filterFieldMetadata: (_model, fields) => fields,
    visibleModels: () => null,
  }
}
