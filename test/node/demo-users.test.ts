/**
 * The demo users `npm start` and the README present to a newcomer: every claim about what a user may do is checked
 * against the demo Odoo itself (the simulator `npm start` runs, Odoo 19, database mcp_demo), and the README lists
 * exactly the users and secrets the banner prints.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_USER_INFO, demoUserLines } from '../../cli/start/demo-users'
import { startOdooSimulator, type RunningSimulator } from '../odoo-sim/server'
import { projectRoot } from '../support/wrangler'

let odoo: RunningSimulator

beforeAll(async () => {
  odoo = await startOdooSimulator({ version: 19 })
})

afterAll(() => odoo.close())

interface Outcome {
  result?: unknown
  error?: { data: { name: string } }
}

async function rpc(service: string, method: string, args: unknown[]): Promise<Outcome> {
  const response = await fetch(`${odoo.url}/jsonrpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'call', id: 1, params: { service, method, args } }),
  })
  return (await response.json()) as Outcome
}

/** Logs in as the user with the API key the banner prints, then calls model.method as that user. */
async function as(login: string, model: string, method: string, args: unknown[], kwargs: Record<string, unknown> = {}): Promise<Outcome> {
  const user = DEMO_USER_INFO.find((candidate) => candidate.login === login)!
  const uid = (await rpc('common', 'authenticate', ['mcp_demo', login, user.apiKey, {}])).result
  expect(uid, `${login} logs in with ${user.apiKey}`).toBe(user.uid)
  return rpc('object', 'execute_kw', ['mcp_demo', uid, user.apiKey, model, method, args, kwargs])
}

async function succeeds(login: string, model: string, method: string, args: unknown[], kwargs?: Record<string, unknown>) {
  const outcome = await as(login, model, method, args, kwargs)
  expect(outcome.error, `${login} ${model}.${method}`).toBeUndefined()
  return outcome.result
}

async function refused(login: string, model: string, method: string, args: unknown[]) {
  const outcome = await as(login, model, method, args)
  expect(outcome.error?.data.name, `${login} ${model}.${method}`).toBe('odoo.exceptions.AccessError')
}

const newContact = [{ name: 'Demo users test contact' }]

describe('what the banner says each demo user may do', () => {
  it('lists every user of the demo Odoo, each logging in with its printed API key and its login as password', async () => {
    expect(DEMO_USER_INFO.map((user) => user.login)).toEqual(['admin', 'demo', 'sales_agent', 'sales_manager', 'internal_user'])
    for (const user of DEMO_USER_INFO) {
      expect((await rpc('common', 'authenticate', ['mcp_demo', user.login, user.login, {}])).result).toBe(user.uid)
      expect((await rpc('common', 'authenticate', ['mcp_demo', user.login, 'wrong', {}])).result).toBe(false)
    }
  })

  it('admin: every model', async () => {
    for (const model of ['sale.order', 'hr.employee', 'res.users', 'res.company', 'product.product']) {
      await succeeds('admin', model, 'search_count', [[]])
    }
  })

  it('demo and sales_manager: all orders, and may create contacts', async () => {
    const all = await succeeds('admin', 'sale.order', 'search_count', [[]])
    for (const login of ['demo', 'sales_manager']) {
      expect(await succeeds(login, 'sale.order', 'search_count', [[]])).toBe(all)
      await succeeds(login, 'res.partner', 'create', [newContact])
    }
  })

  it('sales_agent: only its own orders; reads contacts, may not create them', async () => {
    const all = (await succeeds('admin', 'sale.order', 'search_count', [[]])) as number
    const own = (await succeeds('sales_agent', 'sale.order', 'search_read', [[]], { fields: ['user_id'] })) as { user_id: [number, string] | false }[]
    expect(own.length).toBeGreaterThan(0)
    expect(own.length).toBeLessThan(all)
    expect(own.every((order) => Array.isArray(order.user_id) && order.user_id[0] === 8)).toBe(true)
    expect(await succeeds('sales_agent', 'res.partner', 'search_count', [[]])).toBeGreaterThan(0)
    await refused('sales_agent', 'res.partner', 'create', [newContact])
  })

  it('internal_user: contacts, no sales orders', async () => {
    expect(await succeeds('internal_user', 'res.partner', 'search_count', [[]])).toBeGreaterThan(0)
    await refused('internal_user', 'sale.order', 'search_count', [[]])
  })
})

describe('README', () => {
  it('lists the same demo users, secrets and access as the banner', async () => {
    const readme = await readFile(join(projectRoot, 'README.md'), 'utf8')
    const rows = [...readme.matchAll(/^\| `([a-z_]+)` \| `(odoo-apikey-[a-z_]+)` \| (\d+) \| ([^|]+) \|$/gm)].map((match) => ({
      login: match[1],
      apiKey: match[2],
      uid: Number(match[3]),
      access: match[4]!.trim(),
    }))
    expect(rows).toEqual(DEMO_USER_INFO.map(({ login, apiKey, uid, access }) => ({ login, apiKey, uid, access })))
    expect(demoUserLines()).toHaveLength(rows.length)
  })
})
