/**
 * The Durable Object of one API key (named by the key id). It sees all of the key's traffic worldwide, and it sits
 * next to Odoo (keys/placement.ts). The edge Worker makes one call to it per request (`serve`, gateway/key-call.ts):
 * the object admits the request, does what needs the key (its tool list, its tool calls: policy guard, Odoo, output
 * filter; gateway/serve.ts), appends the audit record and answers. Admission:
 *
 *   secret (current, or previous within its grace period) → revoked / expired → client IP → key rate limit
 *   → global rate limit (leased tokens, limits/global-budget.ts)
 *
 * It loads the key, its policy and its secrets from D1 once and serves them from memory (mirrored in storage, so a
 * restart does not hit D1) for KEY_CACHE_TTL_SECONDS. The CLI's admin call (`refresh`) reloads at once; a secret
 * it does not know makes it reload too, so a freshly rotated key works on its first request.
 *
 * The key's bucket (one number) and last use are stored with each request's audit record, in one transaction;
 * `last_used_at` reaches D1 from an alarm at most once a minute, never on the request path.
 *
 * It also holds the key's audit chain (audit/outbox.ts): each request's record is appended here before the response
 * leaves, and the alarm copies batches to D1.
 */
import { DurableObject } from 'cloudflare:workers'
import { AuditStream } from '../audit/audit-stream'
import type { FlushResult } from '../audit/outbox'
import type { AuditRecord } from '../audit/record'
import { loadConfig } from '../config'
import { httpErrorBody } from '../errors'
import type { Env } from '../env'
import type { KeyAnswer, KeyCall } from '../gateway/key-call'
import { serveAdmitted } from '../gateway/serve'
import { createKeySession, sessionStamp, UnreadableCredentialsError, type KeySession } from '../gateway/session'
import { logError } from '../log'
import { loadLimitsConfig, type LimitsConfig } from '../limits/config'
import { giveBack, takeUpTo, type BucketSpec } from '../limits/gcra'
import { limiterShard } from './placement'
import { GlobalBudget, homeShardOf } from '../limits/global-budget'
import { checkClientAddress } from '../policy/ip-rules'
import { keyPolicy } from '../policy/key-policy'
import { isConnectionId } from '../oauth/connection-id'
import { revokeConnection } from '../oauth/connection-store'
import {
  claimRefreshToken,
  EMPTY_REFRESH_STATE,
  firstRefreshToken,
  isRefreshToken,
  settleRefreshToken,
  type ClaimVerdict,
  type RefreshTokenState,
} from '../oauth/refresh-tokens'
import { signInHint } from '../oauth/server'
import type { Admission, AdmitInput } from './admission'
import { keyStatus, loadStoredKey, saveLastUsed, type ApiKeyRecord, type StoredKey } from './key-store'

interface CachedKey extends StoredKey {
  loadedAt: number
}

interface UsageState {
  /** The key bucket's TAT (limits/gcra.ts). */
  tat: number
  lastUsedAt: number | null
  /** last_used_at as last written to D1. */
  flushedLastUsedAt: number | null
}

/** The answer to a retried call whose first call was served (gateway/key-call.ts `retried`). */
function answerLost(requestId: string): KeyAnswer {
  const body = JSON.stringify(httpErrorBody('answer_lost', 'The answer to this request was lost on its way back from the key service; retry the request', requestId))
  return { kind: 'answer', status: 503, headers: { 'content-type': 'application/json', 'Retry-After': '1' }, body }
}

interface SessionEntry {
  stamp: string
  createdAt: number
  session: Promise<KeySession>
  /** The session failed in a way only a change of the key (a new stamp) or a restart can cure. */
  lasting?: boolean
}

/** How long a key's Odoo session is reused (it caches Odoo's field metadata). */
const SESSION_TTL_MS = 60_000

/** How often last_used_at is copied to D1. */
export const LAST_USED_FLUSH_MS = 60_000

const CACHE_KEY = 'key'
const USAGE_KEY = 'usage'
/** An OAuth connection's refresh-token state (oauth/refresh-tokens.ts). */
const REFRESH_KEY = 'refresh-tokens'
/** Access tokens of a connection revoked by its client, hash → when they would have expired. */
const REVOKED_ACCESS_KEY = 'revoked-access-tokens'
const MAX_REVOKED_ACCESS_TOKENS = 100

