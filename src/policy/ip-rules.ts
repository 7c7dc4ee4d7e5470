/**
 * Client address rules (allow/deny lists of addresses and CIDR ranges, IPv4 and IPv6), on top of ipaddr.js.
 *
 * Parsing is deliberately stricter than ipaddr.js's `isValid`, which accepts legacy forms that different parsers
 * read differently: `012.0.0.1` (octal → 10.0.0.1), `127.1`, `0x7f.0.0.1`. A rule or an address in any such form is
 * refused, as are IPv6 zone ids (`fe80::1%eth0`), which mean nothing across hosts. IPv4-mapped IPv6
 * (`::ffff:10.0.0.1`) is treated as the IPv4 address it carries, in rules and in client addresses. Pure.
 */
import ipaddr from 'ipaddr.js'

type Address = ipaddr.IPv4 | ipaddr.IPv6

export interface CompiledRange {
  address: Address
  prefix: number
  /** The rule as written, for messages. */
  source: string
}

export interface CompiledIpRules {
  allow: CompiledRange[]
  deny: CompiledRange[]
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string }

/**
 * Checks the dotted IPv4 part that IPv6 text may end with (`::ffff:10.0.0.1`). ipaddr.js takes hex and zero-padded
 * numbers there (`::ffff:0x7f.0.0.1` is 127.0.0.1), and reads the deprecated IPv4-compatible form `::10.0.0.1` as
 * IPv4-mapped while RFC 4291 (and `0::10.0.0.1` in ipaddr.js itself) makes it the IPv6 address ::a00:1: both refused.
 */
function dottedPartError(text: string): string | undefined {
  const cut = text.lastIndexOf(':')
  if (!ipaddr.IPv4.isValidFourPartDecimal(text.slice(cut + 1))) {
    return 'the IPv4 part of an IPv6 address must be four decimal parts 0-255, no leading zeros'
  }
  if (/^[0:]*$/.test(text.slice(0, cut + 1))) {
    return 'IPv4-compatible IPv6 addresses (::a.b.c.d) are deprecated and read differently by different parsers; write a.b.c.d or ::ffff:a.b.c.d'
  }
  return undefined
}

/** Parses one address in canonical text form; IPv4-mapped IPv6 becomes IPv4. */
export function parseAddress(text: string): ParseResult<Address> {
  const trimmed = text.trim()
  if (trimmed.includes('%')) return { ok: false, error: 'IPv6 zone ids (%...) are not allowed' }
  if (trimmed.includes(':')) {
    const dottedError = trimmed.includes('.') ? dottedPartError(trimmed) : undefined
    if (dottedError) return { ok: false, error: dottedError }
    if (!ipaddr.IPv6.isValid(trimmed)) return { ok: false, error: 'not a valid IPv6 address' }
    const v6 = ipaddr.IPv6.parse(trimmed)
    return { ok: true, value: v6.isIPv4MappedAddress() ? v6.toIPv4Address() : v6 }
  }
  if (!ipaddr.IPv4.isValidFourPartDecimal(trimmed)) {
    return { ok: false, error: 'not a valid IPv4 address (four decimal parts 0-255, no leading zeros)' }
  }
  return { ok: true, value: ipaddr.IPv4.parse(trimmed) }
}

/** Parses `address` or `address/prefix`. */
export function parseRange(text: string): ParseResult<CompiledRange> {
  const [addressText, prefixText, extra] = text.split('/')
  if (extra !== undefined || addressText === undefined) return { ok: false, error: 'use an address or address/prefix' }
  const address = parseAddress(addressText)
  if (!address.ok) return address
  const writtenAsV6 = addressText.includes(':')
  const maxPrefix = writtenAsV6 ? 128 : 32
  let prefix = maxPrefix
  if (prefixText !== undefined) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > maxPrefix) {
      return { ok: false, error: `prefix length must be 0-${maxPrefix}` }
    }
    prefix = Number(prefixText)
  }
  if (writtenAsV6 && address.value.kind() === 'ipv4') {
    // ::ffff:10.0.0.0/104 is 10.0.0.0/8; a shorter prefix would cover more than the mapped space.
    if (prefix < 96) return { ok: false, error: 'an IPv4-mapped range needs a prefix of at least 96' }
    prefix -= 96
  }
  return { ok: true, value: { address: address.value, prefix, source: text } }
}

function matches(address: Address, range: CompiledRange): boolean {
  return address.kind() === range.address.kind() && address.match(range.address, range.prefix)
}

export type IpDecision = 'allowed' | 'denied' | 'not_allowed' | 'unknown_address'

/**
 * Decides for a client address: deny wins over allow; an empty allow list means any address. When rules exist and
 * the address is missing or malformed, the answer is `unknown_address` (refused: fail closed).
 */
export function checkClientAddress(rules: CompiledIpRules, clientAddress: string | undefined): IpDecision {
  if (rules.allow.length === 0 && rules.deny.length === 0) return 'allowed'
  const parsed = clientAddress ? parseAddress(clientAddress) : undefined
  if (!parsed?.ok) return 'unknown_address'
  if (rules.deny.some((range) => matches(parsed.value, range))) return 'denied'
  if (rules.allow.length > 0 && !rules.allow.some((range) => matches(parsed.value, range))) return 'not_allowed'
  return 'allowed'
}
