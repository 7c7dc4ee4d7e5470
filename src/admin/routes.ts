/**
 * What is left of the first admin channel, until the commands using it move to the admin API (docs/ADMIN-API.md):
 *   (none: `webhooks redeliver` moved to POST /admin/v1/webhooks/deliveries/:id/redeliver)
 * Same authentication as the admin API (signatures with single-use nonces, Access, ADMIN_ALLOWED_IPS).
 */
import { Hono, type MiddlewareHandler } from 'hono'
import { httpError } from '../http/errors'
import type { GatewayEnv } from '../http/types'
import { adminAuth } from './v1/auth'


export const adminRoutes = new Hono<GatewayEnv>()

// Transitional: these routes go away as their CLI commands move to /admin/v1 (same authentication).
adminRoutes.use(adminAuth() as unknown as MiddlewareHandler<GatewayEnv>)

adminRoutes.all('*', (c) => httpError(c, 404, 'not_found', 'Unknown admin route; see docs/KEY-LIFECYCLE.md'))
