/**
 * Property tests of the client address rules (src/policy/ip-rules.ts), against a reference written here without
 * ipaddr.js: addresses parsed by hand from the text forms of RFC 4291 and RFC 791 into BigInts, ranges matched by
 * comparing the top `prefix` bits. Random addresses (written in every legal way and many illegal ones) against random
 * allow/deny lists must get the same answer from both.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { checkClientAddress, parseAddress, parseRange, type CompiledIpRules, type CompiledRange } from '../../../src/policy/ip-rules'
import { parsePolicy } from '../../../src/policy/schema'

// ---------------------------------------------------------------------------------------------------------------
// Reference model
// ---------------------------------------------------------------------------------------------------------------

type Family = 'v4' | 'v6'
interface RefAddress {
  family: Family
  bits: bigint
}
interface RefRange extends RefAddress {
  prefix: number
}

const MAPPED_PREFIX = 0xffffn << 32n

/** Dotted decimal, four parts 0-255, no leading zeros (anything else is read differently by different parsers). */
function refParseV4(text: string): bigint | null {
  const parts = text.split('.')
  if (parts.length !== 4) return null
  let bits = 0n
  for (const part of parts) {
    if (!/^[0-9]{1,3}$/.test(part) || (part.length > 1 && part.startsWith('0')) || Number(part) > 255) return null
    bits = (bits << 8n) | BigInt(part)
  }
  return bits
}

/** RFC 4291 section 2.2 text forms: 8 groups of 1-4 hex digits, one '::' for one or more zero groups, a dotted tail. */
function refParseV6(text: string): { bits: bigint; dotted: boolean } | null {
  let head = text
  let tail: bigint[] = []
  const dotted = text.includes('.')
  if (dotted) {
    const cut = text.lastIndexOf(':')
    const v4 = refParseV4(text.slice(cut + 1))
    if (cut < 0 || v4 === null) return null
    head = text.slice(0, cut + 1)
    // "…:" before the dotted part is a separator unless it is the second colon of "::".
    head = head.endsWith('::') ? head : head.slice(0, -1)
    tail = [v4 >> 16n, v4 & 0xffffn]
  }
  const halves = head.split('::')
  if (halves.length > 2) return null
  const groups = (half: string): bigint[] | null => {
    if (half === '') return []
    const parsed = half.split(':').map((group) => (/^[0-9a-fA-F]{1,4}$/.test(group) ? BigInt('0x' + group) : null))
    return parsed.includes(null) ? null : (parsed as bigint[])
  }
  const before = groups(halves[0]!)
  const after = halves.length === 2 ? groups(halves[1]!) : []
  if (!before || !after) return null
  const written = before.length + after.length + tail.length
  let all: bigint[]
  if (halves.length === 2) {
    if (written > 7) return null
    all = [...before, ...Array<bigint>(8 - written).fill(0n), ...after, ...tail]
  } else {
    if (written !== 8) return null
    all = [...before, ...tail]
  }
  return { bits: all.reduce((acc, group) => (acc << 16n) | group, 0n), dotted }
}

/**
 * An address as the gateway should read it: surrounding spaces ignored; IPv4-mapped IPv6 is the IPv4 address; the
 * deprecated IPv4-compatible form (`::a.b.c.d`, first 96 bits zero, written with a dotted tail) is refused, since
 * parsers disagree on it (ipaddr.js reads `::1.2.3.4` as `::ffff:1.2.3.4`).
 */
function refParseAddress(text: string): RefAddress | null {
  const trimmed = text.trim()
  if (!trimmed.includes(':')) {
    const bits = refParseV4(trimmed)
    return bits === null ? null : { family: 'v4', bits }
  }
  const v6 = refParseV6(trimmed)
  if (!v6) return null
  if (v6.bits >> 32n === MAPPED_PREFIX >> 32n) return { family: 'v4', bits: v6.bits & 0xffffffffn }
  if (v6.dotted && v6.bits >> 32n === 0n) return null
  return { family: 'v6', bits: v6.bits }
}

