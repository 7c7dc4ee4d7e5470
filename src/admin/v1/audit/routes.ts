/**
 * /admin/v1/audit (docs/notes/admin-api-audit.md): the request audit log, read-only.
 *   GET  /records  search, newest first, in pages (`audit search`)
 *   GET  /export   the same filters, oldest first, in pages, with each record's hashes (`audit export`)
 *   POST /verify   one step of the chain check (`audit verify`; admin/v1/audit/verify.ts)
 * Nothing here changes anything, so nothing goes through the ledger.
 */
import { Hono } from 'hono'
import { z } from 'zod'
import { auditSearchQuery, type AuditFilters } from '../../../audit/search'
import { badCursor, isoTime, parseBody, parseQuery, type AdminApiEnv, type AdminContext } from '../http'
import { decodeAuditCursor, encodeAuditCursor } from './cursor'
import { exportJson, readRecord, recordJson } from './rows'
import { CHAIN_ID, MAX_VERIFY_PAGE, VERIFY_PAGE, verifyCursorShape, verifyStep } from './verify'

export const auditRoutes = new Hono<AdminApiEnv>()

const MODEL = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/
const RECORD = /^([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*):(\d{1,15})$/

/** The filters of `audit search` and `audit export` (docs/AUDIT.md "Search and export"). */
const filterFields = {
  key: z
    .string()
    .regex(/^(key|con)_[0-9a-f]{16}$/, 'must be a key id (key_ + 16 hex characters) or a connection id (con_ + 16 hex)')
    .optional(),
  model: z.string().max(128).regex(MODEL, 'must be a model name such as res.partner').optional(),
  record: z
    .string()
    .max(160)
    .regex(RECORD, 'must be MODEL:ID, e.g. res.partner:42')
    .transform((text) => {
      const [, model, id] = RECORD.exec(text)!
      return { model: model!, id: Number(id) }
    })
    .optional(),
  outcome: z.enum(['ok', 'denied', 'error']).optional(),
  ip: z
    .string()
    .regex(/^[0-9a-fA-F.:]{2,45}$/, 'must be an IPv4 or IPv6 address')
    .transform((text) => text.toLowerCase())
    .optional(),
  since: isoTime.optional(),
  until: isoTime.optional(),
  cursor: z.string().max(2048).optional(),
}

/** Most records a search page holds (the CLI's --limit goes to 10 000 in pages); an export page holds more. */
export const MAX_SEARCH_PAGE = 1_000
export const MAX_EXPORT_PAGE = 5_000

const searchQuery = z.strictObject({ ...filterFields, limit: z.coerce.number().int().min(1).max(MAX_SEARCH_PAGE).default(100) })
const exportQuery = z.strictObject({ ...filterFields, limit: z.coerce.number().int().min(1).max(MAX_EXPORT_PAGE).default(1_000) })

/**
 * A page's cursor: which listing it came from ('r' newest first, 'x' export), then the last record's sort key as D1
 * holds it (a tampered row may hold text or a fraction in time or seq: the next page still starts right after it).
 */
const stored = z.union([z.number(), z.string()])
const pageCursor = z.tuple([z.enum(['r', 'x']), stored, z.string(), stored])

async function recordsPage(c: AdminContext, input: z.infer<typeof searchQuery>, order: 'newest' | 'oldest') {
  const tag = order === 'newest' ? 'r' : 'x'
  const cursor = decodeAuditCursor(input.cursor, pageCursor)
  if (cursor === null || (cursor && cursor[0] !== tag)) return badCursor(c)
  const filters: AuditFilters = { limit: input.limit + 1 }
  if (input.key) filters.keyId = input.key
  if (input.model) filters.model = input.model
  if (input.record) filters.record = input.record
  if (input.outcome) filters.outcome = input.outcome
  if (input.ip) filters.ip = input.ip
  if (input.since !== undefined) filters.since = input.since
  if (input.until !== undefined) filters.until = input.until
  const { sql, params } = auditSearchQuery(filters, { order, ...(cursor ? { after: { time: cursor[1], chainId: cursor[2], seq: cursor[3] } } : {}) })
  const { results } = await c.env.DB.prepare(sql)
    .bind(...params)
    .all<Record<string, unknown>>()
  const rows = results.slice(0, input.limit)
  const last = rows[rows.length - 1]
  const next = results.length > input.limit && last ? encodeAuditCursor([tag, last.time as number | string, String(last.chain_id), last.seq as number | string]) : null
  const items = rows.map((row) => (order === 'newest' ? recordJson(readRecord(row)) : exportJson(readRecord(row))))
  return c.json({ items, next_cursor: next })
}

auditRoutes.get('/records', async (c) => {
  const query = parseQuery(c, searchQuery)
  return query.ok ? recordsPage(c, query.value, 'newest') : query.response
})

auditRoutes.get('/export', async (c) => {
  const query = parseQuery(c, exportQuery)
  return query.ok ? recordsPage(c, query.value, 'oldest') : query.response
})

const verifyBody = z.strictObject({
  cursor: z.string().optional(),
  /** Only this chain: a key's, a connection's or an unauthenticated one (no idle chains, no admin log). */
  key: z.string().regex(CHAIN_ID, 'must be a chain id: key_ or con_ + 16 hex characters, or anon-N').optional(),
  /** Records per step; small values are for tests that split chains across pages. */
  limit: z.number().int().min(1).max(MAX_VERIFY_PAGE).default(VERIFY_PAGE),
  /** Also count the records the pass will check (first step only), for a progress bar. */
  total: z.boolean().default(false),
})

auditRoutes.post('/verify', async (c) => {
  const body = parseBody(c, verifyBody)
  if (!body.ok) return body.response
  const { key, limit } = body.value
  const cursor = decodeAuditCursor(body.value.cursor, verifyCursorShape)
  if (cursor === null || (cursor && key !== undefined && (cursor[0] !== 'log' || cursor[1] !== key))) return badCursor(c)
  let total: number | undefined
  if (body.value.total && cursor === undefined) {
    const counted = await (key
      ? c.env.DB.prepare('SELECT COUNT(*) AS n FROM audit_log WHERE chain_id = ?1').bind(key)
      : c.env.DB.prepare('SELECT COUNT(*) AS n FROM audit_log')
    ).first<{ n: number }>()
    total = Number(counted?.n ?? 0)
  }
  const step = await verifyStep(c.env, cursor, { ...(key ? { key } : {}), limit, requestId: c.get('requestId') })
  return c.json({
    records: step.records,
    chains: step.chains,
    idle_chains: step.idleChains,
    admin_records: step.adminRecords,
    heads_checked: step.headsChecked,
    heads_unavailable: step.headsUnavailable,
    problems: step.problems,
    ...(total === undefined ? {} : { total_records: total }),
    next_cursor: step.next ? encodeAuditCursor(step.next) : null,
  })
})
