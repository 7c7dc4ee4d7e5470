// A failed ORM call changes nothing, as in Odoo where each RPC call runs in one database transaction that an
// exception rolls back: deleting a contact that a company still requires (ondelete restrict) must not leave its
// child contacts detached, which the unlink had already done before reaching the restricted reference.
import { describe, expect, it } from 'vitest'
import { createState, handleOdooRequest } from '../odoo-sim/handler'

function call(state: ReturnType<typeof createState>, model: string, method: string, args: unknown[], kwargs: Record<string, unknown> = {}) {
  const response = handleOdooRequest(state, {
    method: 'POST',
    path: '/jsonrpc',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'call', id: 1, params: { service: 'object', method: 'execute_kw', args: ['mcp_demo', 2, 'admin', model, method, args, kwargs] } }),
  })
  return JSON.parse(response.body) as { result?: unknown; error?: { data: { name: string } } }
}

describe('simulated Odoo transactions', () => {
  it('rolls back every change of a call that fails', () => {
    const state = createState({ version: 18 })
    // Partner 1 is the company's partner (res.company.partner_id is required: restrict) and has child contacts.
    const before = call(state, 'res.partner', 'search_read', [[['parent_id', '=', 1]]], { fields: ['id'], context: { active_test: false } })
    expect((before.result as unknown[]).length).toBeGreaterThan(0)
    const failed = call(state, 'res.partner', 'unlink', [[1]])
    expect(failed.error?.data.name).toBe('odoo.exceptions.ValidationError')
    const after = call(state, 'res.partner', 'search_read', [[['parent_id', '=', 1]]], { fields: ['id'], context: { active_test: false } })
    expect(after.result).toEqual(before.result)
  })

  it('keeps the changes of a call that succeeds', () => {
    const state = createState({ version: 18 })
    const created = call(state, 'res.partner', 'create', [[{ name: 'Kept' }]])
    const id = (created.result as number[])[0]!
    expect(call(state, 'res.partner', 'read', [[id]], { fields: ['name'] }).result).toEqual([{ id, name: 'Kept' }])
  })
})
