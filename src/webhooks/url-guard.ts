/**
 * SSRF protection for webhook targets. A subscription URL must be https; plain http only for loopback, and
 * loopback only when the deployment allows it (local development: WEBHOOK_ALLOW_LOOPBACK = "true"). Addresses that
 * reach the inside of a network are refused: private (10/8, 172.16/12, 192.168/16, fc00::/7), loopback, link-local
 * (169.254/16 — cloud metadata lives there — and fe80::/10), carrier-grade NAT, multicast, reserved, unspecified,
 * IPv6 outside the global unicast space 2000::/3, and well-known metadata host names. IPv6 forms that carry an IPv4
 * address (IPv4-mapped, NAT64, 6to4, ISATAP...) are judged by that IPv4 address, or refused outright when the address
 * does not tell where the packet goes (see {@link embeddedIPv4}). Checked when a subscription is created (with DNS
 * resolution, in the CLI) and before every delivery (literal addresses and the resolved addresses the caller passes
 * in).
 */
import ipaddr from 'ipaddr.js'

export type UrlVerdict = { ok: true; url: URL } | { ok: false; reason: string }
export type AddressVerdict = { ok: true } | { ok: false; reason: string }

/** ipaddr.js ranges that are public; everything else is refused. */
const PUBLIC_RANGES = new Set(['unicast'])
const METADATA_HOSTS = new Set(['metadata.google.internal', 'metadata', 'instance-data', 'metadata.azure.com'])
const LOOPBACK_HOSTS = new Set(['localhost', 'localhost.localdomain'])
/** IANA allocates global unicast IPv6 only from 2000::/3; the rest is reserved, local or special-purpose. */
const [GLOBAL_UNICAST, GLOBAL_UNICAST_BITS] = ipaddr.IPv6.parseCIDR('2000::/3')

/** How the guard reads one address: public, this machine (local development only), or refused with the reason. */
type Reading = { kind: 'public' } | { kind: 'loopback'; reason: string } | { kind: 'refused'; reason: string }

function normalizedHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase()
}

/**
 * Parses an address written the way every parser reads alike, or returns undefined: IPv4 as four decimal parts
 * without leading zeros (`012.0.0.1` is 10.0.0.1 to some parsers, 12.0.0.1 to others); IPv6 without a zone id, and
 * a dotted IPv4 tail in that same form. The tail becomes two hex groups before ipaddr.js sees it: ipaddr.js reads
 * `::1.2.3.4` as IPv4-mapped, RFC 4291 (and this guard) as the IPv4-compatible address ::102:304.
 */
