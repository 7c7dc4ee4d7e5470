/**
 * OAuth events in the audit log (docs/AUDIT.md, "OAuth"). What happens to a connection (authorized, tokens issued
 * and refreshed, a refresh token reused, revoked by its client) is appended to the connection's own chain, in its key
 * object, like its MCP requests. A failed sign-in has no connection: it goes to the unauthenticated chains, with the
 * login that was tried, and feeds the `auth_failures` alert (per address and per login). No token, code or secret
 * is ever in a record.
 */
import { newAuditRecord, type AuditOutcome, type AuditRecord } from '../audit/record'
import { clip } from '../audit/trail'
import { unauthenticatedChainFor } from '../audit/unauthenticated-object'
import type { Env } from '../env'
import { clientAddress } from '../http/auth'
import { keyObject } from '../keys/placement'
import { logError } from '../log'
import { connectionPrefix } from './connection-id'

export interface OAuthEvent {
  method: 'oauth/authorize' | 'oauth/token' | 'oauth/revoke'
  outcome: AuditOutcome
  code: string
  httpStatus: number
  /** The client as it named itself, kept as the record's client info. */
  clientName?: string | null
  odooLogin?: string | null
}

function eventRecord(request: Request, requestId: string, startedAt: number, event: OAuthEvent): AuditRecord {
  return newAuditRecord({
    time: startedAt,
    requestId,
    ip: clip(clientAddress(request)),
    userAgent: clip(request.headers.get('user-agent')),
    clientInfo: clip(event.clientName ?? null),
    odooUser: clip(event.odooLogin ?? null),
    method: event.method,
    outcome: event.outcome,
    code: event.code,
    httpStatus: event.httpStatus,
    latencyMs: Date.now() - startedAt,
  })
}

/** Appends an event of a connection to its chain. An audit failure is logged, never turned into a failed sign-in. */
export async function auditConnectionEvent(
  env: Env,
  request: Request,
  requestId: string,
  startedAt: number,
  connectionId: string,
  event: OAuthEvent,
): Promise<void> {
  // The object names the record after the connection (client, Odoo user, profile), as it names its requests.
  const record = { ...eventRecord(request, requestId, startedAt, event), keyId: connectionId, keyPrefix: connectionPrefix(connectionId) }
  try {
    await keyObject(env, connectionId).appendEvent(record)
  } catch (error) {
    logError(error, `oauth audit (${connectionId})`, requestId)
  }
}

/** Appends an event without a connection (a failed or throttled sign-in, a denied consent) to an unauthenticated chain. */
export async function auditSignInEvent(env: Env, request: Request, requestId: string, startedAt: number, event: OAuthEvent): Promise<void> {
  const record = eventRecord(request, requestId, startedAt, event)
  const chain = unauthenticatedChainFor(record.ip)
  try {
    await env.UNAUTHENTICATED_AUDIT.get(env.UNAUTHENTICATED_AUDIT.idFromName(chain)).appendAudit(chain, record)
  } catch (error) {
    logError(error, 'oauth audit (sign-in)', requestId)
  }
}