function refParseRange(text: string): RefRange | null {
  const pieces = text.split('/')
  if (pieces.length > 2) return null
  const address = refParseAddress(pieces[0]!)
  if (!address) return null
  const writtenAsV6 = pieces[0]!.includes(':')
  let prefix = writtenAsV6 ? 128 : 32
  if (pieces.length === 2) {
    const written = pieces[1]!
    if (!/^[0-9]+$/.test(written) || (written.length > 1 && written.startsWith('0')) || Number(written) > prefix) return null
    prefix = Number(written)
  }
  if (writtenAsV6 && address.family === 'v4') {
    if (prefix < 96) return null
    prefix -= 96
  }
  return { ...address, prefix }
}

function refMatches(address: RefAddress, range: RefRange): boolean {
  if (address.family !== range.family) return false
  const width = address.family === 'v4' ? 32n : 128n
  const shift = width - BigInt(range.prefix)
  return address.bits >> shift === range.bits >> shift
}

type Decision = ReturnType<typeof checkClientAddress>

function refDecide(allow: RefRange[], deny: RefRange[], client: string | undefined): Decision {
  if (allow.length === 0 && deny.length === 0) return 'allowed'
  const address = client === undefined ? null : refParseAddress(client)
  if (!address) return 'unknown_address'
  if (deny.some((range) => refMatches(address, range))) return 'denied'
  if (allow.length > 0 && !allow.some((range) => refMatches(address, range))) return 'not_allowed'
  return 'allowed'
}

/** What ipaddr.js parsed, as the reference's (family, bits). */
function asReference(range: CompiledRange): RefRange {
  const bytes = range.address.toByteArray()
  const bits = bytes.reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n)
  return { family: range.address.kind() === 'ipv4' ? 'v4' : 'v6', bits, prefix: range.prefix }
}

// ---------------------------------------------------------------------------------------------------------------
// Generators: one address value, many ways of writing it
// ---------------------------------------------------------------------------------------------------------------

const v4Value = fc.oneof(fc.bigInt(0n, 0xffffffffn), fc.constantFrom(0n, 0x7f000001n, 0x0a000001n, 0xc0000201n, 0xffffffffn))
const v6Value = fc.oneof(
  fc.bigInt(0n, (1n << 128n) - 1n),
  v4Value.map((v4) => MAPPED_PREFIX | v4), // ::ffff:a.b.c.d
  v4Value, // ::a.b.c.d (IPv4-compatible)
  fc.bigInt(0n, 0xffffn).map((group) => group << 112n), // 2001::, fe80::...
  fc.tuple(fc.nat(7), fc.bigInt(0n, 0xffffn), fc.nat(7), fc.bigInt(0n, 0xffffn)).map(([i, a, j, b]) => (a << BigInt(16 * i)) | (b << BigInt(16 * j))),
)

function v4Text(bits: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((bits >> shift) & 0xffn)).join('.')
}

interface V6Style {
  /** Index in the zero runs (modulo) of the run to compress, or -1 for none. */
  compress: number
  /** How much of the chosen run to compress, as a fraction of 8 (at least one group). */
  length: number
  pad: boolean
  upper: boolean
  dotted: boolean
}
const v6Style: fc.Arbitrary<V6Style> = fc.record({ compress: fc.integer({ min: -1, max: 8 }), length: fc.nat(8), pad: fc.boolean(), upper: fc.boolean(), dotted: fc.boolean() })

