/**
 * The `api_keys` and `api_key_secrets` tables as the CLI and `npm start` use them. Display queries name their
 * columns, so secret hashes and `odoo_secret` never leave D1 through them.
 */
import { displayPrefix, generateApiKey, generateKeyId } from '../src/keys/key-format'
import { sealSecret, sha256Hex } from '../src/lib/crypto'
import { executeSql, type D1Target, type Row } from './d1'
import { CliError } from './errors'
import { rotationStatements } from './key-sql'
import { quote, sql } from './sql'

export type KeyStatus = 'active' | 'expired' | 'revoked'

export interface KeyRecord {
  id: string
  name: string
  prefix: string
  odooLogin: string
  odooUid: number | null
  policy: string | null
  createdAt: number
  expiresAt: number | null
  revokedAt: number | null
  rotatedAt: number | null
  lastUsedAt: number | null
}

const DISPLAY_COLUMNS =
  'id, name, prefix, odoo_login, odoo_uid, policy, created_at, expires_at, revoked_at, rotated_at, last_used_at'

function text(row: Row, column: string): string {
  const value = row[column]
  if (typeof value !== 'string') throw new CliError(`unexpected D1 value in api_keys.${column}`)
  return value
}

function integerOrNull(row: Row, column: string): number | null {
  const value = row[column]
  if (value === null || value === undefined) return null
  if (typeof value !== 'number') throw new CliError(`unexpected D1 value in api_keys.${column}`)
  return value
}

function toRecord(row: Row): KeyRecord {
  const policy = row.policy
  return {
    id: text(row, 'id'),
    name: text(row, 'name'),
    prefix: text(row, 'prefix'),
    odooLogin: text(row, 'odoo_login'),
    odooUid: integerOrNull(row, 'odoo_uid'),
    policy: typeof policy === 'string' ? policy : null,
    createdAt: integerOrNull(row, 'created_at') ?? 0,
    expiresAt: integerOrNull(row, 'expires_at'),
    revokedAt: integerOrNull(row, 'revoked_at'),
    rotatedAt: integerOrNull(row, 'rotated_at'),
    lastUsedAt: integerOrNull(row, 'last_used_at'),
  }
}

export function statusOf(record: KeyRecord, now: number): KeyStatus {
  if (record.revokedAt !== null) return 'revoked'
  if (record.expiresAt !== null && record.expiresAt <= now) return 'expired'
  return 'active'
}

/** `keys list` flags active keys that expire within this time (7 days). */
export const EXPIRING_SOON_MS = 7 * 86_400_000

export function expiresSoon(record: KeyRecord, now: number): boolean {
  return statusOf(record, now) === 'active' && record.expiresAt !== null && record.expiresAt - now <= EXPIRING_SOON_MS
}

export interface NewKeyInput {
  name: string
  odooLogin: string
  odooSecret: string
  /** Policy text as stored; null: the key may use nothing. */
  policy: string | null
  expiresAt: number | null
  now: number
  /** The Odoo uid, when the credentials were checked against Odoo (null or absent: not known yet). */
  odooUid?: number | null
  /** Revoke the active keys with this name in the same batch (the demo key of `npm start` replaces its predecessor). */
  replaceActiveNamed?: string
}

export interface CreatedKey {
  id: string
  name: string
  /** The full key: shown once, never stored. */
  key: string
  prefix: string
}

export async function createKey(target: D1Target, credentialsKey: CryptoKey, input: NewKeyInput): Promise<CreatedKey> {
  const { created, statements } = await keyCreation(credentialsKey, input)
  await executeSql(target, statements.join(';\n'))
  return created
}

/**
 * A new key and the SQL that stores it, without running it: `createKey` runs it at once; a harness creating many
 * keys (`npm run test:load`) runs them all in one wrangler call.
 */
