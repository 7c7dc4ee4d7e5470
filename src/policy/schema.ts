/**
 * The per-key policy document, validated with zod. Shared by the Worker and the CLI, so a policy the CLI accepts is
 * exactly a policy the gateway enforces. Version 1 says which models, operations and fields; version 2 adds record
 * filters (`filter`, src/policy/record-filter.ts), field masks (`mask`, src/policy/masks.ts) and company pinning
 * (`companies`). A version 1 policy keeps its meaning unchanged; the version 2 settings are refused in it, so a
 * policy that asks for them is never read as one that silently lacks them.
 *
 * ```json
 * {
 *   "version": 1,
 *   "models": {
 *     "sale.order":  { "operations": ["read"], "fields": ["name", "date_order", "amount_total", "state"] },
 *     "res.partner": { "operations": ["read", "create", "write"], "fields": "*" }
 *   },
 *   "ip": { "allow": ["203.0.113.0/24", "2001:db8::/32"], "deny": ["203.0.113.7"] },
 *   "rateLimit": { "perMinute": 60, "burst": 60 }
 * }
 * ```
 *
 * ```json
 * {
 *   "version": 2,
 *   "companies": [1],
 *   "models": {
 *     "sale.order":  { "operations": ["read"], "fields": ["name", "partner_id", "amount_total"],
 *                      "filter": [["user_id", "=", "$uid"]] },
 *     "res.partner": { "operations": ["read"], "fields": ["name", "email", "vat"],
 *                      "filter": [["company_id", "in", "$company_ids"]], "mask": { "email": "partial", "vat": "last4" } }
 *   }
 * }
 * ```
 */
import { z } from 'zod'
import { parseRange, type CompiledIpRules, type CompiledRange } from './ip-rules'
import { MASKS, type MaskKind } from './masks'
import { compileRecordFilter, type RecordFilter } from './record-filter'

export const OPERATIONS = ['read', 'create', 'write', 'unlink'] as const

const MODEL_NAME = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/
/** Upper bounds that keep a policy small enough to evaluate in microseconds. */
const MAX_MODELS = 500
const MAX_FIELDS = 1000
const MAX_IP_RULES = 200
const MAX_COMPANIES = 100
/** 1 000 000 requests a minute is beyond what any single key object can serve: a typo, not a wish. */
const MAX_RATE_PER_MINUTE = 1_000_000

const ipRule = z.string().transform((text, ctx): CompiledRange => {
  const parsed = parseRange(text)
  if (!parsed.ok) {
    ctx.addIssue({ code: 'custom', message: `'${text}' is not a valid address or CIDR range: ${parsed.error}` })
    return z.NEVER
  }
  return parsed.value
})

const modelPolicy = z
  .object({
    operations: z
      .array(z.enum(OPERATIONS, { error: `operations are ${OPERATIONS.join(', ')}` }))
      .min(1, 'list at least one operation (read, create, write, unlink)')
      .transform((ops) => new Set(ops)),
    // Hand-written instead of z.union so each bad entry is reported at its own index.
    fields: z.unknown().transform((value, ctx): '*' | Set<string> => {
      if (value === '*') return '*'
      if (!Array.isArray(value)) {
        ctx.addIssue({ code: 'custom', message: 'fields must be "*" or a list of field names' })
        return z.NEVER
      }
      if (value.length > MAX_FIELDS) ctx.addIssue({ code: 'custom', message: `at most ${MAX_FIELDS} fields` })
      value.forEach((field, index) => {
        if (typeof field !== 'string' || !FIELD_NAME.test(field)) {
          ctx.addIssue({ code: 'custom', path: [index], message: `${JSON.stringify(field)} is not a field name (such as email or partner_id)` })
        }
      })
      return new Set(value as string[])
    }),
    // Version 2. The filter is checked in parsePolicy (its placeholders depend on "companies").
    filter: z.unknown().optional(),
    mask: z
      .record(
        z.string().regex(FIELD_NAME, 'mask keys are field names (such as email)'),
        z.enum(MASKS, { error: `masks are ${MASKS.join(', ')}` }),
      )
      .optional()
      .transform((mask) => (mask ? new Map(Object.entries(mask)) as ReadonlyMap<string, MaskKind> : undefined)),
  })
  .strict()

