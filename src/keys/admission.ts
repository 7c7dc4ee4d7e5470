/** What a key object answers the Worker for one request (keys/key-object.ts → http/auth.ts). */
import type { BucketSpec } from '../limits/gcra'
import type { ApiKeyRecord } from './key-store'

/** Why a presented secret was refused. Each reason gets its own message; the HTTP shape is the same 401. */
export type RefusalReason = 'unknown' | 'revoked' | 'expired' | 'rotated'

export interface RateState {
  spec: BucketSpec
  remaining: number
  /** ms until the bucket is full again. */
  resetMs: number
}

export type Admission =
  | { kind: 'admitted'; key: ApiKeyRecord; rate: RateState }
  | { kind: 'refused'; reason: RefusalReason; at?: number }
  | { kind: 'ip_not_allowed'; unknownAddress: boolean }
  | { kind: 'policy_invalid' }
  | { kind: 'rate_limited'; scope: 'key' | 'global'; retryAfterMs: number; rate: RateState }
  /** The key's data could not be read (D1 down): refused, never let through. */
  | { kind: 'unavailable' }

export interface AdmitInput {
  keyId: string
  keyHash: string
  /** CF-Connecting-IP, if any. */
  clientAddress?: string
}
