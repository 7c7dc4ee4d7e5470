/** Discovery tools: which models exist and what their fields are. */
import { z } from 'zod'
import { context, JSON_VALUE, limit, modelName } from '../schemas'
import { defineTool } from '../tool'

/**
 * One field as describe_model returns it: the attributes the gateway asks of fields_get (FIELD_ATTRIBUTES in
 * src/odoo/metadata.ts), each only when Odoo gives it.
 */
const fieldInfo = z
  .looseObject({
    type: z.string(),
    string: z.string().optional(),
    required: z.boolean().optional(),
    readonly: z.boolean().optional(),
    relation: z.string().optional(),
    // [value, label] pairs; Odoo allows values other than strings.
    selection: z.array(z.array(z.unknown().meta(JSON_VALUE))).optional(),
    related: z.union([z.string(), z.boolean(), z.null()]).optional(),
    relation_field: z.union([z.string(), z.boolean(), z.null()]).optional(),
  })
  .meta({ additionalProperties: JSON_VALUE })

export const listModels = defineTool({
  name: 'list_models',
  title: 'List Odoo models',
  description:
    'Lists the Odoo models (tables) this API key can use, with their technical name and label. ' +
    'Start here to find the model for a business object, e.g. search "partner" to find res.partner (contacts and companies), ' +
    '"sale" for sale.order. Then call describe_model to see its fields.',
  inputSchema: {
    search: z.string().max(100).optional().describe('Case-insensitive text to match in the technical name or label'),
    // A full Odoo has several hundred models: agents should search rather than page.
    limit: limit(200, 'Maximum models to return'),
  },
  outputSchema: {
    models: z.array(z.object({ model: z.string(), name: z.string() })),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  // The guard shows it the models of the policy whatever their operations (guard.visibleModels).
  requires: 'any',
  plan: (args) => ({ tool: 'list_models', model: 'ir.model', operation: 'read', fields: ['model', 'name'], search: args.search, limit: args.limit }),
  async execute(request, odoo) {
    return { models: await odoo.listModels(request) }
  },
})

export const describeModel = defineTool({
  name: 'describe_model',
  title: 'Describe an Odoo model',
  description:
    'Returns the fields of one Odoo model that this key may use: technical name, label, type, whether required or ' +
    'read-only, the related model of relational fields (many2one, one2many, many2many) and the allowed values of ' +
    'selection fields. Call it before searching, filtering or writing, to use the exact field names.',
  inputSchema: { model: modelName, context: context.optional() },
  outputSchema: { model: z.string(), fields: z.record(z.string(), fieldInfo) },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  requires: 'read',
  plan: (args) => ({ tool: 'describe_model', model: args.model, operation: 'read', context: args.context }),
  async execute(request, odoo) {
    return { model: request.model, fields: await odoo.fieldsGet(request) }
  },
})
