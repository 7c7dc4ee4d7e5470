/**
 * Failed OAuth sign-ins (oauth/authorize.ts), limited per client address and per Odoo login, and client
 * registrations (RFC 7591, open to anyone by design) per client address: one small Durable Object per subject, so
 * the count is exact worldwide and a flood on one subject leaves the others alone.
 *
 * A sign-in takes a token from both buckets before Odoo is asked, and gets it back when the credentials were right:
 * so only failures count, and parallel attempts cannot slip past the limit between the check and the count. The
 * limits are fixed (docs/OAUTH.md): a guessing attacker gets 5 tries per login and then one every 3 minutes; one
 * address 20 tries across logins and then one a minute. Registrations: 30 per address, then one a minute (each one
 * is a KV entry kept up to 90 days; a person adding a connector registers once).
 */
import { DurableObject } from 'cloudflare:workers'
import ipaddr from 'ipaddr.js'
import type { Env } from '../env'
import { sha256Hex } from '../lib/crypto'
import { giveBack, takeUpTo, type BucketSpec } from '../limits/gcra'

export const SIGN_IN_LIMITS = {
  login: { perMinute: 1 / 3, burst: 5 },
  address: { perMinute: 1, burst: 20 },
  registration: { perMinute: 1, burst: 30 },
} as const satisfies Record<string, BucketSpec>

type Subject = keyof typeof SIGN_IN_LIMITS

export class SignInLimiter extends DurableObject<Env> {
  private tat = 0

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.tat = ctx.storage.kv.get<number>('tat') ?? 0
  }

  /** Takes one attempt; refused: ms until the next one is allowed. */
  take(subject: Subject): { ok: true } | { ok: false; retryAfterMs: number } {
    const taken = takeUpTo(SIGN_IN_LIMITS[subject], this.tat, Date.now(), 1)
    if (taken.granted === 0) return { ok: false, retryAfterMs: taken.retryAfterMs }
    this.save(taken.tat)
    return { ok: true }
  }

  /** Gives back an attempt that succeeded. */
  refund(subject: Subject): void {
    this.save(giveBack(SIGN_IN_LIMITS[subject], this.tat, Date.now(), 1))
  }

  private save(tat: number): void {
    this.tat = tat
    this.ctx.storage.kv.put('tat', tat)
  }
}

interface LimiterHandle {
  subject: Subject
  stub: DurableObjectStub<SignInLimiter>
}

/**
 * Whose attempts count together: an IPv4 address, or an IPv6 address's /64 (one host usually holds a whole /64, and
 * counting each address alone would give it 2^64 fresh buckets). Unparseable or missing: one shared bucket.
 */
export function addressSubject(address: string | undefined): string {
  if (!address || !ipaddr.isValid(address)) return 'unknown'
  const parsed = ipaddr.process(address)
  if (parsed.kind() === 'ipv4') return parsed.toString()
  return `${(parsed as ipaddr.IPv6).parts.slice(0, 4).map((part) => part.toString(16)).join(':')}::/64`
}

/** The two limiters of a sign-in attempt. The login is hashed: object names are visible to operators. */
async function limitersFor(env: Pick<Env, 'SIGN_IN_LIMITER'>, address: string | undefined, login: string): Promise<LimiterHandle[]> {
  const stub = (name: string) => env.SIGN_IN_LIMITER.get(env.SIGN_IN_LIMITER.idFromName(name))
  return [
    { subject: 'login', stub: stub(`login:${await sha256Hex(login.trim().toLowerCase())}`) },
    { subject: 'address', stub: stub(`address:${addressSubject(address)}`) },
  ]
}

export type SignInAttempt = { ok: true; succeeded(): Promise<void> } | { ok: false; retryAfterMs: number }

/** Takes an attempt on both subjects; a refusal by either gives the other its token back. */
export async function beginSignInAttempt(env: Pick<Env, 'SIGN_IN_LIMITER'>, address: string | undefined, login: string): Promise<SignInAttempt> {
  const limiters = await limitersFor(env, address, login)
  const results = await Promise.all(limiters.map(({ subject, stub }) => stub.take(subject)))
  const refused = results.filter((result): result is { ok: false; retryAfterMs: number } => !result.ok)
  const refundTaken = () =>
    Promise.all(limiters.filter((_, index) => results[index]!.ok).map(({ subject, stub }) => stub.refund(subject))).then(() => undefined)
  if (refused.length > 0) {
    await refundTaken()
    return { ok: false, retryAfterMs: Math.max(...refused.map((result) => result.retryAfterMs)) }
  }
  return { ok: true, succeeded: refundTaken }
}

/** Takes one client registration for this address; refused: ms until the next one is allowed. */
export async function takeRegistration(env: Pick<Env, 'SIGN_IN_LIMITER'>, address: string | undefined): Promise<{ ok: true } | { ok: false; retryAfterMs: number }> {
  const stub = env.SIGN_IN_LIMITER.get(env.SIGN_IN_LIMITER.idFromName(`registration:${addressSubject(address)}`))
  return stub.take('registration')
}
