/**
 * Everything a tool call needs to act as the key's Odoo user: the decrypted credentials, the Odoo client, field
 * metadata and the access guard. Built in the key's object on a tool call, and kept there for the next calls of the
 * key while its secret and policy stay the same (keys/key-object.ts).
 */
import type { GatewayConfig } from '../config'
import type { Env } from '../env'
import { createGuardedOdoo } from '../guard/guarded-odoo'
import { createPolicyGuard, type GuardServices } from '../guard/policy-guard'
import { saveOdooUid, type ApiKeyRecord } from '../keys/key-store'
import { credentialsKeyRing, maskHashKey, openSecret, SealedSecretError } from '../lib/crypto'
import type { ToolContext } from '../mcp/tool'
import { createOdooClient } from '../odoo/client'
import { createMetadataSource, type MetadataSource } from '../odoo/metadata'
import { createOdooOperations } from '../odoo/operations'
import type { OdooClient } from '../odoo/types'
import type { Policy } from '../policy/schema'
import { isConnectionId } from '../oauth/connection-id'
import { keyPolicy } from '../policy/key-policy'
import { createMaskHasher } from '../policy/masks'
import { utcToday } from '../policy/record-filter'
import { ToolError } from '../errors'

/**
 * The key's (or connection's) stored Odoo secret does not open with the configured CREDENTIALS_KEY ring. It stays so
 * until the secret is replaced or the ring changes (both give the object a new session), so the key's object keeps
 * this failure instead of trying, and logging, again on every call (keys/key-object.ts).
 */
export class UnreadableCredentialsError extends ToolError {
  override name = 'UnreadableCredentialsError'
  constructor(message: string) {
    super(message, 'credentials_unreadable')
  }
}

/** What the agent is told: which item, why in one clause, and who fixes it how. Never the ring's other key ids. */
function unreadableMessage(id: string, error: SealedSecretError): string {
  const why = {
    unknown_key_id: `sealed under key id ${error.keyId}, which is not in CREDENTIALS_KEY / CREDENTIALS_KEYS_PREVIOUS`,
    does_not_open: `sealed under key id ${error.keyId}, but the stored value does not open: it was altered or copied from another row`,
    no_key_opens: 'sealed in the old v1 format under a key that is not in CREDENTIALS_KEY / CREDENTIALS_KEYS_PREVIOUS',
    malformed: 'the stored value is not a sealed secret',
  }[error.problem]
  // A value sealed under a key that is no longer configured also opens again once that key is back in the ring.
  const lostKey = error.problem === 'unknown_key_id' || error.problem === 'no_key_opens'
  const restore = lostKey ? ', or add the key it was sealed under to CREDENTIALS_KEYS_PREVIOUS' : ''
  if (isConnectionId(id)) {
    return `The gateway cannot read the stored Odoo credentials of connection ${id} (${why}): sign in again (the new sign-in replaces this connection)${lostKey ? '; or an administrator must add the key it was sealed under to CREDENTIALS_KEYS_PREVIOUS' : ''}.`
  }
  return `The gateway cannot read the stored Odoo credentials of key ${id} (${why}): an administrator must run \`odoo-mcp keys set-odoo-secret ${id}\`${restore}.`
}

export interface SessionInput {
  env: Pick<Env, 'DB' | 'CREDENTIALS_KEY' | 'CREDENTIALS_KEYS_PREVIOUS'>
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

/** The key's Odoo user and policy, ready to ask Odoo as that user (a session, or `keys explain`). */
export interface KeyOdoo {
  odoo: OdooClient
  metadata: MetadataSource
  /** `null`: the key has no policy (it may use nothing). */
  policy: Policy | null
  services: GuardServices
}

/** Opens the key's credentials and policy. @throws ToolError when the policy is invalid or the secret unreadable. */
export async function openKeyOdoo(input: SessionInput): Promise<KeyOdoo> {
  const { env, config, key } = input
  const policy = keyPolicy(key)
  if (policy.kind === 'invalid') {
    input.logError(new Error(`stored policy of ${key.id} is invalid: ${policy.errors.join('; ')}`), 'policy')
    throw new ToolError('This API key\'s stored policy is invalid, so it may not use any model. An administrator must set it again.', 'policy_invalid')
  }
  let secret: string
  try {
    secret = await openSecret(await credentialsKeyRing(env), key.odooSecretSealed, key.id)
  } catch (error) {
    if (!(error instanceof SealedSecretError)) throw error
    // Logged here, once: the object keeps this failed session until the key changes (keys/key-object.ts).
    input.logError(new Error(`stored Odoo secret of ${key.id} cannot be opened: ${error.message}`), 'credentials')
    throw new UnreadableCredentialsError(unreadableMessage(key.id, error))
  }
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
  const valid = policy.kind === 'valid' ? policy.policy : null
  return { odoo, metadata, policy: valid, services: await guardServices(valid, odoo, env.CREDENTIALS_KEY, key.id) }
}

/** What a version 2 policy's guard needs: placeholder values, and the key's hasher when a mask hashes. */
export async function guardServices(policy: Policy | null, odoo: OdooClient, credentialsKey: string, keyId: string): Promise<GuardServices> {
  const usesHashMasks = policy !== null && Object.values(policy.models).some((entry) => [...(entry.mask?.values() ?? [])].includes('hash'))
  return {
    placeholders: async () => ({ uid: await odoo.uid!(), companyIds: policy?.companies ?? [], today: utcToday() }),
    ...(usesHashMasks ? { maskHasher: createMaskHasher(await maskHashKey(credentialsKey, keyId)) } : {}),
  }
}

export async function createKeySession(input: SessionInput): Promise<KeySession> {
  const { odoo, metadata, policy, services } = await openKeyOdoo(input)
  const guard = createPolicyGuard(policy, metadata, services)
  return { guard, odoo: createGuardedOdoo(createOdooOperations(odoo), guard) }
}
