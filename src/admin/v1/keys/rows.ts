/** The `api_keys` row as the admin API reads it (never `odoo_secret`), and how it is shown. */
import { keyStatus, type KeyStatus } from '../../../keys/key-store'

export const KEY_COLUMNS = 'id, name, prefix, odoo_login, odoo_uid, policy, created_at, expires_at, revoked_at, rotated_at, last_used_at'

export interface KeyRow {
  id: string
  name: string
  prefix: string
  odoo_login: string
  odoo_uid: number | null
  policy: string | null
  created_at: number
  expires_at: number | null
  revoked_at: number | null
  rotated_at: number | null
  last_used_at: number | null
}

/** The key's status as its object decides it (keys/key-store.ts keyStatus), from the row's columns. */
export function keyRowStatus(row: Pick<KeyRow, 'revoked_at' | 'expires_at'>, now: number): KeyStatus {
  return keyStatus({ revokedAt: row.revoked_at, expiresAt: row.expires_at }, now)
}

/** Active keys that expire within this time are flagged (`expiring_soon`). */
export const EXPIRING_SOON_MS = 7 * 86_400_000

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

export function keyJson(row: KeyRow, now: number, withPolicy: boolean) {
  const status = keyRowStatus(row, now)
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    odoo_login: row.odoo_login,
    odoo_uid: row.odoo_uid,
    status,
    expiring_soon: status === 'active' && row.expires_at !== null && row.expires_at - now <= EXPIRING_SOON_MS,
    created_at: iso(row.created_at),
    expires_at: iso(row.expires_at),
    revoked_at: iso(row.revoked_at),
    rotated_at: iso(row.rotated_at),
    last_used_at: iso(row.last_used_at),
    ...(withPolicy ? { policy: row.policy === null ? null : (JSON.parse(row.policy) as unknown) } : {}),
  }
}

export type KeyJson = ReturnType<typeof keyJson>
