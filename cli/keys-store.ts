/**
 * Keys written straight into a local D1, for bootstrapping only: `npm start`'s demo key (before the gateway runs) and
 * the harnesses' keys (benches, `npm run test:load`). Every `odoo-mcp` command goes through the gateway's admin API
 * instead (docs/ADMIN-API.md), where changes are checked and recorded in the admin log.
 */
import { displayPrefix, generateApiKey, generateKeyId } from '../src/keys/key-format'
import { sealSecret, sha256Hex } from '../src/lib/crypto'
import { executeSql, type D1Target } from './d1'
import { sql } from './sql'

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