const rateCount = (what: string) =>
  z.number({ error: `${what} must be a whole number` }).int(`${what} must be a whole number`)
    .min(1, `${what} must be at least 1`).max(MAX_RATE_PER_MINUTE, `${what} must be at most ${MAX_RATE_PER_MINUTE}`)

/** Per-key rate limit: `perMinute` sustained, `burst` at once (the bucket size; default: perMinute). */
const rateLimit = z
  .object({ perMinute: rateCount('perMinute'), burst: rateCount('burst').optional() })
  .strict()
  .transform(({ perMinute, burst }) => ({ perMinute, burst: burst ?? perMinute }))

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']
const CLOCK = /^([01][0-9]|2[0-3]):([0-5][0-9])$/

/** "mon-fri", "sat,sun", "mon-wed,fri" → day numbers (0 = Sunday). */
function parseDays(text: string): number[] | null {
  const days = new Set<number>()
  for (const part of text.toLowerCase().split(',')) {
    const [from, to] = part.trim().split('-')
    const start = DAY_NAMES.indexOf(from ?? '')
    const end = to === undefined ? start : DAY_NAMES.indexOf(to)
    if (start < 0 || end < 0) return null
    for (let day = start; ; day = (day + 1) % 7) {
      days.add(day)
      if (day === end) break
    }
  }
  return [...days].sort()
}

/** When the key is expected to be used; outside it, use raises an `off_hours` alert (src/alerts/rules.ts). */
const workingHours = z
  .object({
    timezone: z.string().refine((zone) => {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: zone })
        return true
      } catch {
        return false
      }
    }, 'timezone must be an IANA time zone such as Europe/Brussels'),
    days: z.string().refine((days) => parseDays(days) !== null, 'days must be like "mon-fri" or "mon,wed,fri"'),
    from: z.string().regex(CLOCK, 'from must be HH:MM (24 h)'),
    to: z.string().regex(CLOCK, 'to must be HH:MM (24 h)'),
  })
  .strict()
  .transform(({ timezone, days, from, to }) => {
    const minutes = (clock: string) => Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3))
    return { timezone, days: parseDays(days)!, from: minutes(from), to: minutes(to) }
  })

export const policySchema = z
  .object({
    version: z.union([z.literal(1), z.literal(2)], { error: 'version must be 1 or 2' }),
    // Model names are checked in parsePolicy: zod skips refinements once a value inside has an issue, and every
    // problem should be reported at once.
    models: z.record(z.string(), modelPolicy),
    ip: z
      .object({
        allow: z.array(ipRule).max(MAX_IP_RULES).default([]),
        deny: z.array(ipRule).max(MAX_IP_RULES).default([]),
      })
      .strict()
      .default({ allow: [], deny: [] }),
    rateLimit: rateLimit.optional(),
    workingHours: workingHours.optional(),
    /** Version 2: the companies every call runs in (Odoo's allowed_company_ids), set by the gateway. */
    companies: z
      .array(z.number({ error: 'company ids are whole numbers' }).int('company ids are whole numbers').positive('company ids are positive'))
      .min(1, 'list at least one company id')
      .max(MAX_COMPANIES, `at most ${MAX_COMPANIES} companies`)
      .refine((ids) => new Set(ids).size === ids.length, 'each company once')
      .optional(),
  })
  .strict()

