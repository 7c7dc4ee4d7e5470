/**
 * Zod schemas shared by the tools. They stay plain (objects, arrays, strings, numbers; no top-level anyOf/oneOf)
 * because some model providers reject complex JSON Schemas; the complex parts (domains) are validated in code.
 */
import { z } from 'zod'

/** Search pages: 50 records unless asked otherwise, never more than 500 in one call. */
export const DEFAULT_SEARCH_LIMIT = 50
export const MAX_SEARCH_LIMIT = 500
/** Most ids in one read/update/delete. */
export const MAX_IDS = 500

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

export const domain = z
  .array(z.any())
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

export const recordIds = z
  .array(z.number().int().positive())
  .min(1)
  .max(MAX_IDS)
  .describe(`Record ids (1 to ${MAX_IDS})`)

export const context = z
  .object({
    lang: z.string().max(16).optional().describe('Language code for translated values, e.g. "fr_FR"'),
    tz: z.string().max(64).optional().describe('Time zone, e.g. "Europe/Brussels"'),
    active_test: z.boolean().optional().describe('false to include archived records'),
  })
  .strict()
  .describe('Optional Odoo context. Only lang, tz and active_test are accepted.')

export const values = z
  .record(fieldName, z.unknown())
  .refine((v) => Object.keys(v).length > 0, 'give at least one field value')
  .describe('Field values, e.g. {"name": "Acme", "email": "info@acme.example"}. many2one: an id. See describe_model.')

export const order = z
  .string()
  .max(500)
  .describe('Sort order, e.g. "date_order desc, name asc". Default: the model\'s own order. Ties are broken by id; a many2one sorts by the related record\'s order, or by its id when this key may not see what that order uses.')