export class KeyObject extends DurableObject<Env> {
  private readonly limits: LimitsConfig
  private cached: CachedKey | undefined
  private loading: { seq: number; promise: Promise<CachedKey | null> } | undefined
  /**
   * Orders events inside this object (arrivals and D1 reads). Wall-clock time cannot: it stands still within a turn,
   * so a read and a request could share a millisecond while the read predates the change the request depends on.
   */
  private sequence = 0
  /** Sequence number of the read the cached copy came from. */
  private cachedSeq = 0
  private usage: UsageState
  private session: SessionEntry | undefined
  /** The bucket or last use changed since they were last stored. */
  private usageChanged = false
  private budget: GlobalBudget | undefined
  private readonly stream: AuditStream
  /** When the alarm is set for (mirrors storage, read once at start), or null. */
  private alarmAt: number | null = null

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    this.limits = loadLimitsConfig(env)
    this.cached = ctx.storage.kv.get<CachedKey>(CACHE_KEY)
    this.usage = ctx.storage.kv.get<UsageState>(USAGE_KEY) ?? { tat: 0, lastUsedAt: null, flushedLastUsedAt: null }
    this.stream = new AuditStream(ctx.storage, () => this.env)
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm()
    })
  }

  /**
   * Appends one request's audit record to the key's chain; resolves once it is durable in this object. The key's
   * bucket, changed by the request's admission, is stored in the same transaction: one storage commit per request.
   */
  appendAudit(record: AuditRecord, retried = false): number {
    // The alert rules run here too, where every record of this key passes.
    const policy = this.cached ? keyPolicy(this.cached.key) : undefined
    const seq = this.ctx.storage.transactionSync(() => {
      if (this.usageChanged) this.saveUsage()
      // The object's chain is named by its key id (every record appended here carries it: gateway/serve.ts).
      return this.stream.append(record.keyId!, record, policy?.kind === 'valid' ? policy.policy.workingHours : undefined, retried)
    })
    this.scheduleAlarm(this.stream.nextAlarmAt(Date.now())!)
    return seq
  }

  /**
   * Appends an event of this key or connection that did not come through `serve` (an OAuth sign-in or token event,
   * oauth/oauth-audit.ts), named as its requests are: the key's name and Odoo user, from D1 if not cached.
   */
  async appendEvent(record: AuditRecord): Promise<number> {
    const keyId = record.keyId!
    let cached = this.cached?.key.id === keyId ? this.cached : undefined
    if (!cached) cached = (await this.load(keyId, 0).catch(() => null)) ?? undefined
    const named = cached ? { ...record, keyName: cached.key.name, odooUser: record.odooUser ?? cached.key.odooLogin } : record
    return this.appendAudit(named)
  }

  /** Sends pending audit records and alerts now (tests; the alarm does it by itself). */
  flushAudit(): Promise<FlushResult> {
    return this.stream.flush()
  }

  auditHead() {
    return this.stream.head()
  }

  /**
   * The one call per request: admission, the work that needs the key, the audit append, the answer. A `retried` call
   * (the Worker lost the answer to its first one) does not store a second record if the first call stored one.
   */
  async serve(call: KeyCall): Promise<KeyAnswer> {
    // A retry whose first call was served here (its answer lost on the way back): not admitted or run again, which
    // would take a second token and could answer differently from what its record says. The client retries.
    if (call.retried && this.stream.holds(call.record.requestId)) return answerLost(call.record.requestId)
    const admission = await this.admit(call.admission)
    return serveAdmitted(call, admission, {
      limits: this.limits,
      append: (record) => void this.appendAudit(record, call.retried === true),
      session: async (key, requestId) => ({ ...(await this.keySession(key)), requestId, logError: (error, where) => logError(error, where, requestId) }),
      logError,
      ...(isConnectionId(call.admission.keyId) ? { signIn: signInHint(this.env) } : {}),
    })
  }

  /**
   * OAuth connections (oauth/token.ts): a refresh request presents the refresh token hashed `hash`. `revoked`: the
   * connection may not be used (revoked, expired, gone): no refresh. `reused`: a token already exchanged came back,
   * so the connection is revoked now (`refresh_reuse`), and the caller revokes the grant. Reads D1 afresh: a refresh
   * happens once per access token lifetime, and must not outlive a revocation.
   */
  async claimRefreshToken(connectionId: string, hash: string): Promise<{ verdict: ClaimVerdict | 'revoked' | 'no_connection'; grantId?: string }> {
    const loaded = await this.load(connectionId, ++this.sequence)
    // A made-up connection id: nothing to revoke or record (the library refuses the token).
    if (!loaded) return { verdict: 'no_connection' }
    if (keyStatus(loaded.key, Date.now()) !== 'active') return { verdict: 'revoked' }
    const { state, verdict } = claimRefreshToken(this.refreshTokens(), hash)
    this.ctx.storage.kv.put(REFRESH_KEY, state)
    if (verdict !== 'reused') return { verdict }
    const revoked = await revokeConnection(this.env.DB, connectionId, 'refresh_reuse')
    await this.load(connectionId, ++this.sequence)
    return { verdict, ...(revoked ? { grantId: revoked.grantId } : {}) }
  }

  /** The library answered a refresh that presented `hash`: `issued` is the new refresh token's hash, or null if it refused. */
  settleRefreshToken(hash: string, issued: string | null): void {
    this.ctx.storage.kv.put(REFRESH_KEY, settleRefreshToken(this.refreshTokens(), hash, issued))
  }

  /** The code exchange issued the connection's first refresh token. */
  noteFirstRefreshToken(hash: string): void {
    this.ctx.storage.kv.put(REFRESH_KEY, firstRefreshToken(hash))
  }

  /** Whether `hash` is, or was, this connection's refresh token (an RFC 7009 revocation of it ends the connection). */
  isRefreshToken(hash: string): boolean {
    return isRefreshToken(this.refreshTokens(), hash)
  }

  /**
   * An access token of this connection its client revoked (RFC 7009): refused from now on, until `until` (when it
   * would have expired anyway), even where KV still serves it.
   */
  revokeAccessToken(hash: string, until: number): void {
    const now = Date.now()
    // Bounded: the caller checked the token was valid, and a connection has one live access token at a time in
    // normal use; the cap only keeps a misbehaving client from growing what every admission reads.
    const live = Object.entries(this.revokedAccessTokens())
      .filter(([, end]) => end > now)
      .sort(([, a], [, b]) => b - a)
      .slice(0, MAX_REVOKED_ACCESS_TOKENS - 1)
    this.ctx.storage.kv.put(REVOKED_ACCESS_KEY, { ...Object.fromEntries(live), [hash]: until })
  }

  private accessTokenRevoked(hash: string, now: number): boolean {
    const until = this.revokedAccessTokens()[hash]
    return until !== undefined && until > now
  }

  private revokedAccessTokens(): Record<string, number> {
    return this.ctx.storage.kv.get<Record<string, number>>(REVOKED_ACCESS_KEY) ?? {}
  }

  private refreshTokens(): RefreshTokenState {
    return this.ctx.storage.kv.get<RefreshTokenState>(REFRESH_KEY) ?? EMPTY_REFRESH_STATE
  }

  private async admit(input: AdmitInput): Promise<Admission> {
    const arrived = Date.now()
    const arrival = ++this.sequence
    let cached = this.cached
    const stale = !cached || cached.key.id !== input.keyId || arrived - cached.loadedAt >= this.limits.keyCacheTtlMs
    // A secret the cache does not know was found in D1 by the Worker (keys/key-directory.ts), so the cache predates
    // it (a rotation whose admin call did not arrive): a read that started after this request will know it.
    const unknownSecret = !stale && !cached!.secrets.some((secret) => secret.hash === input.keyHash)
    if (stale || unknownSecret) {
      try {
        const loaded = await this.load(input.keyId, stale ? 0 : arrival)
        if (!loaded) return { kind: 'refused', reason: 'unknown' }
        cached = loaded
      } catch (error) {
        console.error(JSON.stringify({ level: 'error', where: 'key object load', key_id: input.keyId, message: String(error) }))
        return { kind: 'unavailable' }
      }
    }
    const { key, secrets } = cached!
    const now = Date.now()

    const secret = secrets.find((candidate) => candidate.hash === input.keyHash)
    if (!secret) return { kind: 'refused', reason: 'unknown' }
    const identity = { id: key.id, name: key.name, prefix: secret.prefix, odooLogin: key.odooLogin }
    const status = keyStatus(key, now)
    if (status === 'revoked') return { kind: 'refused', reason: 'revoked', at: key.revokedAt!, key: identity }
    if (status === 'expired') return { kind: 'refused', reason: 'expired', at: key.expiresAt!, key: identity }
    if (secret.retiresAt !== null && secret.retiresAt <= now) {
      return { kind: 'refused', reason: 'rotated', at: secret.retiresAt, key: identity }
    }

    if (input.tokenHash !== undefined && this.accessTokenRevoked(input.tokenHash, now)) return { kind: 'refused', reason: 'token_revoked', key: identity }

    const policy = keyPolicy(key)
    if (policy.kind === 'invalid') return { kind: 'policy_invalid', key: identity }
    if (policy.kind === 'valid') {
      const decision = checkClientAddress(policy.policy.ip, input.clientAddress)
      if (decision !== 'allowed') return { kind: 'ip_not_allowed', unknownAddress: decision === 'unknown_address', key: identity }
    }

    // Key bucket: decided and recorded with no await in between, so two concurrent requests cannot both take the
    // last token. Rate-limited requests count as a use of the key too.
    const spec: BucketSpec = (policy.kind === 'valid' && policy.policy.rateLimit) || this.limits.defaultKeyLimit
    const taken = takeUpTo(spec, this.usage.tat, now, 1)
    const rate = { spec, remaining: taken.remaining, resetMs: taken.resetMs }
    this.usage.tat = taken.tat
    this.usage.lastUsedAt = now
    // Stored with the request's audit record (appendAudit), which every admission is followed by.
    this.usageChanged = true
    // last_used_at reaches D1 at most once a minute: a minute after the last copy, or after the first use.
    const flushed = this.usage.flushedLastUsedAt
    this.scheduleAlarm(flushed === null ? now + LAST_USED_FLUSH_MS : Math.max(now, flushed + LAST_USED_FLUSH_MS))
    if (taken.granted === 0) return { kind: 'rate_limited', scope: 'key', retryAfterMs: taken.retryAfterMs, rate, key: identity }

    let global: Awaited<ReturnType<GlobalBudget['take']>>
    try {
      global = await this.globalBudget(input.keyId).take()
    } catch (error) {
      // The global limiter could not answer: refused (never let through), and the key's own token given back.
      console.error(JSON.stringify({ level: 'error', where: 'global budget', key_id: input.keyId, message: String(error) }))
      this.usage.tat = giveBack(spec, this.usage.tat, Date.now(), 1)
      return { kind: 'unavailable' }
    }
    if (!global.ok) {
      // Refused for the deployment's sake: the key's own token is given back.
      this.usage.tat = giveBack(spec, this.usage.tat, Date.now(), 1)
      this.usageChanged = true
      return { kind: 'rate_limited', scope: 'global', retryAfterMs: global.retryAfterMs, rate, key: identity }
    }
    // The prefix of the secret actually presented (the old one during a rotation's grace period).
    return { kind: 'admitted', key: secret.prefix === key.prefix ? key : { ...key, prefix: secret.prefix }, rate }
  }

  /**
   * The key's Odoo session, shared by its tool calls while the key's secret, login, uid and policy stay the same and
   * for at most SESSION_TTL_MS (Odoo's field metadata is cached inside it). A session that failed is not kept, except
   * when its Odoo secret cannot be unsealed: that lasts until the secret changes (new stamp) or the object restarts
   * (a deploy, with another CREDENTIALS_KEY ring), so the failure is answered, and logged, once rather than per call.
   */
  private keySession(key: ApiKeyRecord): Promise<KeySession> {
    const stamp = sessionStamp(key)
    const now = Date.now()
    const kept = this.session
    if (kept && kept.stamp === stamp && (kept.lasting || now - kept.createdAt < SESSION_TTL_MS)) return kept.session
    const session = createKeySession({
      env: this.env,
      config: loadConfig(this.env),
      key,
      waitUntil: (promise) => this.ctx.waitUntil(promise),
      // The session outlives the request that built it: its own faults are logged under the key, not a request.
      logError: (error, where) => logError(error, `${where} (key ${key.id})`),
    })
    const entry: SessionEntry = { stamp, createdAt: now, session }
    this.session = entry
    session.catch((error: unknown) => {
      if (error instanceof UnreadableCredentialsError) entry.lasting = true
      else if (this.session === entry) this.session = undefined
    })
    return session
  }

  /** The admin channel: reload the key from D1 now. Returns the key's status as the object now sees it. */
  async refresh(keyId: string): Promise<{ found: boolean; status?: string; loadedAt?: number }> {
    const loaded = await this.load(keyId, ++this.sequence)
    if (!loaded) return { found: false }
    return { found: true, status: keyStatus(loaded.key, Date.now()), loadedAt: loaded.loadedAt }
  }

  /** Sends pending audit records and last_used_at to D1; whatever fails is retried by the next alarm. */
  override async alarm(): Promise<void> {
    this.alarmAt = null
    await this.stream.flush()
    let lastUsedRetry = false
    const { lastUsedAt, flushedLastUsedAt } = this.usage
    const keyId = this.cached?.key.id
    if (lastUsedAt !== null && lastUsedAt !== flushedLastUsedAt && keyId) {
      try {
        await saveLastUsed(this.env.DB, keyId, lastUsedAt)
        this.usage.flushedLastUsedAt = lastUsedAt
        this.saveUsage()
      } catch (error) {
        console.error(JSON.stringify({ level: 'error', where: 'last_used_at flush', key_id: keyId, message: String(error) }))
        lastUsedRetry = true
      }
    }
    const now = Date.now()
    const next = [this.stream.nextAlarmAt(now), lastUsedRetry ? now + LAST_USED_FLUSH_MS : null].filter((at): at is number => at !== null)
    if (next.length > 0) this.scheduleAlarm(Math.min(...next))
  }

  /**
   * Reads the key from D1. A caller that needs data at least as new as the moment it arrived passes its arrival
   * number: a read already running is shared only if it was issued after that; otherwise a new read starts.
   */
  private async load(keyId: string, arrival: number): Promise<CachedKey | null> {
    if (this.loading && this.loading.seq > arrival) return this.loading.promise
    const seq = ++this.sequence
    const startedAt = Date.now()
    const promise = (async () => {
      const stored = await loadStoredKey(this.env.DB, keyId)
      // A later read may have finished first: never replace newer data with older.
      if (seq < this.cachedSeq) return this.cached ?? null
      this.cachedSeq = seq
      if (!stored) {
        this.cached = undefined
        this.ctx.storage.kv.delete(CACHE_KEY)
        return null
      }
      // loadedAt is when the read started: the data is at least that fresh.
      const cached: CachedKey = { ...stored, loadedAt: startedAt }
      this.cached = cached
      this.ctx.storage.kv.put(CACHE_KEY, cached)
      return cached
    })()
    const loading = { seq, promise }
    this.loading = loading
    try {
      return await promise
    } finally {
      if (this.loading === loading) this.loading = undefined
    }
  }

  private globalBudget(keyId: string): GlobalBudget {
    this.budget ??= new GlobalBudget(this.limits, homeShardOf(keyId, this.limits.globalShards), {
      lease: (shard, request) => limiterShard(this.env, shard).lease(request),
    })
    return this.budget
  }

  private saveUsage(): void {
    this.usageChanged = false
    this.ctx.storage.kv.put(USAGE_KEY, this.usage)
  }

  /** Makes sure the alarm runs no later than `at`. Not awaited: the output gate keeps answers until it is stored. */
  private scheduleAlarm(at: number): void {
    if (this.alarmAt !== null && this.alarmAt <= at) return
    this.alarmAt = at
    void this.ctx.storage.setAlarm(at)
  }
}
