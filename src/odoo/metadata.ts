/**
 * Field metadata (`fields_get`) per model, as seen by the key's own Odoo user. The guard needs it to pick default
 * fields, to follow dotted paths (`partner_id.email` → res.partner) and to know which values are relational.
 * Cached per isolate: metadata changes only when modules are installed, and a stale entry can only make the gateway
 * stricter or looser within what the policy already allows, never beyond it.
 */
import { OdooError } from './errors'
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
  /** For one2many fields, the many2one of the related model that points back (what a link or unlink rewrites). */
  relation_field?: string | false | null
}

export type ModelFields = Record<string, FieldInfo>

/** Attributes asked of fields_get: enough for agents and for the guard, without Odoo's long help texts. */
export const FIELD_ATTRIBUTES = ['string', 'type', 'required', 'readonly', 'relation', 'selection', 'related', 'relation_field'] as const

/** How long fields_get answers are reused: 5 minutes. */
const METADATA_TTL_MS = 5 * 60 * 1000
/** Entries kept per isolate; beyond it the oldest go first. */
const METADATA_MAX_ENTRIES = 1000

const fieldsCache = new Map<string, { at: number; value: Promise<ModelFields> }>()
const orderCache = new Map<string, { at: number; value: Promise<string | null> }>()

export function clearMetadataCache(): void {
  fieldsCache.clear()
  orderCache.clear()
}

/** Reuses a cached promise younger than the TTL, or makes a new one; a failed promise is forgotten at once. */
function cached<T>(store: Map<string, { at: number; value: Promise<T> }>, key: string, load: () => Promise<T>): Promise<T> {
  const hit = store.get(key)
  if (hit && Date.now() - hit.at < METADATA_TTL_MS) return hit.value
  const value = load()
  if (store.size >= METADATA_MAX_ENTRIES) store.delete(store.keys().next().value!)
  store.set(key, { at: Date.now(), value })
  value.catch(() => store.delete(key))
  return value
}

export interface MetadataSource {
  fieldsOf(model: string): Promise<ModelFields>
  /**
   * The model's default order (its `_order`, as Odoo reflects it in `ir.model.order`), or `null` when the key's user
   * cannot read it: the guard then orders by `id`. Optional for metadata given as data (tests).
   */
  defaultOrderOf?(model: string): Promise<string | null>
}

/** Metadata as seen by one Odoo user (`scope` identifies server + user, so users never share entries). */
export function createMetadataSource(odoo: OdooClient, scope: string): MetadataSource {
  return {
    fieldsOf(model) {
      return cached(fieldsCache, `${scope}|${model}`, () =>
        odoo.call<ModelFields>(model, 'fields_get', { kwargs: { attributes: [...FIELD_ATTRIBUTES] } }),
      )
    },
    defaultOrderOf(model) {
      return cached(orderCache, `${scope}|${model}`, async () => {
        try {
          const rows = await odoo.call<{ order?: unknown }[]>('ir.model', 'search_read', {
            kwargs: { domain: [['model', '=', model]], fields: ['order'], limit: 1 },
          })
          const order = rows[0]?.order
          return typeof order === 'string' && order.trim() !== '' ? order : null
        } catch (error) {
          // Odoo refused (a user without access to ir.model): order by id. Odoo unreachable: fail the call.
          if (error instanceof OdooError) return null
          throw error
        }
      })
    },
  }
}
