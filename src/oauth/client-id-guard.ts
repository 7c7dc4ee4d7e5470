/**
 * Client ID Metadata Documents (URL client ids) are fetched by the OAuth library from wherever the client id points.
 * Before it does, the gateway refuses the ids that would make it fetch from inside a network or from an address
 * rather than a domain: the CIMD draft requires https and a path, and a document vouches for a domain, which an IP
 * literal is not. The rest (private targets behind a public name) is the global_fetch_strictly_public flag's job.
 * Pure. Returns why the id is refused, or null (a plain registered client id is never a URL and passes).
 */
import { checkWebhookUrl } from '../webhooks/url-guard'

export function clientIdProblem(clientId: string | null | undefined): string | null {
  if (!clientId || !/^[a-z][a-z0-9+.-]*:/i.test(clientId)) return null
  let url: URL
  try {
    url = new URL(clientId)
  } catch {
    return 'The client id looks like a URL but is not a valid one'
  }
  if (url.protocol !== 'https:') return 'A URL client id must use https'
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (/^[0-9.]+$/.test(host) || host.includes(':')) return 'A URL client id must name a domain, not an IP address'
  if (url.pathname === '/' || url.pathname === '') return 'A URL client id must have a path (the metadata document)'
  if (url.hash) return 'A URL client id must not have a fragment'
  const verdict = checkWebhookUrl(clientId, false)
  return verdict.ok ? null : `The client id URL is not allowed: ${verdict.reason}`
}
