/** What a key object decides for one request (keys/key-object.ts); a refusal is answered from the object (gateway/admission-answers.ts). */
import type { BucketSpec } from '../limits/gcra'
import type { ApiKeyRecord } from './key-store'

/** Why a presented secret was refused. Each reason gets its own message; the HTTP shape is the same 401. */
export type RefusalReason = 'unknown' | 'revoked' | 'expired' | 'rotated' | 'token_revoked'

export interface RateState {
  spec: BucketSpec
  remaining: number
  /** ms until the bucket is full again. */
  resetMs: number
}

/** Who a refused request came from, for the audit log (the key was found, but may not be used now). */
export type KeyIdentity = Pick<ApiKeyRecord, 'id' | 'name' | 'prefix' | 'odooLogin'>

export type Admission =
  | { kind: 'admitted'; key: ApiKeyRecord; rate: RateState }
  | { kind: 'refused'; reason: RefusalReason; at?: number; key?: KeyIdentity }
  | { kind: 'ip_not_allowed'; unknownAddress: boolean; key: KeyIdentity }
  | { kind: 'policy_invalid'; key: KeyIdentity }
  | { kind: 'rate_limited'; scope: 'key' | 'global'; retryAfterMs: number; rate: RateState; key: KeyIdentity }
  /** The key's data could not be read (D1 down): refused, never let through. */
  | { kind: 'unavailable' }

export interface AdmitInput {
  keyId: string
  keyHash: string
  /** CF-Connecting-IP, if any. */
  clientAddress?: string
  /**
   * An OAuth connection's request: SHA-256 of the access token presented, so that a token its client revoked
   * (RFC 7009) is refused by the object at once, wherever KV still holds it (oauth/token.ts).
   */
  tokenHash?: string
}
