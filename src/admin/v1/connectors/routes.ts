/** /admin/v1/connectors (docs/ADMIN-API.md). */
import { Hono } from 'hono'
import type { AdminApiEnv } from '../http'

export const connectorsRoutes = new Hono<AdminApiEnv>()
