/**
 * Reads API keys from D1. The key itself is never stored or compared: the presented key is hashed and the hash is
 * looked up through the UNIQUE index, so the lookup takes the same path whatever the outcome.
 */
import type { Env } from '../env'

export interface ApiKeyRecord {
  id: string
  name: string
  prefix: string
  odooLogin: string
  /** Sealed with CREDENTIALS_KEY, key id as associated data (lib/crypto.ts). */
  odooSecretSealed: string
  odooUid: number | null
  /** Raw JSON policy document, or null. */
  policy: string | null
  createdAt: number
  expiresAt: number | null
  revokedAt: number | null
  lastUsedAt: number | null
}

interface ApiKeyRow {
  id: string
  name: string
  prefix: string
  odoo_login: string
  odoo_secret: string
  odoo_uid: number | null
  policy: string | null
  created_at: number
  expires_at: number | null
  revoked_at: number | null
  last_used_at: number | null
}

export type KeyStatus = 'active' | 'expired' | 'revoked'

/** Why a key is not usable at `now` (ms), or 'active'. */
export function keyStatus(key: Pick<ApiKeyRecord, 'expiresAt' | 'revokedAt'>, now: number): KeyStatus {
  if (key.revokedAt !== null && key.revokedAt <= now) return 'revoked'
  if (key.expiresAt !== null && key.expiresAt <= now) return 'expired'
  return 'active'
}

export async function findKeyByHash(db: Env['DB'], keyHash: string): Promise<ApiKeyRecord | null> {
  const row = await db
    .prepare(
      `SELECT id, name, prefix, odoo_login, odoo_secret, odoo_uid, policy, created_at, expires_at, revoked_at, last_used_at
         FROM api_keys WHERE key_hash = ?1`,
    )
    .bind(keyHash)
    .first<ApiKeyRow>()
  if (!row) return null
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    odooLogin: row.odoo_login,
    odooSecretSealed: row.odoo_secret,
    odooUid: row.odoo_uid,
    policy: row.policy,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  }
}

/** Remembers the uid Odoo resolved for the key's login, so other isolates skip `common.authenticate`. */
export async function saveOdooUid(db: Env['DB'], keyId: string, uid: number): Promise<void> {
  await db.prepare('UPDATE api_keys SET odoo_uid = ?1 WHERE id = ?2').bind(uid, keyId).run()
}

/** `last_used_at` is refreshed at most this often (5 minutes), to keep a D1 write off most requests. */
export const LAST_USED_RESOLUTION_MS = 5 * 60 * 1000

export async function touchLastUsed(db: Env['DB'], key: ApiKeyRecord, now: number): Promise<void> {
  if (key.lastUsedAt !== null && now - key.lastUsedAt < LAST_USED_RESOLUTION_MS) return
  await db.prepare('UPDATE api_keys SET last_used_at = ?1 WHERE id = ?2').bind(now, key.id).run()
}
