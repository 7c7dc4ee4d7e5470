/** /admin/v1/alerts (docs/ADMIN-API.md). */
import { Hono } from 'hono'
import type { AdminApiEnv } from '../http'

export const alertsRoutes = new Hono<AdminApiEnv>()
