/**
 * /admin/v1/alerts: the security alerts raised on the audit stream (src/alerts/rules.ts, docs/WEBHOOKS.md "Alerts"),
 * newest first. Read-only: alerts are written by the objects that raise them.
 */
import { Hono } from 'hono'
import { z } from 'zod'
import { badCursor, decodeCursor, isoTime, page, pageQuery, parseQuery, type AdminApiEnv } from '../http'

export const alertsRoutes = new Hono<AdminApiEnv>()

interface AlertRow {
  id: string
  time: number
  rule: string
  subject: string
  key_id: string | null
  message: string
  request_id: string
}

const alertJson = (row: AlertRow) => ({
  id: row.id,
  time: new Date(row.time).toISOString(),
  rule: row.rule,
  subject: row.subject,
  key_id: row.key_id,
  message: row.message,
  request_id: row.request_id,
})

/** `since`: alerts at or after this moment (ISO 8601); absent: all of them. */
const listQuery = z.strictObject({ ...pageQuery, since: isoTime.optional() })

alertsRoutes.get('/', async (c) => {
  const query = parseQuery(c, listQuery)
  if (!query.ok) return query.response
  const { limit, since } = query.value
  const cursor = decodeCursor(query.value.cursor, z.tuple([z.number().int(), z.string().max(64)]))
  if (!cursor.ok) return badCursor(c)
  const where = ['time >= ?1', cursor.value ? '(time, id) < (?2, ?3)' : '?2 IS NULL AND ?3 IS NULL']
  const { results } = await c.env.DB.prepare(`SELECT id, time, rule, subject, key_id, message, request_id FROM alerts WHERE ${where.join(' AND ')} ORDER BY time DESC, id DESC LIMIT ?4`)
    .bind(since ?? 0, cursor.value?.[0] ?? null, cursor.value?.[1] ?? null, limit + 1)
    .all<AlertRow>()
  const { items, next_cursor } = page(results, limit, (last) => [last.time, last.id])
  return c.json({ items: items.map(alertJson), next_cursor })
})