export type Operation = (typeof OPERATIONS)[number]
export type ModelPolicy = Omit<z.infer<typeof modelPolicy>, 'filter'> & {
  /** Version 2: the records of the model the key may reach (compiled from the document's `filter`). */
  filter?: RecordFilter
}
export interface Policy {
  version: 1 | 2
  models: Record<string, ModelPolicy>
  ip: CompiledIpRules
  /** Absent: the deployment's DEFAULT_KEY_RATE_LIMIT_PER_MINUTE applies. */
  rateLimit?: { perMinute: number; burst: number }
  /** Absent: no off-hours alerts. */
  workingHours?: { timezone: string; days: number[]; from: number; to: number }
  /** Version 2: `allowed_company_ids` of every call. Absent: the Odoo user's own default. */
  companies?: number[]
}

export type PolicyParseResult = { ok: true; policy: Policy } | { ok: false; errors: string[] }

/** Formats a zod path as a JSON path: `$.models["sale.order"].fields[2]`. */
function jsonPath(path: PropertyKey[]): string {
  return (
    '$' +
    path
      .map((part) =>
        typeof part === 'number' ? `[${part}]` : /^[A-Za-z_][A-Za-z0-9_]*$/.test(String(part)) ? `.${String(part)}` : `[${JSON.stringify(String(part))}]`,
      )
      .join('')
  )
}

/** Validates a policy document (already parsed JSON). Every problem is reported with its JSON path. */
export function parsePolicy(document: unknown): PolicyParseResult {
  const errors = modelNameErrors(document)
  const result = policySchema.safeParse(document)
  if (!result.success) errors.push(...result.error.issues.map((issue) => `${jsonPath(issue.path)}: ${issue.message}`))
  if (errors.length > 0 || !result.success) return { ok: false, errors }
  const policy = result.data as Omit<Policy, 'models'> & { models: Record<string, z.infer<typeof modelPolicy>> }
  const models: Record<string, ModelPolicy> = {}
  for (const [name, entry] of Object.entries(policy.models)) {
    const { filter, ...rest } = entry
    const where = (key: string) => jsonPath(['models', name, key])
    if (policy.version === 1) {
      if (filter !== undefined) errors.push(`${where('filter')}: record filters need "version": 2`)
      if (rest.mask) errors.push(`${where('mask')}: masks need "version": 2`)
    }
    for (const field of rest.mask?.keys() ?? []) {
      if (field === 'id') errors.push(`${jsonPath(['models', name, 'mask', field])}: 'id' cannot be masked (every answer carries it)`)
      else if (rest.fields !== '*' && !rest.fields.has(field)) {
        errors.push(`${jsonPath(['models', name, 'mask', field])}: a masked field must also be in "fields" (the mask says how it is shown)`)
      }
    }
    const model: ModelPolicy = rest
    if (filter !== undefined) {
      const compiled = compileRecordFilter(filter, policy.companies !== undefined)
      if (compiled.ok) model.filter = compiled.filter
      else errors.push(...compiled.errors.map((error) => `${where('filter')}: ${error}`))
    }
    models[name] = model
  }
  if (policy.version === 1 && policy.companies) errors.push('$.companies: company pinning needs "version": 2')
  if (errors.length > 0) return { ok: false, errors }
  return { ok: true, policy: { ...policy, models } as Policy }
}

function modelNameErrors(document: unknown): string[] {
  const models = (document as { models?: unknown } | null)?.models
  if (!models || typeof models !== 'object' || Array.isArray(models)) return []
  const names = Object.keys(models)
  const errors = names
    .filter((name) => name !== '*' && !MODEL_NAME.test(name))
    .map((name) => `${jsonPath(['models', name])}: '${name}' is not a model name (such as res.partner), nor "*"`)
  if (names.length > MAX_MODELS) errors.push(`$.models: at most ${MAX_MODELS} models`)
  return errors
}

/** Parses policy JSON text (as stored in D1 or read from a file). */
export function parsePolicyText(text: string): PolicyParseResult {
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch (error) {
    return { ok: false, errors: [`$: not valid JSON (${error instanceof Error ? error.message : String(error)})`] }
  }
  return parsePolicy(document)
}
