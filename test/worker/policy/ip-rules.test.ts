import { describe, expect, it } from 'vitest'
import { checkClientAddress, parseRange, type CompiledIpRules } from '../../../src/policy/ip-rules'

function rules(allow: string[], deny: string[] = []): CompiledIpRules {
  const compile = (text: string) => {
    const parsed = parseRange(text)
    if (!parsed.ok) throw new Error(parsed.error)
    return parsed.value
  }
  return { allow: allow.map(compile), deny: deny.map(compile) }
}

describe('client address rules', () => {
  it('lets any address through when there are no rules', () => {
    expect(checkClientAddress(rules([]), '198.51.100.1')).toBe('allowed')
    expect(checkClientAddress(rules([]), undefined)).toBe('allowed')
  })

  it('matches IPv4 and IPv6 addresses and ranges', () => {
    const r = rules(['203.0.113.0/24', '2001:db8::/32', '192.0.2.10'])
    expect(checkClientAddress(r, '203.0.113.99')).toBe('allowed')
    expect(checkClientAddress(r, '203.0.114.1')).toBe('not_allowed')
    expect(checkClientAddress(r, '2001:db8:1234::1')).toBe('allowed')
    expect(checkClientAddress(r, '2001:db9::1')).toBe('not_allowed')
    expect(checkClientAddress(r, '192.0.2.10')).toBe('allowed')
    expect(checkClientAddress(r, '192.0.2.11')).toBe('not_allowed')
  })

  it('lets deny win over allow', () => {
    const r = rules(['203.0.113.0/24'], ['203.0.113.7'])
    expect(checkClientAddress(r, '203.0.113.7')).toBe('denied')
    expect(checkClientAddress(r, '203.0.113.8')).toBe('allowed')
  })

  it('treats an empty allow list as "any address" when only deny rules exist', () => {
    const r = rules([], ['198.51.100.0/24', '2001:db8::/32'])
    expect(checkClientAddress(r, '203.0.113.1')).toBe('allowed')
    expect(checkClientAddress(r, '198.51.100.3')).toBe('denied')
    expect(checkClientAddress(r, '2001:db8::5')).toBe('denied')
  })

  it.each(['::ffff:10.1.2.3', '0:0:0:0:0:ffff:a01:203', '::ffff:a01:203', '::FFFF:10.1.2.3'])(
    'treats the IPv4-mapped address %s as 10.1.2.3',
    (address) => {
      expect(checkClientAddress(rules([], ['10.0.0.0/8']), address)).toBe('denied')
      expect(checkClientAddress(rules(['10.0.0.0/8']), address)).toBe('allowed')
    },
  )

  it('accepts IPv4-mapped rules as their IPv4 range', () => {
    expect(checkClientAddress(rules([], ['::ffff:10.0.0.0/104']), '10.9.9.9')).toBe('denied')
    expect(checkClientAddress(rules([], ['::ffff:10.0.0.0/104']), '11.0.0.1')).toBe('allowed')
  })

  it('does not let an IPv4 rule match an unrelated IPv6 address or the reverse', () => {
    expect(checkClientAddress(rules(['0.0.0.0/0']), '2001:db8::1')).toBe('not_allowed')
    expect(checkClientAddress(rules(['::/0']), '192.0.2.1')).toBe('not_allowed')
  })

  it.each(['012.0.0.1', '10.1', '0x0a.0.0.1', 'fe80::1%eth0', '999.1.1.1', 'not-an-ip', '10.0.0.1, 1.2.3.4', ''])(
    'fails closed on the malformed client address %j when rules exist',
    (address) => {
      expect(checkClientAddress(rules([], ['192.0.2.0/24']), address)).toBe('unknown_address')
      expect(checkClientAddress(rules(['10.0.0.0/8']), address)).toBe('unknown_address')
    },
  )

  it.each(['::ffff:0x7f.0.0.1', '::ffff:012.0.0.1', '::ffff:00001.2.3.4'])(
    'refuses the IPv4 part %s of an IPv6 address unless it is plain decimal',
    (address) => {
      expect(checkClientAddress(rules([], ['127.0.0.0/8', '12.0.0.0/8', '1.0.0.0/8']), address)).toBe('unknown_address')
      expect(parseRange(`${address}/128`).ok).toBe(false)
    },
  )

  it.each(['::1.2.3.4', '0::1.2.3.4', '0:0:0:0:0:0:1.2.3.4', '::0:0.0.0.1'])(
    'refuses the deprecated IPv4-compatible form %s (ipaddr.js reads ::a.b.c.d as ::ffff:a.b.c.d, RFC 4291 as ::a.b.c.d)',
    (address) => {
      expect(checkClientAddress(rules([], ['1.2.3.4']), address)).toBe('unknown_address')
      expect(parseRange(address).ok).toBe(false)
    },
  )

  it('still accepts other IPv6 addresses written with a dotted IPv4 part', () => {
    expect(checkClientAddress(rules(['64:ff9b::/96']), '64:ff9b::192.0.2.1')).toBe('allowed')
    expect(checkClientAddress(rules([], ['1.2.3.4']), '0:0:0:0:0:FFFF:1.2.3.4')).toBe('denied')
  })

  it('fails closed when the address is missing and rules exist', () => {
    expect(checkClientAddress(rules(['10.0.0.0/8']), undefined)).toBe('unknown_address')
  })
})
