/**
 * Property tests of the webhook SSRF guard (src/webhooks/url-guard.ts), against a reference written here without
 * ipaddr.js: addresses parsed by hand (RFC 791 dotted decimal, RFC 4291 text forms) into BigInts, judged with tables
 * taken from the IANA IPv4 and IPv6 Special-Purpose Address Registries and the RFCs of each IPv6 form that carries an
 * IPv4 address (RFC 4291 IPv4-compatible and -mapped, RFC 2765 IPv4-translated, RFC 6052 and 8215 NAT64, RFC 3056
 * 6to4, RFC 4380 Teredo, RFC 5214 ISATAP). Random addresses of every such form, written in every legal way and many
 * illegal ones, must get the reference's verdict from `checkAddress` (DNS answers) and from `checkWebhookUrl`
 * (literal hosts); and every form the guard judges must get the verdict of the IPv4 address it carries.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { checkAddress, checkWebhookUrl } from '../../../src/webhooks/url-guard'

// ---------------------------------------------------------------------------------------------------------------
// Reference model
// ---------------------------------------------------------------------------------------------------------------

type Family = 'v4' | 'v6'
interface RefAddress {
  family: Family
  bits: bigint
}
/** What may a webhook reach: a public address; this machine (local development only); nothing else. */
type RefVerdict = 'public' | 'loopback' | 'refused'

function refV4(text: string): bigint | null {
  const parts = text.split('.')
  if (parts.length !== 4) return null
  let bits = 0n
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part) || Number(part) > 255) return null
    bits = bits * 256n + BigInt(part)
  }
  return bits
}

/** RFC 4291 section 2.2: eight groups of 1-4 hex digits, at most one "::", the last 32 bits possibly dotted. */
function refV6(text: string): bigint | null {
  let rest = text
  const groups: bigint[] = []
  let tail: bigint[] = []
  if (text.includes('.')) {
    const colon = text.lastIndexOf(':')
    if (colon < 0) return null
    const v4 = refV4(text.slice(colon + 1))
    if (v4 === null) return null
    tail = [v4 >> 16n, v4 & 0xffffn]
    rest = text.slice(0, colon + 1)
    // "a:b:" before the dotted part ends in a separator; "a::" in a compression that must stay.
    if (!rest.endsWith('::')) rest = rest.slice(0, -1)
  }
  const sides = rest.split('::')
  if (sides.length > 2) return null
  const read = (side: string): bigint[] | null => {
    if (side === '') return []
    const out: bigint[] = []
    for (const group of side.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return null
      out.push(BigInt(`0x${group}`))
    }
    return out
  }
  const left = read(sides[0]!)
  const right = sides.length === 2 ? read(sides[1]!) : []
  if (left === null || right === null) return null
  const count = left.length + right.length + tail.length
  if (sides.length === 2) {
    if (count > 7) return null
    groups.push(...left, ...Array<bigint>(8 - count).fill(0n), ...right, ...tail)
  } else {
    if (count !== 8) return null
    groups.push(...left, ...tail)
  }
  return groups.reduce((acc, group) => (acc << 16n) | group, 0n)
}

function refParse(text: string): RefAddress | null {
  if (!text.includes(':')) {
    const bits = refV4(text)
    return bits === null ? null : { family: 'v4', bits }
  }
  const bits = refV6(text)
  return bits === null ? null : { family: 'v6', bits }
}

const cidr = (text: string): [bigint, number, Family] => {
  const [address, prefix] = text.split('/')
  const family: Family = address!.includes(':') ? 'v6' : 'v4'
  return [family === 'v4' ? refV4(address!)! : refV6(address!)!, Number(prefix), family]
}
const inside = (bits: bigint, [base, prefix, family]: [bigint, number, Family]) => {
  const shift = BigInt((family === 'v4' ? 32 : 128) - prefix)
  return bits >> shift === base >> shift
}

