/**
 * The one call the edge Worker makes to a key's Durable Object per MCP request (docs/ARCHITECTURE.md, "Request
 * path"). The Worker has done everything that needs neither the key's state nor Odoo (transport checks, key format,
 * JSON-RPC and argument validation, answers to initialize and ping); the object admits the request, does the work
 * that needs the key (the tool list, the tool call with its policy guard and Odoo), appends the audit record, and
 * answers. One wide-area round trip: the object sits next to Odoo (keys/placement.ts), the Worker next to the agent.
 */
import type { AuditRecord } from '../audit/record'
import type { AdmitInput } from '../keys/admission'

/** What the object is asked to do once the request is admitted. */
export type KeyWork =
  /** The edge already has the answer (initialize, ping, a refusal of the message): admit and record it. */
  | { kind: 'answered'; status: number; responseBytes: number }
  /** tools/list: the tools this key's policy lets it use. `era` `modern`: MCP 2026-07-28 (mcp/modern.ts). */
  | { kind: 'list_tools'; rpcId: string | number; era?: 'modern' }
  /**
   * tools/call of a tool this gateway has. `argumentsError` is set when the arguments failed the tool's input schema
   * at the edge: the answer is that error, unless the key may not use the tool at all (then it is told why).
   */
  | { kind: 'call_tool'; rpcId: string | number; era?: 'modern'; tool: string; arguments: Record<string, unknown>; argumentsError?: string }

/** The work that needs the key: what the edge's sorting (mcp/edge-requests.ts, mcp/modern.ts) hands to the object. */
export type KeyToolWork = Exclude<KeyWork, { kind: 'answered' }>

export interface KeyCall {
  admission: AdmitInput
  /** The record as the edge opened it (request id, time, client, method, tool, model...); the object completes it. */
  record: AuditRecord
  /** AUDIT_REDACT_DOMAIN_VALUES, as the edge read it. */
  redactDomains: boolean
  /** The JSON-RPC id of the message, for a 429 answer that a JSON-RPC client can match; null when there is none. */
  rpcId: string | number | null
  work: KeyWork
  /** A second try after the first call's answer was lost (lib/object-retry.ts): its record is not stored twice. */
  retried?: boolean
}

/**
 * The object's answer. `release`: the edge sends its own answer (work `answered`), with these headers added. `answer`:
 * the edge sends this one (a refusal of the key, or the result of the key's work), already recorded with exactly
 * this status and body size.
 */
export type KeyAnswer =
  | { kind: 'release'; headers: Record<string, string> }
  | { kind: 'answer'; status: number; headers: Record<string, string>; body: string }
