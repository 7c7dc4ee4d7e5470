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
 * The `WWW-Authenticate` value of a 401 (RFC 6750 §3). A request that presented no credential gets the bare
 * challenge: §3.1 says such a response SHOULD NOT carry an error code or other error information (the client may
 * simply not have known a key was needed; the JSON body says what to send). A refused credential gets
 * `error="invalid_token"` and the refusal message as `error_description`.
 */
export function bearerChallenge(refusal?: BearerRefusal): string {
  if (!refusal) return `Bearer realm="${REALM}"`
  return `Bearer realm="${REALM}", error="${refusal.error}", error_description="${challengeDescription(refusal.description)}"`
}
