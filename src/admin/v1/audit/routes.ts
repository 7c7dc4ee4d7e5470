/** /admin/v1/audit (docs/ADMIN-API.md). */
import { Hono } from 'hono'
import type { AdminApiEnv } from '../http'

export const auditRoutes = new Hono<AdminApiEnv>()
