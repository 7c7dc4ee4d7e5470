import type { AuditTrail } from '../audit/trail'
import type { Env } from '../env'
import type { ApiKeyRecord } from '../keys/key-store'

/** Variables the middleware chain sets on the Hono context. */
export interface GatewayVariables {
  requestId: string
  /** The request's audit record in the making (set by the audit middleware on /mcp). */
  audit: AuditTrail
  /** The authenticated key (set by bearerAuth). */
  apiKey: ApiKeyRecord
  /** The parsed JSON-RPC message (set by readJsonRpcBody). */
  rpcMessage: unknown
}

export type GatewayEnv = { Bindings: Env; Variables: GatewayVariables }