/**
 * IANA IPv4 Special-Purpose Address Registry, plus multicast and the former class E. All are refused, the few the
 * registry calls globally reachable too (AS112, AMT, 6to4 relays): no webhook receiver lives there.
 */
const V4_NOT_PUBLIC = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24', '192.0.2.0/24',
  '192.31.196.0/24', '192.52.193.0/24', '192.88.99.0/24', '192.168.0.0/16', '192.175.48.0/24', '198.18.0.0/15',
  '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/4', '240.0.0.0/4',
].map(cidr)
const V4_LOOPBACK = cidr('127.0.0.0/8')

function refJudgeV4(bits: bigint): RefVerdict {
  if (inside(bits, V4_LOOPBACK)) return 'loopback'
  return V4_NOT_PUBLIC.some((range) => inside(bits, range)) ? 'refused' : 'public'
}

/** IANA IPv6 Special-Purpose Address Registry and the other non-global blocks inside or next to 2000::/3. */
const V6_NOT_PUBLIC = [
  '100::/64', '2001::/23', '2001:db8::/32', '2620:4f:8000::/48', '3fff::/20', '5f00::/16', 'fc00::/7', 'fe80::/10',
  'fec0::/10', 'ff00::/8',
].map(cidr)
const GLOBAL_UNICAST = cidr('2000::/3')

const v4At = (bits: bigint, shift: bigint) => (bits >> shift) & 0xffffffffn
/** An IPv4 address reached through a translator or a tunnel counts only if it is public (never as our loopback). */
const strictlyPublic = (v4: bigint) => refJudgeV4(v4) === 'public'

function refJudgeV6(bits: bigint): RefVerdict {
  if (bits === 1n) return 'loopback'
  if (bits === 0n) return 'refused'
  const top96 = bits >> 32n
  // IPv4-mapped: the IPv4 address itself, loopback included.
  if (top96 === 0xffffn) return refJudgeV4(bits & 0xffffffffn)
  // IPv4-compatible (deprecated) and IPv4-translated (obsolete SIIT): refused whatever they carry.
  if (top96 === 0n) return 'refused'
  if (top96 === 0xffff0000n) return 'refused'
  // Teredo and local-use NAT64: no single IPv4 address to judge.
  if (bits >> 96n === 0x20010000n) return 'refused'
  if (bits >> 80n === 0x64ff9b0001n) return 'refused'
  // ISATAP interface id (u and g bits free): the IPv4 address on the link must be public; the prefix is judged below.
  const isatap = (((bits >> 48n) & 0xffffn) & 0xfcffn) === 0n && ((bits >> 32n) & 0xffffn) === 0x5efen
  if (isatap && !strictlyPublic(bits & 0xffffffffn)) return 'refused'
  // NAT64 well-known prefix and 6to4: the route is the IPv4 address.
  if (top96 === 0x64ff9b0000000000000000n) return strictlyPublic(bits & 0xffffffffn) ? 'public' : 'refused'
  if (bits >> 112n === 0x2002n) return strictlyPublic(v4At(bits, 80n)) ? 'public' : 'refused'
  if (V6_NOT_PUBLIC.some((range) => inside(bits, range))) return 'refused'
  return inside(bits, GLOBAL_UNICAST) ? 'public' : 'refused'
}

/** The reference verdict on an address text: null when it is not an address in standard form. */
function refVerdict(text: string): RefVerdict | null {
  const address = refParse(text)
  if (!address) return null
  return address.family === 'v4' ? refJudgeV4(address.bits) : refJudgeV6(address.bits)
}

const allowed = (verdict: RefVerdict | null, allowLoopback: boolean) => verdict === 'public' || (verdict === 'loopback' && allowLoopback)

// ---------------------------------------------------------------------------------------------------------------
// Generators: IPv4 values near every special range, IPv6 values of every form that carries one, many spellings
// ---------------------------------------------------------------------------------------------------------------

