/**
 * Field masks (policy version 2) through the real Worker against the simulated Odoo: a masked field comes back
 * masked on every path that returns it, and is refused on every path where its clear value would count (filters,
 * dotted paths, name searches, orders, groups, aggregates, values, related fields, display names).
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { maskHashKey } from '../../../src/lib/crypto'
import { createMaskHasher, maskValue, REDACTED } from '../../../src/policy/masks'
import { callTool, createTestKey, odooApiKey } from '../helpers'
import { FULL_ACCESS } from '../mcp/policies'

type Row = Record<string, unknown> & { id: number }

const MASKED = {
  version: 2,
  models: {
    'res.partner': {
      operations: ['read', 'write'],
      fields: '*',
      mask: { email: 'partial', phone: 'last4', ref: 'hash', vat: 'redact' },
    },
    'res.users': { operations: ['read'], fields: '*' },
    'sale.order': { operations: ['read'], fields: ['name', 'partner_id', 'amount_total'] },
  },
}

let full = ''
let masked = { id: '', key: '' }

async function ok(key: string, tool: string, args: Record<string, unknown>) {
  const result = await callTool(key, tool, args)
  expect(result.result?.isError, result.text).toBeFalsy()
  return result.result!.structuredContent as Record<string, unknown>
}

async function refused(tool: string, args: Record<string, unknown>): Promise<string> {
  const result = await callTool(masked.key, tool, args)
  expect(result.result?.isError, JSON.stringify(result.result?.structuredContent)).toBe(true)
  return result.text
}

beforeAll(async () => {
  full = (await createTestKey({ login: 'admin', secret: odooApiKey('admin'), policy: FULL_ACCESS })).key
  masked = await createTestKey({ login: 'admin', secret: odooApiKey('admin'), policy: MASKED })
})

describe(`field masks (${env.ODOO_PROTOCOL})`, () => {
  it('returns masked values on search and read, equal to the mask of the clear value', async () => {
    const fields = ['name', 'email', 'phone', 'ref', 'vat']
    const clear = (await ok(full, 'search_records', { model: 'res.partner', fields, limit: 200 })).records as Row[]
    const hasher = createMaskHasher(await maskHashKey(env.CREDENTIALS_KEY, masked.id))
    const expected = await Promise.all(
      clear.map(async (row) => ({
        id: row.id,
        name: row.name,
        email: await maskValue(row.email, 'partial', hasher),
        phone: await maskValue(row.phone, 'last4', hasher),
        ref: await maskValue(row.ref, 'hash', hasher),
        vat: REDACTED,
      })),
    )
    expect((await ok(masked.key, 'search_records', { model: 'res.partner', fields, limit: 200 })).records).toEqual(expected)
    const ids = clear.slice(0, 5).map((row) => row.id)
    expect((await ok(masked.key, 'read_records', { model: 'res.partner', ids, fields })).records).toEqual(expected.slice(0, 5))
    // The default field set carries masked fields masked too.
    const defaults = (await ok(masked.key, 'read_records', { model: 'res.partner', ids: [ids[1]!] })).records as Row[]
    expect(defaults[0]!.vat).toBe(REDACTED)
    expect(defaults[0]!.email).toBe(expected[1]!.email)
    // And no clear e-mail appears anywhere in an answer.
    const raw = (await callTool(masked.key, 'search_records', { model: 'res.partner', limit: 200 })).raw
    for (const row of clear) if (typeof row.email === 'string' && row.email) expect(raw).not.toContain(row.email)
  })

  it('says in describe_model which fields are masked, and that they are read-only', async () => {
    const { fields } = (await ok(masked.key, 'describe_model', { model: 'res.partner' })) as { fields: Record<string, Record<string, unknown>> }
    expect(fields.email).toMatchObject({ mask: 'partial', readonly: true })
    expect(fields.name!.mask).toBeUndefined()
  })

  it.each([
    ['a domain', 'search_records', { model: 'res.partner', domain: [['email', 'ilike', 'a']] }],
    ['a count', 'count_records', { model: 'res.partner', domain: [['vat', '!=', false]] }],
    ['a dotted path', 'search_records', { model: 'sale.order', domain: [['partner_id.email', '=like', 'a%']] }],
    ['an any sub-domain', 'search_records', { model: 'sale.order', domain: [['partner_id', 'any', [['phone', 'like', '5']]]] }],
    ['an order', 'search_records', { model: 'res.partner', order: 'ref asc' }],
    ['a groupby', 'aggregate_records', { model: 'res.partner', groupby: ['ref'] }],
    ['an aggregate', 'aggregate_records', { model: 'res.partner', groupby: ['is_company'], aggregates: ['email:count_distinct'] }],
    ['the values to write', 'update_records', { model: 'res.partner', ids: [1], values: { email: 'x@example.com' } }],
  ])('refuses a masked field in %s', async (_where, tool, args) => {
    expect(await refused(tool, args)).toMatch(/only masked \((partial|last4|hash|redact)\): it can be read, but not filtered, sorted, grouped, aggregated or written/)
  })

  it('refuses a name search on a model with masks (it matches e-mail, reference and VAT)', async () => {
    expect(await refused('search_records', { model: 'sale.order', domain: [['partner_id', 'ilike', 'gemini']] })).toMatch(/name search on 'res.partner'/)
  })

  it('hides display names of a model with masks under "*" (Odoo may compose them from a masked field)', async () => {
    const rows = (await ok(masked.key, 'search_records', { model: 'sale.order', fields: ['partner_id'], limit: 5 })).records as Row[]
    expect(rows.length).toBeGreaterThan(0)
    for (const row of rows) expect(typeof row.partner_id).toBe('number')
  })

  it('hides a related field mirroring a masked field under "*"', async () => {
    expect(await refused('read_records', { model: 'res.users', ids: [2], fields: ['email'] })).toMatch(/Field 'email' of model 'res.users' is not allowed/)
  })
})
