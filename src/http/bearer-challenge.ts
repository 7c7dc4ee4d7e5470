/** The `WWW-Authenticate` challenge of the gateway's 401 answers (RFC 6750 §3). Pure: the edge and the key objects use it. */

/** The realm every challenge names (RFC 6750 §3). */
export const REALM = 'odoo-mcp-edge'

/** Longest `error_description` put in a challenge; the JSON body has the full message. */
const MAX_DESCRIPTION_CHARS = 300

/**
 * Reduces text to what an RFC 6750 `error_description` may hold (§3: %x20-21 / %x23-5B / %x5D-7E, printable ASCII
 * without `"` and `\`), so nothing in it can end the quoted string, split the header or smuggle a parameter:
 * quotes become `'`, backslashes `/`, line breaks and other controls spaces, any other character `?`; at most
 * {@link MAX_DESCRIPTION_CHARS} characters. The descriptions are the gateway's own messages (they never contain the
 * presented key or other client text); this is the guarantee that keeps it so if one ever did.
 */
export function challengeDescription(text: string): string {
  const clean = text
    .replace(/…/g, '...')
    .replace(/["\u201C\u201D]/g, "'")
    .replace(/\\/g, '/')
    .replace(/[\u0000-\u001F\u007F]+/g, ' ')
    .replace(/[^\u0020-\u007E]/gu, '?')
    .replace(/ {2,}/g, ' ')
    .trim()
  return clean.length <= MAX_DESCRIPTION_CHARS ? clean : `${clean.slice(0, MAX_DESCRIPTION_CHARS - 3)}...`
}

/** An RFC 6750 §3.1 error code (the gateway uses `invalid_token` only) and the message saying why. */
export interface BearerRefusal {
  error: 'invalid_request' | 'invalid_token' | 'insufficient_scope'
  description: string
}

/**
 * Where OAuth sign-in starts (oauth/server.ts), added to the challenges of requests that carried no credential or an
 * OAuth one, when OAuth is on. Not to refusals of an API key: an OAuth-capable client would start a sign-in and
 * hide the refusal's message from a user who needs a new key. Both values are the gateway's own (PUBLIC_URL), never
 * client text.
 */
export interface SignInHint {
  resourceMetadataUrl: string
  scope: string
}

/**
 * The `WWW-Authenticate` value of a 401 (RFC 6750 §3). A request that presented no credential gets the bare
 * challenge: §3.1 says such a response SHOULD NOT carry an error code or other error information (the client may
 * simply not have known a key was needed; the JSON body says what to send). A refused credential gets
 * `error="invalid_token"` and the refusal message as `error_description`.
 */
export function bearerChallenge(refusal?: BearerRefusal, signIn?: SignInHint): string {
  // RFC 9728 §5.1: where an OAuth client finds how to sign in (the MCP authorization spec's discovery starts here).
  const discovery = signIn ? `, resource_metadata="${signIn.resourceMetadataUrl}", scope="${signIn.scope}"` : ''
  if (!refusal) return `Bearer realm="${REALM}"${discovery}`
  return `Bearer realm="${REALM}"${discovery}, error="${refusal.error}", error_description="${challengeDescription(refusal.description)}"`
}