const edges = [...V4_NOT_PUBLIC, V4_LOOPBACK].flatMap(([base, prefix]) => {
  const size = 1n << BigInt(32 - prefix)
  return [base - 1n, base, base + 1n, base + size - 1n, base + size].filter((value) => value >= 0n && value <= 0xffffffffn)
})
const v4Value = fc.oneof(
  { weight: 3, arbitrary: fc.bigInt(0n, 0xffffffffn) },
  { weight: 3, arbitrary: fc.constantFrom(...edges, 0xa9fea9fen, 0x7f000001n, 0x0a000001n, 0x5db8d822n, 0x08080808n, 0n, 1n, 2n) },
)
const bitsOf = (width: number) => fc.bigInt(0n, (1n << BigInt(width)) - 1n)
const under = (prefix: string) => bitsOf(128 - cidr(prefix)[1]).map((rest) => cidr(prefix)[0] | rest)

const v6Value: fc.Arbitrary<bigint> = fc.oneof(
  v4Value.map((v4) => (0xffffn << 32n) | v4), // ::ffff:a.b.c.d
  v4Value, // ::a.b.c.d, ::, ::1
  v4Value.map((v4) => (0xffffn << 48n) | v4), // ::ffff:0:a.b.c.d
  v4Value.map((v4) => (0x64ff9bn << 96n) | v4), // 64:ff9b::a.b.c.d
  fc.tuple(v4Value, bitsOf(48)).map(([v4, rest]) => (0x64ff9b0001n << 80n) | (v4 << 16n) | (rest & 0xffffn)), // 64:ff9b:1::/48
  fc.tuple(v4Value, bitsOf(80)).map(([v4, rest]) => (0x2002n << 112n) | (v4 << 80n) | rest), // 6to4
  fc.tuple(v4Value, bitsOf(96)).map(([v4, rest]) => (0x20010000n << 96n) | (v4 << 64n) | (rest & ((1n << 64n) - 1n))), // Teredo
  fc
    .tuple(
      fc.oneof(under('2000::/3'), under('fe80::/10'), fc.tuple(v4Value, bitsOf(16)).map(([v4, s]) => (0x2002n << 112n) | (v4 << 80n) | (s << 64n)), under('2001:db8::/32'), bitsOf(128)),
      fc.constantFrom(0n, 0x100n, 0x200n, 0x300n, 0x400n),
      v4Value,
    )
    .map(([prefix, u, v4]) => ((prefix >> 64n) << 64n) | (u << 48n) | (0x5efen << 32n) | v4), // ISATAP (0x400: not ISATAP)
  ...['100::/64', '2001::/23', '2001:db8::/32', '2620:4f:8000::/48', '3fff::/20', '5f00::/16', 'fc00::/7', 'fe80::/10', 'fec0::/10', 'ff00::/8'].map((prefix) => under(prefix)),
  under('2000::/3'),
  bitsOf(128),
  bitsOf(40),
)

function v4Text(bits: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((bits >> shift) & 0xffn)).join('.')
}

interface V6Style {
  compress: number
  length: number
  pad: boolean
  upper: boolean
  dotted: boolean
}
const v6Style: fc.Arbitrary<V6Style> = fc.record({ compress: fc.integer({ min: -1, max: 8 }), length: fc.nat(8), pad: fc.boolean(), upper: fc.boolean(), dotted: fc.boolean() })

