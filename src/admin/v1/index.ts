/**
 * The admin API, version 1 (docs/ADMIN-API.md): `/admin/v1/...`, JSON in and out, every request authenticated
 * (admin/v1/auth.ts), every change recorded in the admin log (admin/v1/ledger.ts). The CLI is a client of it, and
 * so will be the browser console. Error bodies: `{"error": code, "message", "request_id", "details"?}`; codes are
 * stable, messages are for people. Lists: `?limit=&cursor=` → `{"items": [...], "next_cursor": string|null}`.
 */
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { ADMIN_BODY_LIMIT, adminAuth } from './auth'
import { withoutApiKeys } from '../../keys/key-format'
import { adminError, type AdminApiEnv } from './http'
import { alertsRoutes } from './alerts/routes'
import { auditRoutes } from './audit/routes'
import { connectorsRoutes } from './connectors/routes'
import { credentialsRoutes } from './credentials/routes'
import { keyRoutes, policyRoutes } from './keys/routes'
import { webhooksRoutes } from './webhooks/routes'

export const adminApi = new Hono<AdminApiEnv>()

adminApi.use(
  bodyLimit({
    maxSize: ADMIN_BODY_LIMIT,
    onError: (c) => adminError(c as never, 413, 'body_too_large', `Admin request bodies are limited to ${ADMIN_BODY_LIMIT} bytes`),
  }),
)
adminApi.use(adminAuth())
adminApi.get('/whoami', (c) => c.json({ actor: c.get('adminActor').id, auth: c.get('adminActor').auth, api_version: 1 }))
adminApi.route('/keys', keyRoutes)
// Dry runs of policies not stored yet (`odoo-mcp policy explain`).
adminApi.route('/policy', policyRoutes)
// Connector profiles and OAuth connections (docs/OAUTH.md).
adminApi.route('/', connectorsRoutes)
// Webhook sources, subscriptions and deliveries (docs/WEBHOOKS.md).
adminApi.route('/webhooks', webhooksRoutes)
adminApi.route('/alerts', alertsRoutes)
adminApi.route('/audit', auditRoutes)
adminApi.route('/credentials', credentialsRoutes)
adminApi.all('*', (c) => adminError(c, 404, 'not_found', `No admin route ${c.req.method} ${withoutApiKeys(new URL(c.req.url).pathname)}; see docs/ADMIN-API.md`))