/** Writes a 128-bit value as IPv6 text in one of its legal forms. */
function v6Text(bits: bigint, style: V6Style): string {
  const groups = Array.from({ length: 8 }, (_, i) => (bits >> BigInt(16 * (7 - i))) & 0xffffn)
  const headCount = style.dotted ? 6 : 8
  const head = groups.slice(0, headCount).map((group) => {
    const hex = group.toString(16)
    const padded = style.pad ? hex.padStart(4, '0') : hex
    return style.upper ? padded.toUpperCase() : padded
  })
  const tail = style.dotted ? v4Text(bits & 0xffffffffn) : undefined
  // Zero runs of the head: [start, length].
  const runs: [number, number][] = []
  for (let i = 0; i < headCount; i++) {
    if (groups[i] !== 0n) continue
    let j = i
    while (j < headCount && groups[j] === 0n) j++
    runs.push([i, j - i])
    i = j
  }
  const pieces = [...head, ...(tail ? [tail] : [])]
  if (style.compress < 0 || runs.length === 0) return pieces.join(':')
  const [start, runLength] = runs[style.compress % runs.length]!
  const length = 1 + (style.length % runLength)
  const left = pieces.slice(0, start).join(':')
  const right = pieces.slice(start + length).join(':')
  return `${left}::${right}`
}

/** Illegal or legacy spellings: octal/hex/short IPv4, zone ids, stray characters, whitespace. */
const oddAddress = fc.oneof(
  fc.constantFrom('012.0.0.1', '10.1', '127.1', '0x7f.0.0.1', '1.2.3.4.5', '256.0.0.1', '1.2.3.04', '1..2.3', '-1.2.3.4', '١.٢.٣.٤'),
  fc.constantFrom('fe80::1%eth0', '::ffff:0x7f.0.0.1', '::ffff:012.0.0.1', '::ffff:1.2.3', '1::2::3', ':::', '1:2:3:4:5:6:7:8:9', '::g', '12345::', '::1e1', ' ::1 ', '::1\u00a0', '[::1]', '1.2.3.4/', '::/'),
  fc.ipV4Extended(),
  fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF:.%x '), maxLength: 24 }),
  fc.string({ maxLength: 16 }),
)

/** A written address: mostly legal forms (some with spaces around), sometimes a mutated or illegal one. */
const addressText = fc.oneof(
  { weight: 3, arbitrary: v4Value.map(v4Text) },
  { weight: 5, arbitrary: fc.tuple(v6Value, v6Style).map(([bits, style]) => v6Text(bits, style)) },
  { weight: 1, arbitrary: fc.oneof(fc.ipV4(), fc.ipV6()) },
  { weight: 2, arbitrary: oddAddress },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.tuple(v6Value, v6Style).map(([bits, style]) => v6Text(bits, style)), fc.nat(), fc.constantFrom('', ':', '.', '0', 'f', 'g', '::', '%'))
      .map(([text, at, insert]) => {
        const i = at % (text.length + 1)
        return text.slice(0, i) + insert + text.slice(i + (insert === '' ? 1 : 0))
      }),
  },
)

const prefixText = fc.oneof(
  { weight: 3, arbitrary: fc.nat(32).map(String) },
  { weight: 2, arbitrary: fc.nat(130).map(String) },
  { weight: 1, arbitrary: fc.constantFrom('', '08', ' 8', '-1', '1e1', '0x10', '8/8', '１') },
)
const rangeText = fc.oneof(
  { weight: 4, arbitrary: addressText },
  { weight: 6, arbitrary: fc.tuple(addressText, prefixText).map(([address, prefix]) => `${address}/${prefix}`) },
)

