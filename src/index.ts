/**
 * odoo-mcp-edge: the Worker. This file only wires the pieces together, in the order a request meets them
 * (docs/ARCHITECTURE.md):
 *   request id → audit record opened → CORS / Origin → content type → API key found (format, directory) → body
 *   (size, JSON, no batch, routing headers) → MCP at the edge (initialize, ping, validation) → one call to the key's
 *   object (admission: status, client IP, rate limits; tools/list; tools/call: guard → Odoo → filter; audit append)
 * the Cron Trigger (audit retention),
 * and exports the Durable Object classes (one per API key, and the global rate limit's shards).
 */
import { Hono } from 'hono'
import { cors } from 'hono/cors'
import { requestId } from 'hono/request-id'
import { adminApi } from './admin/v1'
import { applyRetention } from './audit/retention'
import { ConfigError, loadConfig } from './config'
import type { Env } from './env'
import { auditTrail } from './http/audit'
import { identifyKey } from './http/auth'
import { httpError } from './http/errors'
import { originGuard, readJsonRpcBody, requireJsonContentType, requireMatchingRoutingHeaders } from './http/transport-guard'
import type { GatewayEnv } from './http/types'
import { withoutApiKeys } from './keys/key-format'
import { logError } from './log'
import { oauthRoutes } from './oauth/routes'
import { purgeExpiredOAuthData } from './oauth/server'
import { webhookRoutes } from './webhooks/inbound'
import { handleMcpPost } from './mcp/handler'

const app = new Hono<GatewayEnv>()

// Always a fresh id: a client-chosen one could collide with, or impersonate, another request in the audit log.
app.use(requestId({ headerName: '' }))
app.use(async (c, next) => {
  c.header('X-Request-Id', c.get('requestId'))
  c.header('X-Content-Type-Options', 'nosniff')
  await next()
})

app.get('/healthz', (c) => c.json({ status: 'ok' }))

const allowedOrigins = (env: Env) => loadConfig(env).allowedOrigins

// Every request to /mcp leaves an audit record, refused ones included, stored before the response leaves.
app.use('/mcp', auditTrail((env) => env.AUDIT_REDACT_DOMAIN_VALUES === 'true'))
app.use('/hooks/*', auditTrail(() => false))

// Browsers get CORS headers only for configured origins; others are refused by originGuard below.
app.use(
  '/mcp',
  cors({
    origin: (origin, c) => (allowedOrigins(c.env).has(origin.toLowerCase()) ? origin : null),
    allowMethods: ['POST', 'OPTIONS'],
    allowHeaders: ['Authorization', 'Content-Type', 'Accept', 'Mcp-Protocol-Version', 'Mcp-Session-Id', 'Mcp-Method', 'Mcp-Name', 'Last-Event-ID'],
    exposeHeaders: ['Mcp-Session-Id', 'X-Request-Id', 'WWW-Authenticate', 'RateLimit', 'RateLimit-Policy', 'Retry-After'],
    maxAge: 600,
  }),
)
app.use('/mcp', (c, next) => originGuard(() => allowedOrigins(c.env))(c, next))

app.post('/mcp', requireJsonContentType(), identifyKey(), ...readJsonRpcBody(), requireMatchingRoutingHeaders(), handleMcpPost)
app.all('/mcp', (c) =>
  httpError(c, 405, 'method_not_allowed', `${c.req.method} is not supported: this stateless MCP endpoint takes POST only`, {
    Allow: 'POST',
  }),
)

app.route('/', oauthRoutes)
app.route('/admin/v1', adminApi)
app.route('/hooks', webhookRoutes)

// The path is echoed to help a confused client, minus anything that looks like an API key (`/mcp/omk_...`).
app.notFound((c) => httpError(c, 404, 'not_found', `No route for ${c.req.method} ${withoutApiKeys(new URL(c.req.url).pathname)}; the MCP endpoint is POST /mcp`))

app.onError((error, c) => {
  if (error instanceof ConfigError) {
    logError(error, 'config', c.get('requestId'))
    return httpError(c, 500, 'gateway_misconfigured', `The gateway is misconfigured; request id ${c.get('requestId')}`)
  }
  logError(error, 'request', c.get('requestId'))
  return httpError(c, 500, 'internal_error', `Internal gateway error; request id ${c.get('requestId')}`)
})

export { AdminLedger } from './admin/v1/ledger'
export { UnauthenticatedAuditObject } from './audit/unauthenticated-object'
export { KeyObject } from './keys/key-object'
export { GlobalLimiterShard } from './limits/global-limiter'
export { SignInLimiter } from './oauth/sign-in-limiter'
export { WebhookDispatcher } from './webhooks/dispatcher'

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, ctx) {
    ctx.waitUntil(
      applyRetention(env).then(
        (result) => console.log(JSON.stringify({ level: 'info', where: 'audit retention', ...result })),
        (error) => logError(error, 'audit retention'),
      ),
    )
    // OAuth: expired grants and tokens of deleted clients leave KV, a bounded batch an hour (oauth/server.ts).
    ctx.waitUntil(
      purgeExpiredOAuthData(env).then(
        (result) => result && console.log(JSON.stringify({ level: 'info', where: 'oauth purge', ...result })),
        (error) => logError(error, 'oauth purge'),
      ),
    )
  },
} satisfies ExportedHandler<Env>
