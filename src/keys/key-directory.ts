/**
 * Which key a presented secret belongs to: SHA-256 of the secret → key id, from D1, remembered per isolate.
 *
 * Both answers can be kept for good: a secret's hash never moves to another key, and a hash that matches no key
 * now can never match one later (new secrets are 32 fresh random bytes). The map says nothing about whether the
 * key may be used: revocation, expiry and rotation are decided by the key's object on every request.
 */
import type { Env } from '../env'
import { findKeyIdByHash } from './key-store'

/** Entries per isolate (about 100 bytes each); the oldest is dropped first. */
const MAX_ENTRIES = 10_000
const directory = new Map<string, string | null>()

export async function keyIdForHash(db: Env['DB'], keyHash: string): Promise<string | null> {
  const known = directory.get(keyHash)
  if (known !== undefined) {
    // Refresh its place so busy keys stay while a flood of unknown hashes passes through.
    directory.delete(keyHash)
    directory.set(keyHash, known)
    return known
  }
  const keyId = await findKeyIdByHash(db, keyHash)
  if (directory.size >= MAX_ENTRIES) directory.delete(directory.keys().next().value!)
  directory.set(keyHash, keyId)
  return keyId
}
