/**
 * The demo connector of `npm start`: OAuth sign-in (docs/OAUTH.md) for any user of the demo Odoo, under the demo
 * key's policy, so Claude or ChatGPT can connect without an `odoo-mcp connectors add` first. Provisioned at every
 * start like the demo key: created once, its policy rewritten (cli/policy.ts DEMO_POLICY is the one place to change
 * it), and added again if it was removed.
 */
import { retireOrphanedConnectionsSql } from '../commands/connectors'
import { checkTtl, CONNECTION_TTL, TOKEN_TTL } from '../connector-input'
import { executeSql, type D1Target } from '../d1'
import { DEMO_POLICY } from '../policy'
import { sql } from '../sql'

export const DEMO_CONNECTOR = 'demo'

/** Adds or refreshes the demo connector; `created` when it did not exist (or was removed) before. */
export async function provisionDemoConnector(target: D1Target, now: number): Promise<{ created: boolean }> {
  // A profile's policy cannot be empty; a demo without a policy would let connections use nothing, as the key.
  const policy = JSON.stringify(DEMO_POLICY ?? { version: 1, models: {} })
  const [, rows = []] = await executeSql(
    target,
    [
      retireOrphanedConnectionsSql(DEMO_CONNECTOR, now),
      sql`INSERT INTO connector_profiles (name, policy, logins, client_name, redirect_uris, token_ttl_seconds, connection_ttl_seconds, created_at)
          VALUES (${DEMO_CONNECTOR}, ${policy}, NULL, NULL, '[]', ${checkTtl(TOKEN_TTL, undefined)}, ${checkTtl(CONNECTION_TTL, undefined)}, ${now})
          ON CONFLICT (name) DO UPDATE SET policy = excluded.policy, removed_at = NULL,
            created_at = CASE WHEN connector_profiles.removed_at IS NULL THEN connector_profiles.created_at ELSE excluded.created_at END
          RETURNING created_at`,
    ].join(';\n'),
  )
  return { created: Number(rows[0]?.created_at) === now }
}