/** One legal spelling of a 128-bit value: any zero run compressed (or none), padded or not, upper case, dotted tail. */
function v6Text(bits: bigint, style: V6Style): string {
  const groups = Array.from({ length: 8 }, (_, i) => (bits >> BigInt(16 * (7 - i))) & 0xffffn)
  const count = style.dotted ? 6 : 8
  const head = groups.slice(0, count).map((group) => {
    const text = style.pad ? group.toString(16).padStart(4, '0') : group.toString(16)
    return style.upper ? text.toUpperCase() : text
  })
  const pieces = [...head, ...(style.dotted ? [v4Text(bits & 0xffffffffn)] : [])]
  const runs: [number, number][] = []
  for (let i = 0; i < count; i++) {
    if (groups[i] !== 0n) continue
    let j = i
    while (j < count && groups[j] === 0n) j++
    runs.push([i, j - i])
    i = j
  }
  if (style.compress < 0 || runs.length === 0) return pieces.join(':')
  const [start, runLength] = runs[style.compress % runs.length]!
  const length = 1 + (style.length % runLength)
  return `${pieces.slice(0, start).join(':')}::${pieces.slice(start + length).join(':')}`
}

const oddText = fc.oneof(
  fc.constantFrom(
    '012.0.0.1', '0177.0.0.1', '127.1', '0x7f.0.0.1', '2130706433', '1.2.3.4.5', '256.1.1.1', '::ffff:0x7f.0.0.1', '::ffff:012.0.0.1',
    '::ffff:1.2.3', 'fe80::1%eth0', '::a9fe:a9fe%1', '1::2::3', ':::', '1:2:3:4:5:6:7:8:9', '12345::', ' ::1', '::1 ', '[::1]',
    '::1.2.3.4:5', '1.2.3.4::', '١٢٧.0.0.1', '::ｆｆｆｆ:1.2.3.4', '', '::0:a9fe:a9fe:0', '0:0:0:0:0:0:169.254.169.254',
  ),
  fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF:.%x '), maxLength: 30 }),
)

const addressText = fc.oneof(
  { weight: 3, arbitrary: v4Value.map(v4Text) },
  { weight: 8, arbitrary: fc.tuple(v6Value, v6Style).map(([bits, style]) => v6Text(bits, style)) },
  { weight: 2, arbitrary: oddText },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.tuple(v6Value, v6Style).map(([bits, style]) => v6Text(bits, style)), fc.nat(), fc.constantFrom('', ':', '.', '0', 'g', '::', '%'))
      .map(([text, at, insert]) => {
        const i = at % (text.length + 1)
        return text.slice(0, i) + insert + text.slice(i + (insert === '' ? 1 : 0))
      }),
  },
)

// ---------------------------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------------------------

