/** Discovery tools: which models exist and what their fields are. */
import { z } from 'zod'
import { context, modelName } from '../schemas'
import { defineTool } from '../tool'

/** Most models listed in one call; a full Odoo has several hundred, agents should search instead. */
const MAX_MODELS = 1000

export const listModels = defineTool({
  name: 'list_models',
  title: 'List Odoo models',
  description:
    'Lists the Odoo models (tables) this API key can use, with their technical name and label. ' +
    'Start here to find the model for a business object, e.g. search "partner" to find res.partner (contacts and companies), ' +
    '"sale" for sale.order. Then call describe_model to see its fields.',
  inputSchema: {
    search: z.string().max(100).optional().describe('Case-insensitive text to match in the technical name or label'),
    limit: z.number().int().min(1).max(MAX_MODELS).default(200).describe(`Maximum models to return (default 200, max ${MAX_MODELS})`),
  },
  outputSchema: {
    models: z.array(z.object({ model: z.string(), name: z.string() })),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
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
  outputSchema: { model: z.string(), fields: z.record(z.string(), z.record(z.string(), z.unknown())) },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  plan: (args) => ({ tool: 'describe_model', model: args.model, operation: 'read', context: args.context }),
  async execute(request, odoo) {
    return { model: request.model, fields: await odoo.fieldsGet(request) }
  },
})
