/**
 * The demo key of `npm start`: bound to the demo Odoo's `admin`. Its plaintext is kept in a 0600 file next to the
 * local state and reused while its row is still active, so a client configured once keeps working across restarts.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { parseApiKey } from '../../src/keys/key-format'
import { openSecret, sha256Hex } from '../../src/lib/crypto'
import { executeSql, type D1Target } from '../d1'
import { DEMO_USER_BY_LOGIN } from '../../test/odoo-sim/users'
import { createKey } from '../keys-store'
import { DEMO_POLICY } from '../policy'
import { quote } from '../sql'

export const DEMO_KEY_NAME = 'demo (npm start)'
export const DEMO_LOGIN = 'admin'
/** The simulator gives every user the API key `odoo-apikey-<login>`. */
export const DEMO_ODOO_SECRET = `odoo-apikey-${DEMO_LOGIN}`
/**
 * The demo user's uid in the simulator (fixed, like its API key). The key is provisioned before the gateway starts,
 * so it cannot be checked through it (`keys create` does that); the simulator's own table says who the user is.
 */
export const DEMO_UID = DEMO_USER_BY_LOGIN.get(DEMO_LOGIN)!.uid

export interface DemoKey {
  id: string
  key: string
  reused: boolean
}

async function readSavedKey(file: string): Promise<string | undefined> {
  try {
    const saved = (await readFile(file, 'utf8')).trim()
    return parseApiKey(saved).ok ? saved : undefined
  } catch {
    return undefined
  }
}

/**
 * The saved key's id if its row is still active and its secret opens with today's CREDENTIALS_KEY. The same call
 * refreshes what may have changed since: the demo policy, and the uid (a key made by an older version has none).
 */
async function reusableId(target: D1Target, credentialsKey: CryptoKey, key: string, now: number): Promise<string | undefined> {
  const policy = DEMO_POLICY === null ? null : JSON.stringify(DEMO_POLICY)
  const [rows = []] = await executeSql(
    target,
    `UPDATE api_keys SET policy = ${quote(policy)}, odoo_uid = ${quote(DEMO_UID)}
      WHERE id = (SELECT key_id FROM api_key_secrets WHERE key_hash = ${quote(await sha256Hex(key))} AND retires_at IS NULL)
        AND name = ${quote(DEMO_KEY_NAME)} AND revoked_at IS NULL
        AND (expires_at IS NULL OR expires_at > ${quote(now)})
      RETURNING id, odoo_secret`,
  )
  const row = rows[0]
  if (!row || typeof row.id !== 'string' || typeof row.odoo_secret !== 'string') return undefined
  try {
    return (await openSecret(credentialsKey, row.odoo_secret, row.id)) === DEMO_ODOO_SECRET ? row.id : undefined
  } catch {
    return undefined // sealed under an older CREDENTIALS_KEY
  }
}

export async function provisionDemoKey(
  target: D1Target,
  credentialsKey: CryptoKey,
  keyFile: string,
  now: number,
): Promise<DemoKey> {
  const saved = await readSavedKey(keyFile)
  if (saved) {
    const id = await reusableId(target, credentialsKey, saved, now)
    if (id) return { id, key: saved, reused: true }
  }
  const created = await createKey(target, credentialsKey, {
    name: DEMO_KEY_NAME,
    odooLogin: DEMO_LOGIN,
    odooSecret: DEMO_ODOO_SECRET,
    odooUid: DEMO_UID,
    policy: DEMO_POLICY === null ? null : JSON.stringify(DEMO_POLICY),
    expiresAt: null,
    now,
    // Earlier demo keys would otherwise stay active forever with the admin's secret.
    replaceActiveNamed: DEMO_KEY_NAME,
  })
  await mkdir(dirname(keyFile), { recursive: true })
  await writeFile(keyFile, created.key + '\n', { mode: 0o600 })
  await chmod(keyFile, 0o600) // `mode` applies only when the file is created
  return { id: created.id, key: created.key, reused: false }
}
