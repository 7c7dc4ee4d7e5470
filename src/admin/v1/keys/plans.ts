/**
 * The key changes of the admin API as plans (admin/v1/plan.ts): each reads the key row it changes, refuses what
 * would not make sense (a revoked key cannot be rotated), and describes the change for the admin log. Secrets never
 * reach the log: a new Odoo secret shows as "replaced", a key secret by its display prefix only.
 */
import type { Env } from '../../../env'
import { displayPrefix, generateApiKey, generateKeyId } from '../../../keys/key-format'
import { importCredentialsKey, sealSecret, sha256Hex } from '../../../lib/crypto'
import { refused, type Plan } from '../plan'
import { statement, type Statement } from '../statement'
import { KEY_COLUMNS, keyRowStatus, type KeyRow } from './rows'

async function keyRow(env: Env, id: string): Promise<KeyRow | null> {
  return env.DB.prepare(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE id = ?1`).bind(id).first<KeyRow>()
}

const notFound = (id: string) => refused(404, 'key_not_found', `No key ${id}`)

const policyOf = (text: string | null): unknown => (text === null ? null : (JSON.parse(text) as unknown))

export interface CreateKeyInput {
  name: string
  odooLogin: string
  odooSecret: string
  odooUid: number | null
  /** Compact JSON text, already validated; null: the key may use nothing. */
  policy: string | null
  expiresAt: number | null
}

export interface CreatedKey {
  id: string
  name: string
  key: string
  prefix: string
}

export async function planCreateKey(env: Env, input: CreateKeyInput, now: number): Promise<Plan<CreatedKey>> {
  const id = generateKeyId()
  const { key } = generateApiKey()
  const prefix = displayPrefix(key)
  // The key id is the associated data: a sealed secret copied onto another row does not decrypt.
  const sealed = await sealSecret(await importCredentialsKey(env.CREDENTIALS_KEY), input.odooSecret, id)
  return {
    kind: 'change',
    target: id,
    before: null,
    after: {
      name: input.name,
      prefix,
      odoo_login: input.odooLogin,
      odoo_uid: input.odooUid,
      odoo_secret: 'set',
      policy: policyOf(input.policy),
      expires_at: input.expiresAt === null ? null : new Date(input.expiresAt).toISOString(),
    },
    statements: [
      statement(
        `INSERT INTO api_keys (id, name, prefix, odoo_login, odoo_secret, odoo_uid, policy, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)`,
        id, input.name, prefix, input.odooLogin, sealed, input.odooUid, input.policy, now, input.expiresAt,
      ),
      statement('INSERT INTO api_key_secrets (key_hash, key_id, prefix, created_at) VALUES (?1, ?2, ?3, ?4)', await sha256Hex(key), id, prefix, now),
    ],
    result: { id, name: input.name, key, prefix },
  }
}

export async function planRevokeKey(env: Env, input: { id: string }, now: number): Promise<Plan<{ alreadyRevoked: boolean; revokedAt: number }>> {
  const row = await keyRow(env, input.id)
  if (!row) return notFound(input.id)
  if (row.revoked_at !== null) return { kind: 'unchanged', result: { alreadyRevoked: true, revokedAt: row.revoked_at } }
  return {
    kind: 'change',
    target: input.id,
    before: { revoked_at: null },
    after: { revoked_at: new Date(now).toISOString() },
    statements: [statement('UPDATE api_keys SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL', now, input.id)],
    result: { alreadyRevoked: false, revokedAt: now },
  }
}

export async function planSetPolicy(env: Env, input: { id: string; policy: string }): Promise<Plan<{ id: string }>> {
  const row = await keyRow(env, input.id)
  if (!row) return notFound(input.id)
  return {
    kind: 'change',
    target: input.id,
    before: { policy: policyOf(row.policy) },
    after: { policy: policyOf(input.policy) },
    statements: [statement('UPDATE api_keys SET policy = ?1 WHERE id = ?2', input.policy, input.id)],
    result: { id: input.id },
  }
}

export interface OdooSecretInput {
  id: string
  odooSecret: string
  /** The uid Odoo answered when the secret was checked; null when it was not checked (not known yet). */
  odooUid: number | null
  verified: boolean
}

export async function planSetOdooSecret(env: Env, input: OdooSecretInput, now: number): Promise<Plan<{ odooLogin: string; name: string }>> {
  const row = await keyRow(env, input.id)
  if (!row) return notFound(input.id)
  const status = keyRowStatus(row, now)
  if (status !== 'active') return refused(409, `key_${status}`, `Key ${input.id} is ${status}: a new Odoo secret would not make it usable; create a new key instead`)
  const sealed = await sealSecret(await importCredentialsKey(env.CREDENTIALS_KEY), input.odooSecret, input.id)
  return {
    kind: 'change',
    target: input.id,
    before: { odoo_uid: row.odoo_uid },
    // A uid found with the old secret is never kept for the new one.
    after: { odoo_uid: input.odooUid, odoo_secret: 'replaced', verified: input.verified },
    statements: [statement('UPDATE api_keys SET odoo_secret = ?1, odoo_uid = ?2 WHERE id = ?3 AND revoked_at IS NULL', sealed, input.odooUid, input.id)],
    result: { odooLogin: row.odoo_login, name: row.name },
  }
}

/**
 * The statements of a rotation, in a safe order: the new secret is stored first, then the secrets still valid get
 * their end of grace (never later than one they already have), then the key row shows the new prefix.
 */
export function rotationStatements(input: { id: string; keyHash: string; prefix: string; now: number; graceEndsAt: number }): Statement[] {
  const { id, keyHash, prefix, now, graceEndsAt } = input
  return [
    statement('INSERT INTO api_key_secrets (key_hash, key_id, prefix, created_at) VALUES (?1, ?2, ?3, ?4)', keyHash, id, prefix, now),
    statement(
      `UPDATE api_key_secrets SET retires_at = MIN(COALESCE(retires_at, ?1), ?1)
       WHERE key_id = ?2 AND key_hash <> ?3 AND (retires_at IS NULL OR retires_at > ?4)`,
      graceEndsAt, id, keyHash, now,
    ),
    statement('UPDATE api_keys SET prefix = ?1, rotated_at = ?2 WHERE id = ?3', prefix, now, id),
  ]
}

export interface RotatedKey {
  id: string
  key: string
  prefix: string
  graceEndsAt: number
}

export async function planRotateKey(env: Env, input: { id: string; graceSeconds: number }, now: number): Promise<Plan<RotatedKey>> {
  const row = await keyRow(env, input.id)
  if (!row) return notFound(input.id)
  const status = keyRowStatus(row, now)
  if (status !== 'active') return refused(409, `key_${status}`, `Key ${input.id} is ${status}: rotating it would not make it usable; create a new key instead`)
  const { key } = generateApiKey()
  const prefix = displayPrefix(key)
  const graceEndsAt = now + input.graceSeconds * 1000
  return {
    kind: 'change',
    target: input.id,
    before: { prefix: row.prefix },
    after: { prefix, previous_secrets_end: new Date(graceEndsAt).toISOString() },
    statements: rotationStatements({ id: input.id, keyHash: await sha256Hex(key), prefix, now, graceEndsAt }),
    result: { id: input.id, key, prefix, graceEndsAt },
  }
}
