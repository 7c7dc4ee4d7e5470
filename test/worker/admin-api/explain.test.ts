/**
 * GET /admin/v1/keys/:id/explain and POST /admin/v1/policy/explain (`odoo-mcp keys explain`, `policy explain`): the
 * policy intersected with what Odoo lets the key's user do, asked as that user. Checked against the simulator's
 * access rights for three users whose rights differ (test/odoo-sim/README.md), and against the real calls.
 */
import { describe, expect, it } from 'vitest'
import { callTool, createTestKey, odooApiKey } from '../helpers'
import { admin } from './client'

interface ModelJson {
  model: string
  entry: string
  operations: { allowed: string[]; in_policy: string[]; refused_by_odoo: string[] }
  fields: { readable: string[]; masked: Record<string, string>; listed_but_not_shown_by_odoo: string[] }
  record_filter: { written: unknown[]; for_this_user: unknown[] } | null
  display_names: boolean
  name_search: boolean
  notes: string[]
}
interface ExplainJson {
  key?: { id: string; status: string }
  odoo_user: { login: string; uid: number | null }
  policy: { version: number | null; companies: number[] | null; rate_limit: { per_minute: number; from: string } }
  tools: { available: string[]; unavailable: { tool: string; reason: string }[] }
  models: ModelJson[]
  wildcard: unknown
  notes: string[]
}

const POLICY = {
  version: 2,
  models: {
    'sale.order': { operations: ['read', 'write', 'unlink'], fields: ['name', 'state', 'amount_total', 'no_such_field'], filter: [['user_id', '=', '$uid']] },
    'hr.employee': { operations: ['read'], fields: ['name', 'job_title', 'private_email'] },
    'res.partner': { operations: ['read'], fields: '*', mask: { email: 'partial' } },
  },
  rateLimit: { perMinute: 30 },
}

async function explain(id: string, query = ''): Promise<ExplainJson> {
  const answer = await admin<ExplainJson>('GET', `/keys/${id}/explain${query}`)
  expect(answer.status, JSON.stringify(answer.body)).toBe(200)
  return answer.body
}

const modelOf = (body: ExplainJson, model: string) => body.models.find((entry) => entry.model === model)!

describe('keys explain', () => {
  it("intersects the policy with the user's Odoo rights, and each allowed operation works for real", async () => {
    for (const login of ['sales_agent', 'sales_manager', 'internal_user']) {
      const { id, key } = await createTestKey({ login, secret: odooApiKey(login), policy: POLICY })
      const body = await explain(id)
      const order = modelOf(body, 'sale.order')
      expect(order.operations.in_policy).toEqual(['read', 'write', 'unlink'])
      // The reference: what the real call answers. A refused read is Odoo's AccessError on the model.
      const read = await callTool(key, 'count_records', { model: 'sale.order' })
      expect(order.operations.allowed.includes('read'), `${login}: ${read.text}`).toBe(!read.result?.isError)
      expect(order.fields.listed_but_not_shown_by_odoo).toContain('no_such_field')
      expect(order.record_filter?.written).toEqual([['user_id', '=', '$uid']])
      expect(order.record_filter?.for_this_user).toEqual([['user_id', '=', body.odoo_user.uid]])
      expect(body.policy.rate_limit).toMatchObject({ per_minute: 30, from: 'policy' })
      expect(modelOf(body, 'res.partner').fields.masked).toEqual({ email: 'partial' })
      expect(modelOf(body, 'res.partner').name_search).toBe(false)
    }
    const agent = await createTestKey({ login: 'sales_agent', secret: odooApiKey('sales_agent'), policy: POLICY })
    const body = await explain(agent.id)
    expect(body.odoo_user).toEqual({ login: 'sales_agent', uid: 8 })
    expect(modelOf(body, 'sale.order').operations.refused_by_odoo).toEqual(['unlink'])
    // Odoo hides private_email from a user without HR rights: the policy lists it, the user never gets it.
    expect(modelOf(body, 'hr.employee').fields.readable).not.toContain('private_email')
    expect(body.tools.available).toEqual(expect.arrayContaining(['search_records', 'update_records', 'delete_records']))
    expect(body.tools.unavailable.map((entry) => entry.tool)).toContain('create_record')
  })

  it('explains one model, even reached through "*", and says when a model is not reachable', async () => {
    const { id } = await createTestKey({ login: 'sales_manager', secret: odooApiKey('sales_manager'), policy: { version: 1, models: { '*': { operations: ['read'], fields: '*' } } } })
    const one = await explain(id, '?model=res.partner')
    expect(one.models).toHaveLength(1)
    expect(one.models[0]).toMatchObject({ model: 'res.partner', entry: 'wildcard', operations: { allowed: ['read'] } })
    const sensitive = await explain(id, '?model=res.users.apikeys')
    expect(sensitive.models).toEqual([])
    expect(sensitive.notes.join('\n')).toMatch(/'res.users.apikeys' is not reachable/)
    const bad = await admin('GET', `/keys/${id}/explain?model=Not%20A%20Model`)
    expect(bad.status).toBe(400)
  })

  it('warns when the key is pinned to a company the user does not have', async () => {
    const { id } = await createTestKey({ login: 'sales_agent', secret: odooApiKey('sales_agent'), policy: { version: 2, companies: [1, 4242], models: {} } })
    const body = await explain(id)
    expect(body.policy.companies).toEqual([1, 4242])
    expect(body.notes.join('\n')).toMatch(/pinned to companies 4242, which are not among the Odoo user's companies/)
  })

  it('says a key without a policy may use nothing', async () => {
    const { id } = await createTestKey({ login: 'sales_agent', secret: odooApiKey('sales_agent') })
    const body = await explain(id)
    expect(body.models).toEqual([])
    expect(body.notes[0]).toMatch(/no policy/)
    expect(body.tools.available).toEqual([])
  })
})

describe('policy explain (dry run)', () => {
  it('explains a policy not stored yet for a login, the same as for a stored key', async () => {
    const stored = await createTestKey({ login: 'sales_agent', secret: odooApiKey('sales_agent'), policy: POLICY })
    const fromKey = await explain(stored.id)
    const dry = await admin<ExplainJson>('POST', '/policy/explain', { policy: POLICY, odoo_login: 'sales_agent', odoo_secret: odooApiKey('sales_agent') })
    expect(dry.status, JSON.stringify(dry.body)).toBe(200)
    const { key: _key, ...rest } = fromKey
    expect(dry.body).toEqual(rest)
  })

  it('refuses an invalid policy and wrong credentials with a 4xx saying what was wrong', async () => {
    const invalid = await admin<{ error: string; details: string[] }>('POST', '/policy/explain', { policy: { version: 1, models: { 'sale.order': { operations: ['read'], fields: '*', filter: [] } } }, odoo_login: 'sales_agent', odoo_secret: 'x' })
    expect(invalid.status).toBe(400)
    expect(invalid.body.details.join('\n')).toMatch(/record filters need "version": 2/)
    const wrong = await admin<{ error: string }>('POST', '/policy/explain', { policy: POLICY, odoo_login: 'sales_agent', odoo_secret: 'wrong-secret' })
    expect(wrong.status).toBeGreaterThanOrEqual(400)
    expect(wrong.status).toBeLessThan(500)
  })
})
