/**
 * Cloudflare Access as an admin identity: the `Cf-Access-Jwt-Assertion` header Access adds in front of the gateway,
 * checked here again (a route around Access, such as the workers.dev URL, must not be a way in): RS256 signature
 * against the team's published keys, issuer = the team domain, audience = one of ACCESS_AUD, not expired.
 * Keys are fetched by jose and cached per isolate (it refetches on an unknown key id, rate-limited).
 */
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose'
import type { AdminActor } from './admin-record'
import type { AccessSettings } from './settings'

const keySets = new Map<string, JWTVerifyGetKey>()

function keySetOf(teamDomain: string): JWTVerifyGetKey {
  let keySet = keySets.get(teamDomain)
  if (!keySet) {
    keySet = createRemoteJWKSet(new URL('/cdn-cgi/access/certs', teamDomain), { timeoutDuration: 5_000 })
    keySets.set(teamDomain, keySet)
  }
  return keySet
}

export type AccessVerdict = { ok: true; actor: AdminActor } | { ok: false; reason: string; unavailable?: true }

export async function verifyAccessToken(token: string, settings: AccessSettings): Promise<AccessVerdict> {
  try {
    const { payload } = await jwtVerify(token, keySetOf(settings.teamDomain), {
      issuer: settings.teamDomain,
      audience: settings.audiences,
      algorithms: ['RS256'],
      clockTolerance: 60,
    })
    // A person signs in with an e-mail; a service token carries its client id as common_name.
    const email = typeof payload.email === 'string' && payload.email ? payload.email : undefined
    const service = typeof payload.common_name === 'string' && payload.common_name ? payload.common_name : undefined
    if (!email && !service) return { ok: false, reason: 'the Access token names no user (no email or common_name claim)' }
    const who = (email ?? `service:${service}`).slice(0, 200)
    return { ok: true, actor: { id: `access:${who}`, auth: 'access' } }
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (code === 'ERR_JWKS_TIMEOUT' || (error instanceof TypeError && !code)) {
      return { ok: false, reason: "the team's Access keys could not be fetched", unavailable: true }
    }
    return { ok: false, reason: describeJoseError(code) }
  }
}

function describeJoseError(code: unknown): string {
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'the Access token has expired'
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return 'the Access token is for another application or team (audience or issuer)'
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return "the Access token's signature does not match the team's keys"
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'the Access token is not signed with RS256'
    default:
      return 'the Access token is not a valid JWT'
  }
}