/** Rules and client addresses close to each other, so that matches are common. */
const scenario = fc
  .tuple(
    fc.array(rangeText, { maxLength: 3 }),
    fc.array(rangeText, { maxLength: 3 }),
    fc.oneof(addressText, fc.constant(undefined)),
    fc.nat(127),
    fc.boolean(),
  )
  .map(([allowTexts, denyTexts, randomClient, bit, nearRule]) => {
    // Rules both sides accept (whether they agree on parsing is the business of the properties above).
    const usable = (text: string) => parseRange(text).ok && refParseRange(text) !== null
    const allow = allowTexts.filter(usable)
    const deny = denyTexts.filter(usable)
    const rules = [...allow, ...deny].map((text) => refParseRange(text)!)
    let client = randomClient
    if (nearRule && rules.length > 0) {
      // A client that differs from a rule's address in one bit, inside or outside the rule's prefix.
      const range = rules[bit % rules.length]!
      const width = range.family === 'v4' ? 32 : 128
      const flipped = range.bits ^ (1n << BigInt(bit % width))
      client = range.family === 'v4' ? v4Text(flipped) : v6Text(flipped, { compress: 0, length: 8, pad: false, upper: false, dotted: false })
    }
    return { allow, deny, client }
  })

function compile(allow: string[], deny: string[]): CompiledIpRules {
  const one = (text: string) => {
    const parsed = parseRange(text)
    if (!parsed.ok) throw new Error(`the scenario kept an invalid rule: ${text}`)
    return parsed.value
  }
  return { allow: allow.map(one), deny: deny.map(one) }
}

describe('IP rules (properties)', () => {
  it('reads every address as the reference does, and refuses what the reference refuses', () => {
    fc.assert(
      fc.property(addressText, (text) => {
        const parsed = parseAddress(text)
        const expected = refParseAddress(text)
        expect(parsed.ok, `ok for ${JSON.stringify(text)}`).toBe(expected !== null)
        if (parsed.ok && expected) {
          const actual = asReference({ address: parsed.value, prefix: 0, source: text })
          expect({ family: actual.family, bits: actual.bits }).toEqual(expected)
        }
      }),
      { numRuns: 1000 },
    )
  })

  it('reads every range as the reference does; a range written as IPv4-mapped IPv6 is the IPv4 range', () => {
    fc.assert(
      fc.property(rangeText, (text) => {
        const parsed = parseRange(text)
        const expected = refParseRange(text)
        expect(parsed.ok, `ok for ${JSON.stringify(text)}`).toBe(expected !== null)
        if (parsed.ok && expected) expect(asReference(parsed.value)).toEqual(expected)
      }),
      { numRuns: 1000 },
    )
  })

  it('gives every client the reference decision: deny wins, an empty allow list allows, malformed fails closed', () => {
    fc.assert(
      fc.property(scenario, ({ allow, deny, client }) => {
        const expected = refDecide(allow.map((t) => refParseRange(t)!), deny.map((t) => refParseRange(t)!), client)
        expect(checkClientAddress(compile(allow, deny), client)).toBe(expected)
      }),
      { numRuns: 1000 },
    )
  })

  it('decides the same for every spelling of one address (IPv4, IPv4-mapped in hex or dotted, padded, compressed)', () => {
    const spellings = fc.tuple(v4Value, v6Style, v6Style).map(([v4, a, b]) => [v4Text(v4), v6Text(MAPPED_PREFIX | v4, a), v6Text(MAPPED_PREFIX | v4, b)])
    fc.assert(
      fc.property(scenario, spellings, ({ allow, deny }, texts) => {
        const rules = compile(allow, deny)
        const decisions = new Set(texts.map((text) => checkClientAddress(rules, text)))
        expect(decisions.size, texts.join(' | ')).toBe(1)
      }),
      { numRuns: 500 },
    )
  })

  it('never throws, whatever the text, and a policy with a rule the reference refuses is refused as a whole', () => {
    fc.assert(
      fc.property(fc.oneof(rangeText, fc.string({ unit: 'binary', maxLength: 40 })), (text) => {
        parseAddress(text)
        parseRange(text)
        checkClientAddress({ allow: [], deny: compile(['192.0.2.0/24'], []).allow }, text)
        const policy = parsePolicy({ version: 1, models: {}, ip: { allow: [text] } })
        expect(policy.ok).toBe(refParseRange(text) !== null)
      }),
      { numRuns: 500 },
    )
  })
})
