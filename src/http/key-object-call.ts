/**
 * The edge's one call to the key's object per request (gateway/key-call.ts): from the handler for the requests the
 * object answers (tools/list, tools/call), and from the audit middleware for the ones the edge answered (it asks the
 * object to admit and record them before releasing its answer).
 *
 * If the object cannot be reached, the request is refused (503), never let through. A call whose object restarted
 * under it is made once more (lib/object-retry.ts), marked so its record is not stored twice — except a tool call
 * that may change data in Odoo: it may have run, so it is not run again; the client is told to check first.
 */
import type { Context } from 'hono'
import { loadConfig } from '../config'
import type { Env } from '../env'
import { httpErrorBody } from '../errors'
import type { KeyAnswer, KeyCall, KeyToolWork, KeyWork } from '../gateway/key-call'
import { retryObjectCallOnce } from '../lib/object-retry'
import { keyObject } from '../keys/placement'
import { logError } from '../log'
import { requestIdOf } from '../mcp/edge-requests'
import { toolNamed } from '../mcp/tool-schemas'
import type { GatewayEnv } from './types'

/**
 * How long the edge waits for the key's object besides Odoo's own time. A tool call on a cold session makes its Odoo
 * calls one after another (version, authenticate, fields_get per model of a dotted path, the default order, the call
 * itself, and a count), each allowed ODOO_TIMEOUT_MS: the edge waits for up to ODOO_CALLS_WAITED_FOR of them.
 */
const OBJECT_TIMEOUT_MS = 10_000
const ODOO_CALLS_WAITED_FOR = 8

class KeyObjectTimeout extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new KeyObjectTimeout()), ms)))
  return Promise.race([promise, timeout]).finally(() => timer !== undefined && clearTimeout(timer))
}

/** Whether running the work twice could change Odoo twice. */
function mayWrite(work: KeyWork): boolean {
  return work.kind === 'call_tool' && work.argumentsError === undefined && toolNamed(work.tool)?.annotations.readOnlyHint !== true
}

/** Makes the call; throws when the object could not answer (unreachable, restarted twice, silent). */
function serve(env: Env, call: KeyCall): Promise<KeyAnswer> {
  const timeoutMs = OBJECT_TIMEOUT_MS + ODOO_CALLS_WAITED_FOR * loadConfig(env).odooTimeoutMs
  let retried = false
  return retryObjectCallOnce(
    () => {
      // The RPC stub's inferred type mangles unions; the object returns exactly a KeyAnswer.
      const attempt = keyObject(env, call.admission.keyId).serve({ ...call, retried }) as unknown as Promise<KeyAnswer>
      retried = true
      return withTimeout(attempt, timeoutMs)
    },
    (error) => error instanceof KeyObjectTimeout || mayWrite(call.work),
  )
}

function keyCall(c: Context<GatewayEnv>, work: KeyWork): KeyCall {
  const message = c.get('rpcMessage')
  return {
    admission: c.get('keyRef'),
    record: c.get('audit').record,
    redactDomains: c.env.AUDIT_REDACT_DOMAIN_VALUES === 'true',
    rpcId: message === undefined ? null : requestIdOf(message),
    work,
  }
}

/** The 503 when the object could not answer. The record goes to the unauthenticated chains (http/audit.ts). */
function unavailable(c: Context<GatewayEnv>, error: unknown, work: KeyWork): Response {
  const requestId = c.get('requestId')
  logError(error, 'key object call', requestId)
  c.set('keyObjectFailed', true)
  const why = error instanceof KeyObjectTimeout ? 'the key service timed out' : 'the key service is unreachable or overloaded'
  const message = mayWrite(work)
    ? `The gateway lost contact with the key service (${why}) while this call ran: it may have been applied in Odoo. Check before retrying.`
    : `The gateway cannot check this API key right now (${why}); retry shortly`
  c.get('audit').outcome('error', 'key_service_unavailable')
  return Response.json(httpErrorBody('key_service_unavailable', message, requestId), { status: 503, headers: { 'Retry-After': '1' } })
}

function toResponse(answer: Extract<KeyAnswer, { kind: 'answer' }>): Response {
  return new Response(answer.body, { status: answer.status, headers: answer.headers })
}

/** The object's answer (the request is then recorded), or the 503 when it could not answer. */
async function serveOrRefuse(c: Context<GatewayEnv>, work: KeyWork): Promise<KeyAnswer | Response> {
  try {
    const answer = await serve(c.env, keyCall(c, work))
    c.set('recordedByKeyObject', true)
    return answer
  } catch (error) {
    return unavailable(c, error, work)
  }
}

/** A request the key's object answers: its answer, already recorded. */
export async function callKeyObject(c: Context<GatewayEnv>, work: KeyToolWork): Promise<Response> {
  const answer = await serveOrRefuse(c, work)
  if (answer instanceof Response) return answer
  if (answer.kind !== 'answer') throw new Error('the key object released an answer the edge does not have')
  return toResponse(answer)
}

/**
 * A request the edge answered (the SDK, or a refusal of its message): the key's object admits and records it, then
 * the edge's answer is released with the key's rate-limit headers, or the object's refusal is sent instead.
 */
export async function releaseEdgeAnswer(c: Context<GatewayEnv>, answer: Response, body: ArrayBuffer): Promise<Response> {
  const decision = await serveOrRefuse(c, { kind: 'answered', status: answer.status, responseBytes: body.byteLength })
  if (decision instanceof Response) return decision
  if (decision.kind === 'answer') return toResponse(decision)
  // An empty body goes back as no body: 204/304 answers may not carry one at all.
  const released = new Response(body.byteLength > 0 ? body : null, answer)
  for (const [name, value] of Object.entries(decision.headers)) released.headers.set(name, value)
  return released
}
