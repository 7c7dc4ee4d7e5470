/**
 * Reads API keys from D1. The key itself is never stored or compared: the presented key is hashed and the hash is
 * looked up through the primary key of `api_key_secrets`.
 */
import type { Env } from '../env'
import { isConnectionId } from '../oauth/connection-id'
import { loadStoredConnection } from '../oauth/connection-store'

export interface ApiKeyRecord {
  id: string
  name: string
  /** Display prefix of the current secret. */
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
  rotatedAt: number | null
  lastUsedAt: number | null
}

/** One secret of a key: the current one (retiresAt null) or a previous one in its grace period. */
export interface KeySecret {
  hash: string
  prefix: string
  retiresAt: number | null
}

export interface StoredKey {
  key: ApiKeyRecord
  secrets: KeySecret[]
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
  rotated_at: number | null
  last_used_at: number | null
}

export type KeyStatus = 'active' | 'expired' | 'revoked'

/** Why a key is not usable at `now` (ms), or 'active'. */
export function keyStatus(key: Pick<ApiKeyRecord, 'expiresAt' | 'revokedAt'>, now: number): KeyStatus {
  if (key.revokedAt !== null && key.revokedAt <= now) return 'revoked'
  if (key.expiresAt !== null && key.expiresAt <= now) return 'expired'
  return 'active'
}

/** The key id a secret belongs to, or null. Retired secrets still resolve: the key object says why they fail. */
export async function findKeyIdByHash(db: Env['DB'], keyHash: string): Promise<string | null> {
  const row = await db.prepare('SELECT key_id FROM api_key_secrets WHERE key_hash = ?1').bind(keyHash).first<{ key_id: string }>()
  return row?.key_id ?? null
}

/**
 * A key and its secrets, in one round trip; null when there is no such key. An OAuth connection's id (`con_…`)
 * loads the connection in a key's shape (oauth/connection-store.ts).
 */
export async function loadStoredKey(db: Env['DB'], keyId: string): Promise<StoredKey | null> {
  if (isConnectionId(keyId)) return loadStoredConnection(db, keyId)
  const [keys, secrets] = await db.batch([
    db
      .prepare(
        `SELECT id, name, prefix, odoo_login, odoo_secret, odoo_uid, policy, created_at, expires_at, revoked_at,
                rotated_at, last_used_at
           FROM api_keys WHERE id = ?1`,
      )
      .bind(keyId),
    db.prepare('SELECT key_hash, prefix, retires_at FROM api_key_secrets WHERE key_id = ?1').bind(keyId),
  ])
  const row = (keys!.results as ApiKeyRow[])[0]
  if (!row) return null
  return {
    key: {
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
      rotatedAt: row.rotated_at,
      lastUsedAt: row.last_used_at,
    },
    secrets: (secrets!.results as { key_hash: string; prefix: string; retires_at: number | null }[]).map((secret) => ({
      hash: secret.key_hash,
      prefix: secret.prefix,
      retiresAt: secret.retires_at,
    })),
  }
}

/** Where a key-like identity lives: API keys, or OAuth connections. */
function tableOf(id: string): 'api_keys' | 'connections' {
  return isConnectionId(id) ? 'connections' : 'api_keys'
}

/** Remembers the uid Odoo resolved for the key's login, so other isolates skip `common.authenticate`. */
export async function saveOdooUid(db: Env['DB'], keyId: string, uid: number): Promise<void> {
  await db.prepare(`UPDATE ${tableOf(keyId)} SET odoo_uid = ?1 WHERE id = ?2`).bind(uid, keyId).run()
}

/** Records the last use; never moves it backwards (two objects' flushes may cross after a restart). */
export async function saveLastUsed(db: Env['DB'], keyId: string, lastUsedAt: number): Promise<void> {
  await db
    .prepare(`UPDATE ${tableOf(keyId)} SET last_used_at = ?1 WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at < ?1)`)
    .bind(lastUsedAt, keyId)
    .run()
}