describe('webhook URL guard (properties)', () => {
  it('checkAddress (DNS answers) decides every address text as the reference does', () => {
    fc.assert(
      fc.property(addressText, fc.boolean(), (text, allowLoopback) => {
        const verdict = checkAddress(text, allowLoopback)
        const expected = refVerdict(text)
        expect(verdict.ok, `${JSON.stringify(text)} (reference: ${expected}, loopback ${allowLoopback})`).toBe(allowed(expected, allowLoopback))
        if (!verdict.ok) expect(verdict.reason.length).toBeGreaterThan(10)
      }),
      { numRuns: 3000 },
    )
  })

  it('checkWebhookUrl decides every literal host as the reference does, https and loopback-only http', () => {
    fc.assert(
      fc.property(fc.oneof(v4Value.map(v4Text), fc.tuple(v6Value, v6Style).map(([bits, style]) => `[${v6Text(bits, style)}]`)), fc.boolean(), (host, allowLoopback) => {
        const expected = refVerdict(host.replace(/^\[|\]$/g, ''))
        expect(expected).not.toBeNull()
        expect(checkWebhookUrl(`https://${host}/hook`, allowLoopback).ok, `https ${host} (${expected})`).toBe(allowed(expected, allowLoopback))
        expect(checkWebhookUrl(`http://${host}:8080/`, allowLoopback).ok, `http ${host} (${expected})`).toBe(expected === 'loopback' && allowLoopback)
      }),
      { numRuns: 3000 },
    )
  })

  it('judges NAT64, 6to4 and ISATAP by the IPv4 address they carry, IPv4-mapped as that address, and refuses the others outright', () => {
    const prefix = fc.oneof(fc.constantFrom(0x2606_4700_0000_0000n, 0x2a00_1450_4001_0000n), under('2400::/6').map((bits) => bits >> 64n))
    fc.assert(
      fc.property(v4Value, prefix, fc.constantFrom(0n, 0x200n), bitsOf(80), fc.boolean(), (v4, isatapPrefix, u, rest, allowLoopback) => {
        const own = checkAddress(v4Text(v4), false).ok
        const text = (bits: bigint) => v6Text(bits, { compress: 0, length: 8, pad: false, upper: false, dotted: false })
        // IPv4-mapped: exactly the IPv4 address, loopback as loopback.
        expect(checkAddress(text((0xffffn << 32n) | v4), allowLoopback).ok).toBe(checkAddress(v4Text(v4), allowLoopback).ok)
        // Judged: public exactly when the IPv4 address is (the ISATAP prefix here being an ordinary global one).
        expect(checkAddress(text((0x64ff9bn << 96n) | v4), allowLoopback).ok, 'NAT64').toBe(own)
        expect(checkAddress(text((0x2002n << 112n) | (v4 << 80n) | rest), allowLoopback).ok, '6to4').toBe(own)
        expect(checkAddress(text((isatapPrefix << 64n) | (u << 48n) | (0x5efen << 32n) | v4), allowLoopback).ok, 'ISATAP').toBe(own)
        // Refused whatever they carry (v4 > 1: :: and ::1 are not IPv4-compatible addresses).
        if (v4 > 1n) expect(checkAddress(text(v4), allowLoopback).ok, 'IPv4-compatible').toBe(false)
        expect(checkAddress(text((0xffffn << 48n) | v4), allowLoopback).ok, 'IPv4-translated').toBe(false)
        expect(checkAddress(text((0x64ff9b0001n << 80n) | (v4 << 16n)), allowLoopback).ok, 'local-use NAT64').toBe(false)
        expect(checkAddress(text((0x20010000n << 96n) | (v4 << 64n) | (rest & 0xffffffffn)), allowLoopback).ok, 'Teredo').toBe(false)
      }),
      { numRuns: 2000 },
    )
  })

  it('never throws, whatever the text', () => {
    fc.assert(
      fc.property(fc.oneof(addressText, fc.string({ unit: 'binary', maxLength: 60 })), fc.boolean(), (text, allowLoopback) => {
        checkAddress(text, allowLoopback)
        checkWebhookUrl(`https://${text}/`, allowLoopback)
        checkWebhookUrl(`https://[${text}]/`, allowLoopback)
        checkWebhookUrl(text, allowLoopback)
      }),
      { numRuns: 1000 },
    )
  })
})

