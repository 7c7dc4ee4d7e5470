/**
 * Zod schemas shared by the tools. They stay plain (objects, arrays, strings, numbers; no top-level anyOf/oneOf, no
 * $ref or recursion) because some model providers reject complex JSON Schemas; the complex parts (domains) are
 * validated in code. The one combinator is nested: a domain term is a logical operator or a condition (anyOf in
 * `items`, which providers accept).
 *
 * Every property of every tool's input and output schema has a real JSON Schema type (clients such as MCP Inspector
 * flag `{}`, "accepts anything"), whole numbers are `integer` (fastmcp and the Python SDK turn `number` into floats:
 * `id=69.0`), and an argument has the same limits in every tool that takes it (test/worker/mcp/schema-shape.test.ts).
 *
 * Where the code checks a value more precisely than a schema can, with messages that name the bad part (domains:
 * src/domain/domain.ts; field values: src/guard/values-check.ts), the zod schema checks only the container and the
 * JSON Schema clients see spells out the item types with `.meta()`. The same goes for the values of records read
 * from Odoo: the SDK validates every answer against the output schema, and checking every value of a 500-record page
 * would cost CPU to confirm what JSON already guarantees.
 */
import { z } from 'zod'

/** Most records (search_records), groups (aggregate_records) or models (list_models) in one call. */
export const MAX_LIMIT = 500
/** Search pages: 50 records unless asked otherwise. */
export const DEFAULT_SEARCH_LIMIT = 50
/** Most records or groups skipped by paging: beyond this, narrow the domain instead. */
export const MAX_OFFSET = 10_000_000
/** Most ids in one read/update/delete. */
export const MAX_IDS = 500

/** Every JSON type: a value in a record read from Odoo, or written to it, can be any of them (json fields hold objects). */
export const JSON_VALUE = { type: ['string', 'number', 'boolean', 'null', 'array', 'object'] }
/** A domain's condition value: a scalar, a list of scalars (`in`), or a domain (`any`). */
const DOMAIN_VALUE_TYPES = ['string', 'number', 'boolean', 'null', 'array']

export const modelName = z
  .string()
  .regex(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/, 'a technical model name such as res.partner or sale.order')
  .max(128)
  .describe('Technical model name, e.g. "res.partner", "sale.order" (see list_models)')

export const fieldName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'a field name such as email or partner_id')

export const fieldList = z
  .array(fieldName)
  .min(1, 'list at least one field, or omit "fields" for the default set')
  .max(200)
  .describe('Fields to return. Omit for the default set (all readable, non-binary fields). See describe_model.')

/**
 * One term of a domain as clients see it: a logical operator, or a [field, operator, value] condition. Zod lets any
 * term through to parseDomain, whose refusals say which term is wrong and why ("term 2 (...): unknown operator").
 */
const domainTerm = z.unknown().meta({
  anyOf: [
    { type: 'string', enum: ['|', '&', '!'], description: 'A logical operator, placed before its operands' },
    {
      type: 'array',
      minItems: 3,
      maxItems: 3,
      description: 'A [field, operator, value] condition',
      items: { type: DOMAIN_VALUE_TYPES, items: { type: DOMAIN_VALUE_TYPES } },
    },
  ],
})

export const domain = z
  .array(domainTerm)
  .max(200)
  .describe(
    'Odoo domain: a JSON array of [field, operator, value] conditions in prefix notation, implicitly AND-ed. ' +
      'Operators: = != < > <= >= =? in "not in" like ilike =like =ilike "not like" "not ilike" child_of parent_of ' +
      'any "not any" (any: the value is a domain on the related model, e.g. ["order_line","any",[["product_id","=",5]]]). ' +
      'Combine with "|" (or), "&" (and), "!" (not) placed BEFORE their operands. ' +
      'Dotted paths follow relational fields. Compare relational fields with ids; to match a related record by name use ' +
      'a dotted path such as ["partner_id.name","ilike","acme"]. Examples: [["is_company","=",true],["country_id.code","=","BE"]], ' +
      '["|",["state","=","sale"],["amount_total",">",1000]]. Omit or [] for all records.',
  )

export const recordId = z.number().int().positive()

export const recordIds = z
  .array(recordId)
  .min(1)
  .max(MAX_IDS)
  .describe(`Record ids (1 to ${MAX_IDS})`)

/** The `limit` argument: the same bounds in every tool, each with its own default. */
export function limit(defaultValue: number, what: string) {
  return z.number().int().min(1).max(MAX_LIMIT).default(defaultValue).describe(`${what} (default ${defaultValue}, max ${MAX_LIMIT})`)
}

/** The `offset` argument, for paging. */
export function offset(what: string) {
  return z.number().int().min(0).max(MAX_OFFSET).default(0).describe(`${what} to skip, for paging (default 0)`)
}

export const context = z
  .object({
    lang: z.string().max(16).optional().describe('Language code for translated values, e.g. "fr_FR"'),
    tz: z.string().max(64).optional().describe('Time zone, e.g. "Europe/Brussels"'),
    active_test: z.boolean().optional().describe('false to include archived records'),
  })
  .strict()
  .describe('Optional Odoo context. Only lang, tz and active_test are accepted.')

/** A value to write: checked against the field by the guard (x2many commands) and by Odoo. */
const fieldValue = z.unknown().meta({
  ...JSON_VALUE,
  description: 'A field value: text, number, boolean, null or false to clear, an id (many2one), a list of ids or of commands (one2many, many2many)',
})

export const values = z
  .record(fieldName, fieldValue)
  .refine((v) => Object.keys(v).length > 0, 'give at least one field value')
  .meta({ minProperties: 1 })
  .describe(
    'Field values, e.g. {"name": "Acme", "email": "info@acme.example"}. many2one: an id. one2many/many2many: a list of ' +
      'ids (replaces the records) or of commands such as [0, 0, {"name": "..."}] (create), [4, id] (link), [3, id] ' +
      '(unlink), [6, 0, [ids]] (set). See describe_model.',
  )

export const order = z
  .string()
  .max(500)
  .describe('Sort order, e.g. "date_order desc, name asc". Default: the model\'s own order. Ties are broken by id; a many2one sorts by the related record\'s order, or by its id when this key may not see what that order uses.')

/** Output: a count of records or groups. */
export const countOf = z.number().int().nonnegative()

/**
 * Output: one record as read from Odoo: its id, and each field asked for. Only `id` is checked: see the top of this
 * file (a z.record would check every key of every record, ~2 ms of CPU for a 500-record page of 20 fields).
 */
export const recordOutput = z.looseObject({ id: recordId }).meta({ additionalProperties: JSON_VALUE })
