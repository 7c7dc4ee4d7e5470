/**
 * Per-key client address rules. The address is taken from `CF-Connecting-IP` only: Cloudflare sets it from the TCP
 * connection and overwrites any value a client sends, whereas `X-Forwarded-For`, `X-Real-IP`, `True-Client-IP`
 * and the like are written by the client and are ignored. (Locally, wrangler dev sets `CF-Connecting-IP` from the
 * socket address when the request has none.)
 */
import type { MiddlewareHandler } from 'hono'
import { checkClientAddress } from '../policy/ip-rules'
import { keyPolicy } from '../policy/key-policy'
import { httpError } from './errors'
import type { GatewayEnv } from './types'

export function clientAddress(request: Request): string | undefined {
  return request.headers.get('cf-connecting-ip') ?? undefined
}

export function ipGuard(): MiddlewareHandler<GatewayEnv> {
  return async function ipGuard(c, next) {
    const policy = keyPolicy(c.get('apiKey'))
    if (policy.kind === 'invalid') {
      return httpError(c, 403, 'policy_invalid', 'This API key\'s stored policy is invalid; an administrator must set it again')
    }
    if (policy.kind === 'valid') {
      const decision = checkClientAddress(policy.policy.ip, clientAddress(c.req.raw))
      if (decision !== 'allowed') {
        // The allowed ranges are not listed: they would tell an attacker where to come from.
        const message =
          decision === 'unknown_address'
            ? 'The client address could not be determined, and this API key is restricted to certain addresses'
            : 'This client address is not allowed to use this API key'
        return httpError(c, 403, 'ip_not_allowed', message)
      }
    }
    return next()
  }
}
