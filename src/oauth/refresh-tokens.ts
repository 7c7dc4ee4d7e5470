/**
 * Refresh-token reuse detection (OAuth 2.1 §4.3.1, RFC 9700 §4.14.2), which the OAuth library lacks: it rotates
 * refresh tokens but keeps the previous one valid until its successor is used, and an older one is merely refused.
 *
 * The connection's key object keeps this state (one object per connection: every refresh of the grant passes there,
 * so the decision is exact even when two refreshes race). Property: a refresh token is let through to the library at
 * most once; presenting it again — after it was exchanged, or while its exchange is in flight — is reuse, and the
 * connection is revoked (the legitimate client and an attacker holding a stolen copy cannot both keep going; the
 * user signs in again). A hash this state never saw (a forged or foreign token) is left to the library, which refuses
 * it: guessing cannot revoke someone's connection. Pure: state in, state out. Only SHA-256 hashes are kept.
 */

export interface RefreshTokenState {
  /** The refresh token the client should hold now. */
  current: string | null
  /** A refresh token whose exchange is in flight. */
  pending: string | null
  /** Refresh tokens already exchanged, newest last. */
  retired: string[]
}

/** Retired hashes kept: far more than any client's rotations within a token's lifetime need. */
export const MAX_RETIRED = 64

export const EMPTY_REFRESH_STATE: RefreshTokenState = { current: null, pending: null, retired: [] }

export type ClaimVerdict = 'claimed' | 'reused' | 'unknown'

/** A refresh request presents `hash`: may it go on to the library? */
export function claimRefreshToken(state: RefreshTokenState, hash: string): { state: RefreshTokenState; verdict: ClaimVerdict } {
  if (state.pending === hash || state.retired.includes(hash)) return { state, verdict: 'reused' }
  if (state.current === hash) return { state: { ...state, current: null, pending: hash }, verdict: 'claimed' }
  return { state, verdict: 'unknown' }
}

/**
 * The library answered a refresh that presented `presented`: with a new refresh token (`issued`), the presented one
 * is retired and the new one is current; without (the library refused, e.g. a wrong `resource`), a claimed token is
 * current again, so the client may retry. A token this state did not know but the library accepted (its issue was
 * not recorded: the object was unreachable then) is retired the same way, so from here on it is tracked.
 */
export function settleRefreshToken(state: RefreshTokenState, presented: string, issued: string | null): RefreshTokenState {
  const wasPending = state.pending === presented
  if (issued === null) return wasPending ? { ...state, current: presented, pending: null } : state
  return { current: issued, pending: wasPending ? null : state.pending, retired: [...state.retired, presented].slice(-MAX_RETIRED) }
}

/** The code exchange issued the grant's first refresh token. */
export function firstRefreshToken(hash: string): RefreshTokenState {
  return { current: hash, pending: null, retired: [] }
}

/** Whether `hash` is, or was, one of this grant's refresh tokens (RFC 7009 revocation of a refresh token ends the grant). */
export function isRefreshToken(state: RefreshTokenState, hash: string): boolean {
  return state.current === hash || state.pending === hash || state.retired.includes(hash)
}
