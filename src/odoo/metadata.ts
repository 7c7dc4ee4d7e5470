/**
 * Field metadata (`fields_get`) per model, as seen by the key's own Odoo user. The guard needs it to pick default
 * fields, to follow dotted paths (`partner_id.email` → res.partner) and to know which values are relational.
 * Cached per isolate: metadata changes only when modules are installed, and a stale entry can only make the gateway
 * stricter or looser within what the policy already allows, never beyond it.
 */
import type { OdooClient } from './types'

export interface FieldInfo {
  type: string
  string?: string
  relation?: string
  required?: boolean
  readonly?: boolean
  selection?: [string, string][]
  /** For related fields, the path they follow, e.g. `partner_id.email` (Odoo reads it as superuser). */
  related?: string | false | null
}

export type ModelFields = Record<string, FieldInfo>

/** Attributes asked of fields_get: enough for agents and for the guard, without Odoo's long help texts. */
export const FIELD_ATTRIBUTES = ['string', 'type', 'required', 'readonly', 'relation', 'selection', 'related'] as const

/** How long fields_get answers are reused: 5 minutes. */
const METADATA_TTL_MS = 5 * 60 * 1000
/** Entries kept per isolate; beyond it the oldest go first. */
const METADATA_MAX_ENTRIES = 1000

const cache = new Map<string, { at: number; fields: Promise<ModelFields> }>()

export function clearMetadataCache(): void {
  cache.clear()
}

export interface MetadataSource {
  fieldsOf(model: string): Promise<ModelFields>
}

/** Metadata as seen by one Odoo user (`scope` identifies server + user, so users never share entries). */
export function createMetadataSource(odoo: OdooClient, scope: string): MetadataSource {
  return {
    fieldsOf(model) {
      const key = `${scope}|${model}`
      const hit = cache.get(key)
      if (hit && Date.now() - hit.at < METADATA_TTL_MS) return hit.fields
      const fields = odoo.call<ModelFields>(model, 'fields_get', { kwargs: { attributes: [...FIELD_ATTRIBUTES] } })
      if (cache.size >= METADATA_MAX_ENTRIES) cache.delete(cache.keys().next().value!)
      cache.set(key, { at: Date.now(), fields })
      fields.catch(() => cache.delete(key))
      return fields
    },
  }
}
