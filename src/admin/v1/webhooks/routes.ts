/** /admin/v1/webhooks (docs/ADMIN-API.md). */
import { Hono } from 'hono'
import type { AdminApiEnv } from '../http'

export const webhooksRoutes = new Hono<AdminApiEnv>()
