/** The consent page's plain words for a connector profile's policy (src/oauth/policy-words.ts), version 2 included. */
import { describe, expect, it } from 'vitest'
import { describeProfile } from '../../../src/oauth/policy-words'

const profile = (policy: object) => ({ policy: JSON.stringify(policy), tokenTtlSeconds: 3600, connectionTtlSeconds: 86_400 * 30 })

describe('consent words', () => {
  it('tells the user about record filters, masks and pinned companies before they consent', () => {
    const words = describeProfile(
      profile({
        version: 2,
        companies: [3],
        models: { 'res.partner': { operations: ['read', 'write'], fields: ['name', 'email'], filter: [['user_id', '=', '$uid']], mask: { email: 'partial' } } },
      }),
      600,
    )
    expect(words.models).toEqual([{ model: 'res.partner', operations: 'read, update', fields: 'only name, email; masked: email (partial); only records matching [["user_id","=","$uid"]]' }])
    expect(words.limits).toContain('Only in companies 3 of your Odoo user.')
  })

  it('words a version 1 policy as before', () => {
    const words = describeProfile(profile({ version: 1, models: { 'sale.order': { operations: ['read'], fields: '*' } } }), 600)
    expect(words.models).toEqual([{ model: 'sale.order', operations: 'read', fields: 'all fields your Odoo user may see' }])
    expect(words.limits.some((line) => line.startsWith('Only in companies'))).toBe(false)
  })
})
