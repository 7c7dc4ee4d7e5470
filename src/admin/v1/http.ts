/**
 * What every admin API route shares: its Hono types, errors (`{"error": code, "message", "request_id", "details"?}`),
 * zod-checked bodies and query strings (unknown fields refused: allowlist), and cursor paging.
 */
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { z } from 'zod'
import { httpErrorBody } from '../../errors'
import { withoutApiKeys } from '../../keys/key-format'
import { base64ToBytes, bytesToBase64 } from '../../lib/encoding'
import type { Env } from '../../env'
import type { GatewayVariables } from '../../http/types'
import type { AdminActor } from './admin-record'
import type { Refusal } from './plan'

export type AdminApiEnv = { Bindings: Env; Variables: GatewayVariables & { adminActor: AdminActor; adminBody: string } }
export type AdminContext = Context<AdminApiEnv>

export function adminError(c: AdminContext, status: ContentfulStatusCode, code: string, message: string, details?: string[], headers: Record<string, string> = {}): Response {
  return c.json({ ...httpErrorBody(code, message, c.get('requestId')), ...(details ? { details } : {}) }, status, headers)
}

export const refusalResponse = (c: AdminContext, refusal: Refusal) => adminError(c, refusal.status, refusal.code, refusal.message)

/** zod issues as `path: message` lines. */
function issueLines(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(body)'}: ${issue.message}`)
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; response: Response }

/** The JSON body checked against `schema`; 400 invalid_body listing every problem otherwise. */
export function parseBody<T>(c: AdminContext, schema: z.ZodType<T>): Parsed<T> {
  const text = c.get('adminBody')
  let json: unknown
  try {
    json = text === '' ? {} : JSON.parse(text)
  } catch {
    return { ok: false, response: adminError(c, 400, 'invalid_json', 'The body is not valid JSON') }
  }
  let malformed: string[] | undefined
  try {
    malformed = unpairedSurrogateAt(json, [])
  } catch {
    // A stack overflow: JSON.parse takes nesting no checker walks.
    return { ok: false, response: adminError(c, 400, 'invalid_json', 'The body is nested too deeply') }
  }
  if (malformed) {
    // JSON's \ud800 escapes can spell text no UTF-8 store keeps: D1 would silently store something else.
    return { ok: false, response: adminError(c, 400, 'invalid_body', 'The body does not fit this endpoint', [`${malformed.join('.') || '(body)'}: text with an unpaired UTF-16 surrogate (\\uD800-\\uDFFF)`]) }
  }
  const parsed = schema.safeParse(json)
  if (!parsed.success) return { ok: false, response: adminError(c, 400, 'invalid_body', 'The body does not fit this endpoint', issueLines(parsed.error)) }
  return { ok: true, value: parsed.data }
}

/** With the u flag a pair is one code point, so this matches only a surrogate standing alone. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u

/** The path of the first string (value or member name) holding an unpaired surrogate, if any. */
function unpairedSurrogateAt(value: unknown, path: string[]): string[] | undefined {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? path : undefined
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const found = unpairedSurrogateAt(value[index], [...path, String(index)])
      if (found) return found
    }
    return undefined
  }
  if (value !== null && typeof value === 'object') {
    for (const [name, member] of Object.entries(value)) {
      // The name is not echoed: it is the malformed text.
      if (LONE_SURROGATE.test(name)) return [...path, '(a member name)']
      const found = unpairedSurrogateAt(member, [...path, name])
      if (found) return found
    }
  }
  return undefined
}

/** The query string checked against `schema` (each parameter once). */
export function parseQuery<T>(c: AdminContext, schema: z.ZodType<T>): Parsed<T> {
  const url = new URL(c.req.url)
  const query: Record<string, string> = {}
  for (const [name, value] of url.searchParams) {
    if (name in query) return { ok: false, response: adminError(c, 400, 'invalid_query', `'${echoed(name)}' is given more than once`) }
    query[name] = value
  }
  const parsed = schema.safeParse(query)
  if (!parsed.success) return { ok: false, response: adminError(c, 400, 'invalid_query', 'The query string does not fit this endpoint', issueLines(parsed.error)) }
  return { ok: true, value: parsed.data }
}

export const DEFAULT_PAGE = 100
export const MAX_PAGE = 1000

/** `limit` and `cursor`, for every list. */
export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(DEFAULT_PAGE),
  cursor: z.string().max(512).optional(),
}

/**
 * Cursors are opaque to clients: base64url of a JSON array (the sort key of the last item served). Decoded strictly;
 * a cursor that does not decode to the expected shape is a 400, never a silent restart from the beginning.
 */
export function encodeCursor(values: (string | number)[]): string {
  // UTF-8 first: btoa alone throws on text above U+00FF (a name in any script but Latin-1).
  return bytesToBase64(utf8.encode(JSON.stringify(values))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })

export function decodeCursor<T extends z.ZodType>(text: string | undefined, shape: T): { ok: true; value: z.infer<T> | undefined } | { ok: false } {
  if (text === undefined) return { ok: true, value: undefined }
  try {
    const json = JSON.parse(strictUtf8.decode(base64ToBytes(text))) as unknown
    const parsed = shape.safeParse(json)
    return parsed.success ? { ok: true, value: parsed.data } : { ok: false }
  } catch {
    return { ok: false }
  }
}

export const badCursor = (c: AdminContext) => adminError(c, 400, 'invalid_cursor', 'The cursor is not one this endpoint gave out; start again without it')

/** A page of items and the cursor of the next one (null: this was the last page). */
export function page<T>(items: T[], limit: number, cursorOf: (last: T) => (string | number)[]) {
  const more = items.length > limit
  const shown = more ? items.slice(0, limit) : items
  return { items: shown, next_cursor: more ? encodeCursor(cursorOf(shown[shown.length - 1]!)) : null }
}

/** Part of what a client sent, for an error message: at most 40 characters, and never the secret of a pasted API key. */
export function echoed(text: string): string {
  const shown = withoutApiKeys(text)
  return shown.length > 40 ? `${shown.slice(0, 40)}…` : shown
}

/** Ids in paths: checked before any lookup, never echoed at length. */
export function badId(c: AdminContext, kind: string, id: string, shape: string): Response {
  return adminError(c, 400, `invalid_${kind}_id`, `'${echoed(id)}' is not a ${kind} id (${shape})`)
}

/** ISO 8601 date-time in, ms since the epoch out. */
export const isoTime = z.string().max(40).refine((text) => !Number.isNaN(Date.parse(text)), 'must be an ISO 8601 date-time').transform((text) => Date.parse(text))