export async function keyCreation(credentialsKey: CryptoKey, input: NewKeyInput): Promise<{ created: CreatedKey; statements: string[] }> {
  const id = generateKeyId()
  const { key } = generateApiKey()
  const prefix = displayPrefix(key)
  // The key id is the associated data: a sealed secret copied onto another row does not decrypt.
  const sealed = await sealSecret(credentialsKey, input.odooSecret, id)
  const keyHash = await sha256Hex(key)
  const statements: string[] = []
  if (input.replaceActiveNamed !== undefined) {
    statements.push(
      sql`UPDATE api_keys SET revoked_at = ${input.now} WHERE name = ${input.replaceActiveNamed} AND revoked_at IS NULL`,
    )
  }
  statements.push(
    sql`INSERT INTO api_keys (id, name, prefix, odoo_login, odoo_secret, odoo_uid, policy, created_at, expires_at)
        VALUES (${id}, ${input.name}, ${prefix}, ${input.odooLogin}, ${sealed}, ${input.odooUid ?? null}, ${input.policy},
                ${input.now}, ${input.expiresAt})`,
    sql`INSERT INTO api_key_secrets (key_hash, key_id, prefix, created_at) VALUES (${keyHash}, ${id}, ${prefix}, ${input.now})`,
  )
  return { created: { id, name: input.name, key, prefix }, statements }
}

export async function listKeys(target: D1Target): Promise<KeyRecord[]> {
  const [rows = []] = await executeSql(target, `SELECT ${DISPLAY_COLUMNS} FROM api_keys ORDER BY created_at, id`)
  return rows.map(toRecord)
}

export async function getKey(target: D1Target, id: string): Promise<KeyRecord | undefined> {
  const [rows = []] = await executeSql(target, `SELECT ${DISPLAY_COLUMNS} FROM api_keys WHERE id = ${quote(id)}`)
  return rows[0] ? toRecord(rows[0]) : undefined
}

export type RevokeResult =
  | { found: false }
  | { found: true; alreadyRevoked: boolean; record: KeyRecord }

/** Sets `revoked_at` unless already set; one wrangler call tells which case happened. */
export async function revokeKey(target: D1Target, id: string, now: number): Promise<RevokeResult> {
  const [updated = [], rows = []] = await executeSql(
    target,
    `UPDATE api_keys SET revoked_at = ${quote(now)} WHERE id = ${quote(id)} AND revoked_at IS NULL RETURNING id;
     SELECT ${DISPLAY_COLUMNS} FROM api_keys WHERE id = ${quote(id)}`,
  )
  if (!rows[0]) return { found: false }
  return { found: true, alreadyRevoked: updated.length === 0, record: toRecord(rows[0]) }
}

/** Replaces a key's policy; `found: false` when no key has this id. Takes effect on the key's next request. */
export async function setPolicy(target: D1Target, id: string, policy: string): Promise<{ found: boolean }> {
  const [updated = []] = await executeSql(target, sql`UPDATE api_keys SET policy = ${policy} WHERE id = ${id} RETURNING id`)
  return { found: updated.length > 0 }
}

/**
 * Replaces a key's Odoo secret (sealed under CREDENTIALS_KEY, the key id as associated data) and its uid: the uid
 * Odoo answered when the new secret was checked, or NULL (not known) when it was not, so a uid found with the old
 * secret is never kept for the new one. Revoked keys are left alone; `found: false` when no active row matched.
 */
export async function replaceOdooSecret(
  target: D1Target,
  credentialsKey: CryptoKey,
  id: string,
  odooSecret: string,
  odooUid: number | null,
): Promise<{ found: boolean }> {
  const sealed = await sealSecret(credentialsKey, odooSecret, id)
  const [updated = []] = await executeSql(
    target,
    sql`UPDATE api_keys SET odoo_secret = ${sealed}, odoo_uid = ${odooUid} WHERE id = ${id} AND revoked_at IS NULL RETURNING id`,
  )
  return { found: updated.length > 0 }
}

export interface RotatedKey {
  id: string
  /** The new secret: shown once, never stored. */
  key: string
  prefix: string
  /** When the previous secret(s) stop working. */
  graceEndsAt: number
}

/**
 * Issues a new secret for an active key; the old one keeps working until `graceEndsAt`. Same key id, policy and
 * Odoo user, so the audit trail and rate limit carry on.
 */
export async function rotateKey(target: D1Target, id: string, now: number, graceEndsAt: number): Promise<RotatedKey> {
  const record = await getKey(target, id)
  if (!record) throw new CliError(`no key with ID ${id}`)
  const status = statusOf(record, now)
  if (status !== 'active') throw new CliError(`key ${id} is ${status}: rotating it would not make it usable; create a new key instead`)
  const { key } = generateApiKey()
  const prefix = displayPrefix(key)
  await executeSql(target, rotationStatements({ id, keyHash: await sha256Hex(key), prefix, now, graceEndsAt }).join(';\n'))
  return { id, key, prefix, graceEndsAt }
}
