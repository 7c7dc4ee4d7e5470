/**
 * What a key's object does with the one call the edge makes per request (gateway/key-call.ts), after admitting it:
 *
 *   refused → the refusal's answer (gateway/admission-answers.ts)
 *   answered at the edge → nothing more (the edge releases its answer)
 *   tools/list → the key's tools          tools/call → policy guard, Odoo, output filter (mcp/key-answers.ts)
 *
 * and in every case the audit record, completed with the answer's status and size, appended to the key's chain
 * before the answer goes back: the object's output gate holds the answer until that write is durable.
 */
import type { AuditRecord } from '../audit/record'
import { AuditTrail } from '../audit/trail'
import type { Admission } from '../keys/admission'
import type { ApiKeyRecord } from '../keys/key-store'
import type { LimitsConfig } from '../limits/config'
import { rateLimitHeaders } from '../limits/headers'
import { toolAvailability } from '../mcp/availability'
import { callTool, listToolsBody, resultBody } from '../mcp/key-answers'
import type { ToolContext } from '../mcp/tool'
import { keyPolicy } from '../policy/key-policy'
import type { SignInHint } from '../http/bearer-challenge'
import { refusalAnswer } from './admission-answers'
import type { KeyAnswer, KeyCall } from './key-call'

export interface ServeContext {
  limits: LimitsConfig
  /** Appends the finished record to the key's chain (synchronous storage write). */
  append(record: AuditRecord): void
  /** The key's Odoo session for this request (gateway/session.ts). */
  session(key: ApiKeyRecord, requestId: string): Promise<ToolContext>
  logError(error: unknown, where: string, requestId: string): void
  /** For an OAuth connection: where its client signs in again (a refused token's 401 says so). */
  signIn?: SignInHint
}

const utf8 = new TextEncoder()
const JSON_TYPE = 'application/json'

export async function serveAdmitted(call: KeyCall, admission: Admission, context: ServeContext): Promise<KeyAnswer> {
  const trail = AuditTrail.resume(call.record, call.redactDomains)
  const requestId = call.record.requestId
  if (admission.kind !== 'admitted') {
    const refusal = refusalAnswer(admission, { requestId, rpcId: call.rpcId, limits: context.limits, ...(context.signIn ? { signIn: context.signIn } : {}) })
    if (refusal.key) trail.key(refusal.key)
    // The edge's directory found this key for the presented secret: its chain gets the record even when the object
    // could not tell more (the secret unknown to it, or D1 unreadable).
    else trail.record.keyId ??= call.admission.keyId
    // The refusal is what the client gets: it replaces whatever the edge noted about the message (a malformed body
    // from a revoked key is recorded as revoked_key, which the alert rules count).
    trail.replaceOutcome(refusal.outcome, refusal.code)
    context.append(trail.finish(refusal.status, utf8.encode(refusal.body).byteLength))
    return { kind: 'answer', status: refusal.status, headers: refusal.headers, body: refusal.body }
  }

  const { key, rate } = admission
  trail.key(key)
  const headers = rateLimitHeaders('key', rate.spec, rate.remaining, rate.resetMs)
  const work = call.work
  let body: string
  switch (work.kind) {
    case 'answered':
      context.append(trail.finish(work.status, work.responseBytes))
      return { kind: 'release', headers }
    case 'list_tools':
      body = listToolsBody(work.rpcId, toolAvailability(keyPolicy(key)), work.era ?? 'legacy')
      break
    case 'call_tool': {
      const logError = (error: unknown, where: string) => context.logError(error, where, requestId)
      const result = await callTool(work, {
        requestId,
        logError,
        availability: toolAvailability(keyPolicy(key)),
        session: () => context.session(key, requestId),
        audit: trail,
      })
      body = resultBody(work.rpcId, result, work.era ?? 'legacy')
      break
    }
  }
  context.append(trail.finish(200, utf8.encode(body).byteLength))
  return { kind: 'answer', status: 200, headers: { 'content-type': JSON_TYPE, ...headers }, body }
}
