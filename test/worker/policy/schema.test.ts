import { describe, expect, it } from 'vitest'
import { parsePolicy, parsePolicyText } from '../../../src/policy/schema'

const example = {
  version: 1,
  models: {
    'sale.order': { operations: ['read'], fields: ['name', 'date_order', 'amount_total', 'state', 'order_line'] },
    'res.partner': { operations: ['read', 'create', 'write'], fields: '*' },
  },
  ip: { allow: ['203.0.113.0/24', '2001:db8::/32'], deny: ['203.0.113.7'] },
}

function errorsOf(document: unknown): string[] {
  const result = parsePolicy(document)
  expect(result.ok).toBe(false)
  return result.ok ? [] : result.errors
}

describe('policy schema', () => {
  it('accepts the README example', () => {
    const result = parsePolicy(example)
    expect(result.ok).toBe(true)
    if (!result.ok) return
    expect([...result.policy.models['sale.order']!.operations]).toEqual(['read'])
    expect(result.policy.models['res.partner']!.fields).toBe('*')
    expect(result.policy.ip.allow.map((r) => r.source)).toEqual(['203.0.113.0/24', '2001:db8::/32'])
  })

  it('defaults the ip section to no restriction', () => {
    const result = parsePolicy({ version: 1, models: {} })
    expect(result.ok && result.policy.ip).toEqual({ allow: [], deny: [] })
  })

  it('reports each problem with its JSON path', () => {
    const errors = errorsOf({
      version: 3,
      models: {
        'Sale Order': { operations: ['read'], fields: '*' },
        'sale.order': { operations: ['read', 'delete'], fields: ['name', 'bad field'] },
        'res.partner': { operations: [], fields: 'all' },
      },
      ip: { allow: ['10.0.0.0/8', '300.1.1.1'] },
      extra: true,
    })
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\$\.version: version must be 1 or 2/),
        expect.stringMatching(/^\$\.models\["Sale Order"\]: 'Sale Order' is not a model name/),
        expect.stringMatching(/^\$\.models\["sale\.order"\]\.operations\[1\]: operations are read, create, write, unlink/),
        expect.stringMatching(/^\$\.models\["sale\.order"\]\.fields\[1\]: "bad field" is not a field name/),
        expect.stringMatching(/^\$\.models\["res\.partner"\]\.operations: list at least one operation/),
        expect.stringMatching(/^\$\.models\["res\.partner"\]\.fields: fields must be "\*" or a list/),
        expect.stringMatching(/^\$\.ip\.allow\[1\]: '300\.1\.1\.1' is not a valid address/),
        expect.stringMatching(/^\$: Unrecognized key.*extra/),
      ]),
    )
  })

  it.each([
    ['012.0.0.1', 'leading zero (octal in some parsers)'],
    ['1.2.3.04', 'leading zero'],
    ['127.1', 'short form'],
    ['0x7f.0.0.1', 'hex'],
    ['256.1.1.1', 'octet out of range'],
    ['1.2.3.4/33', 'prefix out of range'],
    ['1.2.3.4/08', 'prefix with leading zero'],
    ['fe80::1%eth0', 'zone id'],
    ['fe80::1%25eth0', 'URL-encoded zone id'],
    ['2001:db8::/129', 'IPv6 prefix out of range'],
    ['2001:db8:::1', 'bad IPv6'],
    ['::ffff:10.0.0.0/8', 'IPv4-mapped range with a short prefix'],
    ['10.0.0.0/8/8', 'two prefixes'],
    ['', 'empty'],
    [' ', 'blank'],
    ['localhost', 'a host name'],
  ])('refuses the malformed rule %j (%s) when the policy is set', (rule) => {
    const errors = errorsOf({ version: 1, models: {}, ip: { deny: [rule] } })
    expect(errors[0]).toMatch(/^\$\.ip\.deny\[0\]: .* is not a valid address or CIDR range/)
  })

  it('reports invalid JSON text', () => {
    const result = parsePolicyText('{"version": 1,')
    expect(result.ok).toBe(false)
    expect(!result.ok && result.errors[0]).toMatch(/^\$: not valid JSON/)
  })

  describe('version 2: record filters, masks, company pinning', () => {
    const v2 = {
      version: 2,
      companies: [1, 3],
      models: {
        'sale.order': { operations: ['read'], fields: ['name', 'user_id'], filter: [['user_id', '=', '$uid'], ['company_id', 'in', '$company_ids']] },
        'res.partner': { operations: ['read'], fields: ['name', 'email', 'vat'], filter: ['|', ['create_date', '>=', '$today'], ['partner_id', 'any', [['user_id', '=', '$uid']]]], mask: { email: 'partial', vat: 'last4' } },
      },
    }

    it('accepts filters with placeholders, masks and companies, and records which placeholders a filter uses', () => {
      const result = parsePolicy(v2)
      expect(result.ok, JSON.stringify(!result.ok && result.errors)).toBe(true)
      if (!result.ok) return
      expect(result.policy.companies).toEqual([1, 3])
      expect([...result.policy.models['sale.order']!.filter!.placeholders].sort()).toEqual(['$company_ids', '$uid'])
      expect([...result.policy.models['res.partner']!.filter!.placeholders].sort()).toEqual(['$today', '$uid'])
      expect(Object.fromEntries(result.policy.models['res.partner']!.mask!)).toEqual({ email: 'partial', vat: 'last4' })
    })

    it.each([
      [{ version: 1, models: { 'sale.order': { operations: ['read'], fields: '*', filter: [] } } }, /filter: record filters need "version": 2/],
      [{ version: 1, models: { 'sale.order': { operations: ['read'], fields: '*', mask: { name: 'hash' } } } }, /mask: masks need "version": 2/],
      [{ version: 1, companies: [1], models: {} }, /^\$\.companies: company pinning needs "version": 2/],
      [{ version: 2, models: { m: { operations: ['read'], fields: '*', filter: [['a', '=', '$me']] } } }, /filter: unknown placeholder "\$me"/],
      [{ version: 2, models: { m: { operations: ['read'], fields: '*', filter: [['company_id', 'in', '$company_ids']] } } }, /"\$company_ids" needs the key pinned to companies/],
      [{ version: 2, companies: [1], models: { m: { operations: ['read'], fields: '*', filter: [['company_id', '=', '$company_ids']] } } }, /takes a single value, not a list/],
      [{ version: 2, models: { m: { operations: ['read'], fields: '*', filter: [['a', 'near', 1]] } } }, /filter: Invalid domain: term 1 .*unknown operator/],
      [{ version: 2, models: { m: { operations: ['read'], fields: '*', filter: { a: 1 } } } }, /filter: a record filter must be an Odoo domain/],
      [{ version: 2, models: { m: { operations: ['read'], fields: '*', filter: ['&', ['a', '=', 1]] } } }, /needs two operands/],
      [{ version: 2, models: { m: { operations: ['read'], fields: ['name'], mask: { email: 'partial' } } } }, /mask\.email: a masked field must also be in "fields"/],
      [{ version: 2, models: { m: { operations: ['read'], fields: '*', mask: { email: 'blur' } } } }, /masks are partial, last4, hash, redact/],
      [{ version: 2, models: { m: { operations: ['read'], fields: '*', mask: { id: 'hash' } } } }, /'id' cannot be masked/],
      [{ version: 2, companies: [], models: {} }, /^\$\.companies: list at least one company id/],
      [{ version: 2, companies: [1, 1], models: {} }, /^\$\.companies: each company once/],
      [{ version: 2, companies: [1.5], models: {} }, /company ids are whole numbers/],
    ])('refuses %j', (document, message) => {
      expect(errorsOf(document).join('\n')).toMatch(message)
    })

    it('keeps a version 1 policy meaning exactly what it meant', () => {
      const result = parsePolicy(example)
      expect(result.ok).toBe(true)
      if (!result.ok) return
      for (const entry of Object.values(result.policy.models)) {
        expect(entry.filter).toBeUndefined()
        expect(entry.mask).toBeUndefined()
      }
      expect(result.policy.companies).toBeUndefined()
    })
  })
})
