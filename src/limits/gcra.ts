/**
 * GCRA (generic cell rate algorithm): a token bucket kept as one number, the "theoretical arrival time" (TAT).
 * A bucket of `burst` tokens refills at `perMinute` tokens per minute; taking a token pushes the TAT one emission
 * interval (60 000 / perMinute ms) further. A request fits while the TAT stays within `burst` intervals of now.
 *
 * Exact under concurrency as long as one caller owns the state (a Durable Object's single thread), with no window
 * boundary at which twice the limit gets through, and one number to persist.
 */

export interface BucketSpec {
  /** Sustained rate: tokens added per minute. */
  perMinute: number
  /** Bucket size: how many requests may arrive at once. */
  burst: number
}

export interface TakeResult {
  /** Tokens granted (0 when refused). */
  granted: number
  /** The new TAT to store (unchanged when refused). */
  tat: number
  /** Whole tokens left after this take. */
  remaining: number
  /** When refused: ms until one token is available. Otherwise 0. */
  retryAfterMs: number
  /** ms until the bucket is full again (the "reset" a client may wait for). */
  resetMs: number
}

export function emissionIntervalMs(spec: BucketSpec): number {
  return 60_000 / spec.perMinute
}

/** Takes up to `want` tokens (at least 1 or nothing) from the bucket whose state is `tat`, at time `now` (ms). */
export function takeUpTo(spec: BucketSpec, tat: number, now: number, want: number): TakeResult {
  const interval = emissionIntervalMs(spec)
  const base = Math.max(tat, now)
  // Tokens available now: how many intervals fit between the TAT and now + burst intervals. The epsilon absorbs
  // floating-point dust so that a bucket refilled to exactly N tokens reports N.
  const available = Math.floor((now + spec.burst * interval - base) / interval + 1e-9)
  const granted = Math.max(0, Math.min(want, available))
  if (granted === 0) {
    const retryAfterMs = Math.max(1, base + interval - (now + spec.burst * interval))
    return { granted: 0, tat, remaining: 0, retryAfterMs, resetMs: Math.max(0, base - now) }
  }
  const next = base + granted * interval
  return { granted, tat: next, remaining: available - granted, retryAfterMs: 0, resetMs: Math.max(0, next - now) }
}

/** Gives `count` unused tokens back (a request refused further down the line must not cost the client). */
export function giveBack(spec: BucketSpec, tat: number, now: number, count: number): number {
  return Math.max(now, tat - count * emissionIntervalMs(spec))
}
