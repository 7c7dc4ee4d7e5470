/**
 * When a failed delivery is tried again: exponential backoff with ±20 % jitter, from WEBHOOK_RETRY_BASE_MS (30 s)
 * doubling up to WEBHOOK_RETRY_MAX_DELAY_MS (1 h), until WEBHOOK_RETRY_WINDOW_MS (26 h) after the event; then the
 * delivery is dead-lettered (`webhooks redeliver` can replay it). With the defaults that is about 30 attempts.
 */
import type { Env } from '../env'

export interface RetryPolicy {
  baseMs: number
  maxDelayMs: number
  windowMs: number
}

export function retryPolicy(env: Partial<Pick<Env, 'WEBHOOK_RETRY_BASE_MS' | 'WEBHOOK_RETRY_MAX_DELAY_MS' | 'WEBHOOK_RETRY_WINDOW_MS'>>): RetryPolicy {
  const number = (value: string | undefined, fallback: number) => (value && Number(value) > 0 ? Number(value) : fallback)
  return {
    baseMs: number(env.WEBHOOK_RETRY_BASE_MS, 30_000),
    maxDelayMs: number(env.WEBHOOK_RETRY_MAX_DELAY_MS, 3_600_000),
    windowMs: number(env.WEBHOOK_RETRY_WINDOW_MS, 26 * 3_600_000),
  }
}

/** The time of the next attempt after `attempts` failed ones, or null when the window is over (dead letter). */
export function nextAttemptAt(policy: RetryPolicy, createdAt: number, attempts: number, now: number, random = Math.random): number | null {
  const delay = Math.min(policy.maxDelayMs, policy.baseMs * 2 ** Math.max(0, attempts - 1))
  const jittered = delay * (0.8 + 0.4 * random())
  const at = now + Math.round(jittered)
  return at - createdAt > policy.windowMs ? null : at
}
