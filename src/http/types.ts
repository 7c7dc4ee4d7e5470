import type { AuditTrail } from '../audit/trail'
import type { Env } from '../env'
import type { AdmitInput } from '../keys/admission'

/** Variables the middleware chain sets on the Hono context. */
export interface GatewayVariables {
  requestId: string
  /** The request's audit record in the making (set by the audit middleware on /mcp). */
  audit: AuditTrail
  /** The key the request presents, found at the edge (set by identifyKey); its object decides whether it may be used. */
  keyRef: AdmitInput
  /** The key's object answered the request and appended its record (http/key-object-call.ts). */
  recordedByKeyObject: boolean
  /** The key's object could not be reached: the record goes to the unauthenticated chains. */
  keyObjectFailed: boolean
  /** The parsed JSON-RPC message (set by readJsonRpcBody). */
  rpcMessage: unknown
}

export type GatewayEnv = { Bindings: Env; Variables: GatewayVariables }
