/** Reading the audit log back in tests: flush the chains, then query D1. */
import { runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { UNAUTHENTICATED_CHAINS } from '../../../src/audit/unauthenticated-object'
import { rowToRecord } from '../../../src/audit/rows'
import type { ChainedAuditRecord } from '../../../src/audit/record'

export function keyObject(keyId: string) {
  return env.KEY_OBJECTS.get(env.KEY_OBJECTS.idFromName(keyId))
}

/** Sends every pending record of these keys (and of the unauthenticated chains) to D1 now. */
export async function flushAudit(keyIds: string[] = []): Promise<void> {
  for (const id of keyIds) await keyObject(id).flushAudit()
  for (let shard = 0; shard < UNAUTHENTICATED_CHAINS; shard++) {
    await env.UNAUTHENTICATED_AUDIT.get(env.UNAUTHENTICATED_AUDIT.idFromName(`anon-${shard}`)).flushAudit()
  }
}

export async function auditByRequestId(requestId: string): Promise<ChainedAuditRecord | undefined> {
  const row = await env.DB.prepare('SELECT * FROM audit_log WHERE request_id = ?1').bind(requestId).first()
  return row ? rowToRecord(row) : undefined
}

export async function chainRecords(chainId: string): Promise<ChainedAuditRecord[]> {
  const { results } = await env.DB.prepare('SELECT * FROM audit_log WHERE chain_id = ?1 ORDER BY seq').bind(chainId).all()
  return results.map(rowToRecord)
}

/** Replaces the object's D1 binding (to make D1 fail, or fail after committing). */
export async function withObjectDb(keyId: string, db: unknown): Promise<void> {
  await runInDurableObject(keyObject(keyId), (instance) => {
    ;(instance as unknown as { env: object }).env = { ...env, DB: db }
  })
}
