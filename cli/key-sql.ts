/**
 * SQL of key changes that the Worker tests run too (they cannot load the rest of the CLI, which spawns wrangler),
 * so the tests exercise the very statements the CLI sends.
 */
import { sql } from './sql'

/**
 * The statements of a rotation, in a safe order: the new secret is stored first (unknown to anyone until printed),
 * then the secrets still valid get their end of grace (never later than one they already have), then the key row
 * shows the new prefix.
 */
export function rotationStatements(input: { id: string; keyHash: string; prefix: string; now: number; graceEndsAt: number }): string[] {
  const { id, keyHash, prefix, now, graceEndsAt } = input
  return [
    sql`INSERT INTO api_key_secrets (key_hash, key_id, prefix, created_at) VALUES (${keyHash}, ${id}, ${prefix}, ${now})`,
    sql`UPDATE api_key_secrets SET retires_at = MIN(COALESCE(retires_at, ${graceEndsAt}), ${graceEndsAt})
        WHERE key_id = ${id} AND key_hash <> ${keyHash} AND (retires_at IS NULL OR retires_at > ${now})`,
    sql`UPDATE api_keys SET prefix = ${prefix}, rotated_at = ${now} WHERE id = ${id}`,
  ]
}

