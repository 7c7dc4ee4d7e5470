/**
 * SSRF protection for webhook targets. A subscription URL must be https; plain http only for loopback, and
 * loopback only when the deployment allows it (local development: WEBHOOK_ALLOW_LOOPBACK = "true"). Addresses that
 * reach the inside of a network are refused: private (10/8, 172.16/12, 192.168/16, fc00::/7), loopback, link-local
 * (169.254/16 — cloud metadata lives there — and fe80::/10), carrier-grade NAT, multicast, reserved, unspecified, and
 * well-known metadata host names. Checked when a subscription is created (with DNS resolution, in the CLI) and
 * before every delivery (literal addresses and the resolved addresses the caller passes in).
 */
import ipaddr from 'ipaddr.js'

export type UrlVerdict = { ok: true; url: URL } | { ok: false; reason: string }

/** ipaddr.js ranges that are public; everything else is refused. */
const PUBLIC_RANGES = new Set(['unicast'])
const METADATA_HOSTS = new Set(['metadata.google.internal', 'metadata', 'instance-data', 'metadata.azure.com'])
const LOOPBACK_HOSTS = new Set(['localhost', 'localhost.localdomain'])

function normalizedHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase()
}

/** The range ipaddr.js puts an address in, IPv4-mapped IPv6 read as IPv4 (::ffff:10.0.0.1 is 10.0.0.1). */
function rangeOf(address: string): string | undefined {
  if (!ipaddr.isValid(address)) return undefined
  let parsed = ipaddr.parse(address)
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address()
  return parsed.range()
}

/** Checks one resolved or literal address. */
export function checkAddress(address: string, allowLoopback: boolean): { ok: true } | { ok: false; reason: string } {
  const range = rangeOf(address)
  if (range === undefined) return { ok: false, reason: `'${address}' is not an IP address` }
  if (range === 'loopback' && allowLoopback) return { ok: true }
  if (!PUBLIC_RANGES.has(range)) return { ok: false, reason: `${address} is a ${range} address, not a public one` }
  return { ok: true }
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
  const literal = ipaddr.isValid(host)
  // Decimal, octal or hex IPv4 forms (http://2130706433/) are refused outright rather than guessed at.
  if (!literal && /^[0-9.x]+$/i.test(host)) return { ok: false, reason: `'${host}' looks like an IP address in a non-standard form` }
  const loopbackName = LOOPBACK_HOSTS.has(host) || host.endsWith('.localhost')
  const isLoopback = loopbackName || (literal && rangeOf(host) === 'loopback')
  if (url.protocol === 'http:') {
    if (!isLoopback) return { ok: false, reason: 'webhook URLs must use https (plain http only for loopback in local development)' }
  } else if (url.protocol !== 'https:') {
    return { ok: false, reason: 'webhook URLs must use https' }
  }
  if (isLoopback && !allowLoopback) return { ok: false, reason: 'loopback addresses are only allowed in local development' }
  if (METADATA_HOSTS.has(host) || host.endsWith('.internal')) return { ok: false, reason: `'${host}' is an internal metadata host` }
  if (literal) {
    const verdict = checkAddress(host, allowLoopback)
    if (!verdict.ok) return verdict
  }
  return { ok: true, url }
}
