/**
 * Everything a tool call needs to act as the key's Odoo user: the decrypted credentials, the Odoo client, field
 * metadata and the access guard. Built in the key's object on a tool call, and kept there for the next calls of the
 * key while its secret and policy stay the same (keys/key-object.ts).
 */
import type { GatewayConfig } from '../config'
import type { Env } from '../env'
import { createGuardedOdoo } from '../guard/guarded-odoo'
import { createPolicyGuard } from '../guard/policy-guard'
import { saveOdooUid, type ApiKeyRecord } from '../keys/key-store'
import { importCredentialsKey, openSecret } from '../lib/crypto'
import type { ToolContext } from '../mcp/tool'
import { createOdooClient } from '../odoo/client'
import { createMetadataSource } from '../odoo/metadata'
import { createOdooOperations } from '../odoo/operations'
import { keyPolicy } from '../policy/key-policy'
import { ToolError } from '../errors'

let credentialsKey: { secret: string; key: Promise<CryptoKey> } | undefined

/** The imported CREDENTIALS_KEY, imported once per isolate (and again if the secret changes). */
function credentialsKeyFor(secret: string): Promise<CryptoKey> {
  if (credentialsKey?.secret !== secret) credentialsKey = { secret, key: importCredentialsKey(secret) }
  return credentialsKey.key
}

export interface SessionInput {
  env: Pick<Env, 'DB' | 'CREDENTIALS_KEY'>
  config: GatewayConfig
  key: ApiKeyRecord
  waitUntil(promise: Promise<unknown>): void
  logError(error: unknown, where: string): void
}

/** The part of a tool context that does not depend on the request. */
export type KeySession = Pick<ToolContext, 'guard' | 'odoo'>

/** What a session is built from: a change of any of these needs a new one. */
export function sessionStamp(key: ApiKeyRecord): string {
  return JSON.stringify([key.odooSecretSealed, key.odooLogin, key.odooUid, key.policy])
}

export async function createKeySession(input: SessionInput): Promise<KeySession> {
  const { env, config, key } = input
  const policy = keyPolicy(key)
  if (policy.kind === 'invalid') {
    input.logError(new Error(`stored policy of ${key.id} is invalid: ${policy.errors.join('; ')}`), 'policy')
    throw new ToolError('This API key\'s stored policy is invalid, so it may not use any model. An administrator must set it again.', 'policy_invalid')
  }
  const secret = await openSecret(await credentialsKeyFor(env.CREDENTIALS_KEY), key.odooSecretSealed, key.id)
  const odoo = createOdooClient({
    baseUrl: config.odooUrl,
    db: config.odooDb,
    protocol: config.odooProtocol,
    timeoutMs: config.odooTimeoutMs,
    credentials: { login: key.odooLogin, secret },
    // The sealed value changes whenever the secret is replaced, so a new secret never reuses an old uid.
    uidCacheKey: `${key.id}:${key.odooSecretSealed.slice(-24)}`,
    knownUid: key.odooUid,
    onUidResolved: (uid) => input.waitUntil(saveOdooUid(env.DB, key.id, uid).catch((e) => input.logError(e, 'save uid'))),
  })
  const metadata = createMetadataSource(odoo, `${config.odooUrl}|${key.odooLogin}`)
  const guard = createPolicyGuard(policy.kind === 'valid' ? policy.policy : null, metadata)
  return { guard, odoo: createGuardedOdoo(createOdooOperations(odoo), guard) }
}
