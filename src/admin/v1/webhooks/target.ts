/**
 * Where a new subscription may deliver (docs/WEBHOOKS.md, "SSRF protection"): the rules of webhooks/url-guard.ts,
 * with loopback only when the deployment allows it (WEBHOOK_ALLOW_LOOPBACK = "true", as the dispatcher decides at
 * every attempt), and, for a host name, every address it resolves to (A and AAAA) public.
 *
 * A Worker has no resolver of its own, so names are resolved over DNS-over-HTTPS (Cloudflare's 1.1.1.1, JSON API).
 * This is a check when the subscription is made, as the CLI's own lookup was: at delivery time the Worker cannot see
 * which address `fetch` connects to (and on Cloudflare, Workers cannot reach private networks anyway).
 */
import { checkAddress, checkWebhookUrl } from '../../../webhooks/url-guard'

export type TargetVerdict =
  | { ok: true; url: string }
  /** The URL breaks a rule: the reason says which (fit for people, names no secret). */
  | { ok: false; kind: 'refused'; reason: string }
  /** The resolver did not answer: nothing can be concluded; retry. */
  | { ok: false; kind: 'unavailable'; reason: string }

export const DOH_URL = 'https://cloudflare-dns.com/dns-query'
/** Per query; A and AAAA are asked at the same time. */
const DOH_TIMEOUT_MS = 5_000
const RECORD_TYPES = { A: 1, AAAA: 28 } as const
/** DNS response codes (RFC 1035 RCODE) the JSON API answers in `Status`. */
const NOERROR = 0
const NXDOMAIN = 3

type Fetch = (input: string, init: RequestInit) => Promise<Response>

interface DohAnswer {
  Status?: unknown
  Answer?: { type?: unknown; data?: unknown }[]
}

/** Host names that are loopback by definition (RFC 6761): never sent to a resolver. */
const isLoopbackName = (host: string) => host === 'localhost' || host === 'localhost.localdomain' || host.endsWith('.localhost')

/** A literal address: url-guard judged it already (an IPv6 literal has colons; odd IPv4 spellings were refused). */
const isLiteral = (host: string) => host.includes(':') || /^[0-9.]+$/.test(host)

type Lookup = { ok: true; addresses: string[] } | { ok: false; kind: 'refused' | 'unavailable'; reason: string }

async function lookup(host: string, type: keyof typeof RECORD_TYPES, fetcher: Fetch): Promise<Lookup> {
  const url = `${DOH_URL}?name=${encodeURIComponent(host)}&type=${type}`
  let answer: DohAnswer
  try {
    const response = await fetcher(url, { headers: { accept: 'application/dns-json' }, redirect: 'manual', signal: AbortSignal.timeout(DOH_TIMEOUT_MS) })
    if (response.status !== 200) {
      await response.body?.cancel()
      return { ok: false, kind: 'unavailable', reason: `the DNS resolver answered HTTP ${response.status}` }
    }
    answer = (await response.json()) as DohAnswer
  } catch (error) {
    const timedOut = (error as Error).name === 'TimeoutError'
    return { ok: false, kind: 'unavailable', reason: timedOut ? `the DNS resolver did not answer within ${DOH_TIMEOUT_MS / 1000} s` : 'the DNS resolver could not be reached' }
  }
  if (answer.Status === NXDOMAIN) return { ok: false, kind: 'refused', reason: `cannot resolve ${host} (no such name)` }
  if (answer.Status !== NOERROR) return { ok: false, kind: 'refused', reason: `cannot resolve ${host} (DNS response code ${String(answer.Status).slice(0, 8)})` }
  // CNAME records come first in the answer; only the addresses they lead to count.
  const addresses = (Array.isArray(answer.Answer) ? answer.Answer : [])
    .filter((record) => record.type === RECORD_TYPES[type] && typeof record.data === 'string')
    .map((record) => record.data as string)
  return { ok: true, addresses }
}

/**
 * Checks a webhook URL for a new subscription; `fetcher` is the DNS-over-HTTPS client (tests pass their own).
 * @returns the URL as it will be stored (normalised by the URL parser), or why not.
 */
export async function checkTarget(text: string, allowLoopback: boolean, fetcher: Fetch = (input, init) => fetch(input, init)): Promise<TargetVerdict> {
  const verdict = checkWebhookUrl(text, allowLoopback)
  if (!verdict.ok) return { ok: false, kind: 'refused', reason: verdict.reason }
  const url = verdict.url.toString()
  const host = verdict.url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase()
  // Loopback names passed url-guard only where loopback is allowed.
  if (isLiteral(host) || isLoopbackName(host)) return { ok: true, url }
  const lookups = await Promise.all([lookup(host, 'A', fetcher), lookup(host, 'AAAA', fetcher)])
  const addresses: string[] = []
  for (const result of lookups) {
    if (!result.ok) return { ok: false, kind: result.kind, reason: result.reason }
    addresses.push(...result.addresses)
  }
  if (addresses.length === 0) return { ok: false, kind: 'refused', reason: `cannot resolve ${host} (no A or AAAA records)` }
  for (const address of addresses) {
    const check = checkAddress(address, allowLoopback)
    if (!check.ok) return { ok: false, kind: 'refused', reason: `${host} resolves to ${check.reason}` }
  }
  return { ok: true, url }
}