function parseStrict(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (!text.includes(':')) return ipaddr.IPv4.isValidFourPartDecimal(text) ? ipaddr.IPv4.parse(text) : undefined
  const cut = text.lastIndexOf(':')
  const tail = text.slice(cut + 1)
  let hex = text
  if (tail.includes('.')) {
    if (!ipaddr.IPv4.isValidFourPartDecimal(tail)) return undefined
    const [a, b, c, d] = ipaddr.IPv4.parse(tail).octets as [number, number, number, number]
    hex = `${text.slice(0, cut + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  if (!/^[0-9a-f:]+$/i.test(hex) || !ipaddr.IPv6.isValid(hex)) return undefined
  return ipaddr.IPv6.parse(hex)
}

const v4Of = (high: number, low: number) => new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff])

type Embedding =
  /** The packet ends up at `v4` (or at a router there that forwards it on its own side): judged by that address. */
  | { form: string; judged: ipaddr.IPv4; routes: boolean }
  /** Where the packet goes cannot be told from the address: refused whatever it carries. */
  | { form: string; refused: string }

/**
 * The IPv6 forms that carry an IPv4 address (IPv4-mapped ::ffff:0:0/96 is read as IPv4 before this), and what the
 * guard does with each. `routes` marks forms whose prefix is the route itself (NAT64, 6to4): once the IPv4 address
 * is judged public, the IPv6 address is public; an ISATAP interface id rides on an ordinary prefix, judged as well.
 *
 * Judged (the IPv4 address it carries must be public; loopback never counts, it is not this machine's):
 * - NAT64 well-known prefix 64:ff9b::/96 (RFC 6052): a translator sends the packet to the last 32 bits. DNS64
 *   resolvers answer with such addresses on IPv6-only networks, so public ones must pass.
 * - 6to4 2002::/16 (RFC 3056): encapsulated to the IPv4 address in bits 16-47, whose router delivers inside its site.
 * - ISATAP interface ids ...:0000:5efe:a.b.c.d or ...:0200:5efe:a.b.c.d (RFC 5214, u/g bits free): on an ISATAP
 *   link the packet is encapsulated to a.b.c.d, which may be an internal address of our own site.
 *
 * Refused outright:
 * - IPv4-compatible ::a.b.c.d, ::/96 but :: and ::1 (RFC 4291 deprecated it): stacks disagree on it (an automatic
 *   tunnel sends it to a.b.c.d, others route it as IPv6, ipaddr.js even reads `::a.b.c.d` as IPv4-mapped), and it is
 *   outside the global unicast space anyway: no real receiver has one.
 * - IPv4-translated ::ffff:0:a.b.c.d (RFC 2765 SIIT, obsoleted by RFC 6052): not routed; whatever handles it is local.
 * - Local-use NAT64 64:ff9b:1::/48 (RFC 8215): the network picks its prefix length (/48 to /96), which decides where
 *   the IPv4 bits sit, so the address does not say which IPv4 address it reaches; and it is local by definition.
 * - Teredo 2001::/32 (RFC 4380): it carries two IPv4 addresses (the server, and the client's NAT mapping stored
 *   inverted, with a UDP port) and the path goes through relays and that NAT: no single address to judge.
 *
 * Not recognisable from the address, so not covered: NAT64 network-specific prefixes and 6rd (RFC 5969), which embed
 * IPv4 bits under an operator's own global prefix. Cloudflare's egress has neither toward private networks.
 */
function embeddedIPv4(address: ipaddr.IPv6): Embedding[] {
  const [p0, p1, p2, p3, p4, p5, p6, p7] = address.parts as [number, number, number, number, number, number, number, number]
  const found: Embedding[] = []
  if (p0 === 0 && p1 === 0 && p2 === 0 && p3 === 0 && p4 === 0 && p5 === 0 && (p6 !== 0 || p7 > 1)) {
    found.push({ form: 'an IPv4-compatible (::a.b.c.d, deprecated)', refused: 'stacks disagree on where it goes' })
  }
  if (p0 === 0 && p1 === 0 && p2 === 0 && p3 === 0 && p4 === 0xffff && p5 === 0) {
    found.push({ form: 'an IPv4-translated (::ffff:0:a.b.c.d, obsolete)', refused: 'it is not routed: whatever answers it is local' })
  }
  if (p0 === 0x64 && p1 === 0xff9b && p2 === 0 && p3 === 0 && p4 === 0 && p5 === 0) {
    found.push({ form: 'a rfc6052 (NAT64)', judged: v4Of(p6, p7), routes: true })
  }
  if (p0 === 0x64 && p1 === 0xff9b && p2 === 1) {
    found.push({ form: 'a local-use NAT64 (64:ff9b:1::/48)', refused: 'where its IPv4 bits sit depends on the local network' })
  }
  if (p0 === 0x2002) found.push({ form: 'a 6to4', judged: v4Of(p1, p2), routes: true })
  if (p0 === 0x2001 && p1 === 0) {
    found.push({ form: 'a teredo', refused: 'it goes through relays to a NAT mapping, not to one IPv4 address it names' })
  }
  if ((p4 & 0xfcff) === 0 && p5 === 0x5efe) found.push({ form: 'an ISATAP', judged: v4Of(p6, p7), routes: false })
  return found
}

function readIPv4(address: ipaddr.IPv4, text: string): Reading {
  const range = address.range()
  if (PUBLIC_RANGES.has(range)) return { kind: 'public' }
  const reason = `${text} is a ${range} address, not a public one`
  return range === 'loopback' ? { kind: 'loopback', reason } : { kind: 'refused', reason }
}

function readAddress(address: ipaddr.IPv4 | ipaddr.IPv6, text: string): Reading {
  if (address.kind() === 'ipv4') return readIPv4(address as ipaddr.IPv4, text)
  const v6 = address as ipaddr.IPv6
  // A dual-stack socket connects to the IPv4 address itself: ::ffff:10.0.0.1 is 10.0.0.1 (and ::ffff:127.0.0.1 is
  // this machine's loopback).
  if (v6.isIPv4MappedAddress()) return readIPv4(v6.toIPv4Address(), text)
  let routed = false
  for (const embedding of embeddedIPv4(v6)) {
    if ('refused' in embedding) {
      return { kind: 'refused', reason: `${text} is ${embedding.form} address, refused whatever IPv4 address it carries: ${embedding.refused}` }
    }
    const range = embedding.judged.range()
    if (!PUBLIC_RANGES.has(range)) {
      return { kind: 'refused', reason: `${text} is ${embedding.form} address that carries ${embedding.judged.toString()}, a ${range} address, not a public one` }
    }
    routed ||= embedding.routes
  }
  if (routed) return { kind: 'public' }
  const range = v6.range()
  if (range === 'loopback') return { kind: 'loopback', reason: `${text} is a loopback address, not a public one` }
  if (!PUBLIC_RANGES.has(range)) return { kind: 'refused', reason: `${text} is a ${range} address, not a public one` }
  if (!v6.match(GLOBAL_UNICAST, GLOBAL_UNICAST_BITS)) {
    return { kind: 'refused', reason: `${text} is outside the global unicast space 2000::/3, not a public address` }
  }
  return { kind: 'public' }
}

function verdictOf(reading: Reading, allowLoopback: boolean): AddressVerdict {
  if (reading.kind === 'public' || (reading.kind === 'loopback' && allowLoopback)) return { ok: true }
  return { ok: false, reason: reading.reason }
}

/** Checks one resolved or literal address (IPv4, or IPv6 without brackets). */
export function checkAddress(address: string, allowLoopback: boolean): AddressVerdict {
  const parsed = parseStrict(address)
  if (!parsed) return { ok: false, reason: `'${address}' is not an IP address in standard form` }
  return verdictOf(readAddress(parsed, address), allowLoopback)
}

/**
 * Checks a webhook target URL on its own (scheme, literal addresses, host names that are internal by definition).
 * Host names are resolved by the caller, whose answers go through {@link checkAddress}.
 */
export function checkWebhookUrl(text: string, allowLoopback: boolean): UrlVerdict {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return { ok: false, reason: 'not a valid URL' }
  }
  if (url.username || url.password) return { ok: false, reason: 'credentials in the URL are not allowed (use the signature instead)' }
  const host = normalizedHost(url)
  const literal = parseStrict(host)
  // Decimal, octal or hex IPv4 forms (http://2130706433/) are refused outright rather than guessed at.
  if (!literal && /^[0-9.x]+$/i.test(host)) return { ok: false, reason: `'${host}' looks like an IP address in a non-standard form` }
  const reading = literal ? readAddress(literal, host) : undefined
  const loopbackName = LOOPBACK_HOSTS.has(host) || host.endsWith('.localhost')
  const isLoopback = loopbackName || reading?.kind === 'loopback'
  if (url.protocol === 'http:') {
    if (!isLoopback) return { ok: false, reason: 'webhook URLs must use https (plain http only for loopback in local development)' }
  } else if (url.protocol !== 'https:') {
    return { ok: false, reason: 'webhook URLs must use https' }
  }
  if (isLoopback && !allowLoopback) return { ok: false, reason: 'loopback addresses are only allowed in local development' }
  if (METADATA_HOSTS.has(host) || host.endsWith('.internal')) return { ok: false, reason: `'${host}' is an internal metadata host` }
  if (reading) {
    const verdict = verdictOf(reading, allowLoopback)
    if (!verdict.ok) return verdict
  }
  return { ok: true, url }
}