describe('webhook URL guard: IPv6 forms that carry an IPv4 address (examples)', () => {
  it('refuses metadata and loopback reached through an IPv6 form, as URLs and as DNS answers', () => {
    const refused = [
      'https://[::a9fe:a9fe]/latest/meta-data/', // IPv4-compatible 169.254.169.254
      'https://[::7f00:1]/', // IPv4-compatible 127.0.0.1
      'https://[::169.254.169.254]/', 'https://[0:0:0:0:0:0:a9fe:a9fe]/', 'https://[::8.8.8.8]/', // compatible, whatever it carries
      'https://[::ffff:0:a9fe:a9fe]/', // IPv4-translated
      'https://[::ffff:a9fe:a9fe]/', 'https://[::ffff:a00:1]/', // IPv4-mapped
      'https://[64:ff9b::a9fe:a9fe]/', 'https://[64:ff9b::127.0.0.1]/', 'https://[64:ff9b::a00:1]/', // NAT64
      'https://[64:ff9b:1::a9fe:a9fe]/', 'https://[64:ff9b:1:a9fe:a9:fe00::]/', 'https://[64:ff9b:1::5db8:d822]/', // local-use NAT64
      'https://[2002:a9fe:a9fe::1]/', 'https://[2002:7f00:1::]/', 'https://[2002:c0a8:101:1::1]/', // 6to4
      'https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', 'https://[2001:0:5db8:d822::1]/', // Teredo
      'https://[2606:4700::5efe:a9fe:a9fe]/', 'https://[2606:4700::200:5efe:a00:1]/', 'https://[fe80::5efe:a9fe:a9fe]/', // ISATAP
      'https://[2002:5db8:d822:1:0:5efe:a9fe:a9fe]/', // public 6to4 router, internal ISATAP host
      'https://[1::]/', 'https://[::1:0:0:0]/', 'https://[100::1]/', 'https://[3fff::1]/', 'https://[5f00::1]/', // outside 2000::/3, special
    ]
    for (const url of refused) {
      const verdict = checkWebhookUrl(url, false)
      expect(verdict.ok, url).toBe(false)
      if (!verdict.ok) expect(verdict.reason.length, url).toBeGreaterThan(20)
      expect(checkWebhookUrl(url, true).ok, `${url} with loopback allowed`).toBe(false)
    }
    for (const address of ['::a9fe:a9fe', '::7f00:1', '::127.0.0.1', '::8.8.8.8', '0::8.8.8.8', '64:ff9b::10.0.0.1', '64:ff9b::7f00:1', '2002:c0a8:101::1', '2001::1', '::ffff:0:8.8.8.8', '2600::5efe:10.0.0.1', '010.0.0.1', '::ffff:0x7f.0.0.1', 'fe80::1%eth0']) {
      expect(checkAddress(address, false).ok, address).toBe(false)
      expect(checkAddress(address, true).ok, `${address} with loopback allowed`).toBe(false)
    }
  })

  it('names the form and the IPv4 address it carries', () => {
    expect(checkWebhookUrl('https://[::a9fe:a9fe]/', false)).toMatchObject({ ok: false, reason: expect.stringMatching(/IPv4-compatible/) })
    expect(checkWebhookUrl('https://[64:ff9b::a9fe:a9fe]/', false)).toMatchObject({ ok: false, reason: expect.stringMatching(/is a rfc6052 \(NAT64\) address that carries 169\.254\.169\.254, a linkLocal address/) })
    expect(checkAddress('2002:a00:1::1', false)).toMatchObject({ ok: false, reason: expect.stringMatching(/6to4 address that carries 10\.0\.0\.1, a private address/) })
    expect(checkAddress('2001:0:4136:e378:8000:63bf:3fff:fdd2', false)).toMatchObject({ ok: false, reason: expect.stringMatching(/teredo/) })
  })

  it('accepts the same forms when they carry a public IPv4 address (NAT64 answers of DNS64, 6to4, ISATAP)', () => {
    for (const url of ['https://[64:ff9b::5db8:d822]/hook', 'https://[64:ff9b::93.184.216.34]/hook', 'https://[2002:5db8:d822::1]/', 'https://[2606:4700::5efe:5db8:d822]/', 'https://[::ffff:93.184.216.34]/']) {
      expect(checkWebhookUrl(url, false).ok, url).toBe(true)
    }
    for (const address of ['64:ff9b::5db8:d822', '64:ff9b::93.184.216.34', '2002:808:808::1', '::ffff:8.8.8.8']) expect(checkAddress(address, false).ok, address).toBe(true)
  })

  it('opens loopback for local development only as this machine: ::1 and ::ffff:127.0.0.1, never through a translator or a tunnel', () => {
    for (const url of ['http://[::1]:9000/', 'http://[::ffff:127.0.0.1]:9000/']) expect(checkWebhookUrl(url, true).ok, url).toBe(true)
    for (const url of ['http://[64:ff9b::7f00:1]:9000/', 'http://[2002:7f00:1::]:9000/', 'http://[::7f00:1]:9000/', 'https://[::7f00:1]/']) {
      expect(checkWebhookUrl(url, true).ok, url).toBe(false)
    }
  })
})
