/** Write tools: create, update, delete. Each is a separate operation for the guard (create, write, unlink). */
import { z } from 'zod'
import { context, modelName, recordId, recordIds, values } from '../schemas'
import { defineTool } from '../tool'

export const createRecord = defineTool({
  name: 'create_record',
  title: 'Create an Odoo record',
  description:
    'Creates one record of a model with the given field values and returns its id. Odoo applies its defaults, ' +
    'required-field checks and business rules; a refusal comes back with Odoo\'s own message (e.g. ValidationError). ' +
    'Check field names and required fields with describe_model first.',
  inputSchema: { model: modelName, values, context: context.optional() },
  outputSchema: { id: recordId },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  requires: 'create',
  plan: (args) => ({ tool: 'create_record', model: args.model, operation: 'create', values: args.values, context: args.context }),
  async execute(request, odoo) {
    return { id: await odoo.create(request) }
  },
})

export const updateRecords = defineTool({
  name: 'update_records',
  title: 'Update Odoo records',
  description:
    'Writes the same field values to one or more records (by id). Existing values of those fields are overwritten. ' +
    'Fails as a whole, with Odoo\'s message, if any record is missing or the change is refused.',
  inputSchema: { model: modelName, ids: recordIds, values, context: context.optional() },
  outputSchema: { updated: z.array(recordId) },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  requires: 'write',
  plan: (args) => ({ tool: 'update_records', model: args.model, operation: 'write', ids: args.ids, values: args.values, context: args.context }),
  async execute(request, odoo) {
    await odoo.write(request)
    return { updated: request.ids! }
  },
})

export const deleteRecords = defineTool({
  name: 'delete_records',
  title: 'Delete Odoo records',
  description:
    'Permanently deletes records (by id). This cannot be undone; prefer archiving (update_records with ' +
    '{"active": false}) when the model supports it. Odoo may refuse, e.g. for confirmed sale orders.',
  inputSchema: { model: modelName, ids: recordIds, context: context.optional() },
  outputSchema: { deleted: z.array(recordId) },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
  requires: 'unlink',
  plan: (args) => ({ tool: 'delete_records', model: args.model, operation: 'unlink', ids: args.ids, context: args.context }),
  async execute(request, odoo) {
    await odoo.unlink(request)
    return { deleted: request.ids! }
  },
})
