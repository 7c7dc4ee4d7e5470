/**
 * The transcripts recorded from real Odoo 18 and 19 (test/fixtures/odoo), loaded through Vite so tests inside
 * workerd can replay them as the answers of a fake fetch.
 */
const files = import.meta.glob('../../fixtures/odoo/**/*.json', { eager: true, import: 'default' }) as Record<string, unknown>

export interface RecordedAnswer {
  status: number
  headers: Record<string, string>
  body: string
}

/** The recorded response of `name` (e.g. 'odoo-18.0/16-sales_agent-read-others-order-AccessError'). */
export function recordedAnswer(name: string): RecordedAnswer {
  const data = files[`../../fixtures/odoo/${name}.response.json`]
  if (data === undefined) throw new Error(`no transcript ${name}`)
  // Odoo 19 files wrap the HTTP exchange; Odoo 18 files are the JSON-RPC body of an HTTP 200.
  const wrapped = data as { status?: number; headers?: Record<string, string>; body_kind?: string; body?: unknown }
  if (typeof wrapped.status === 'number' && wrapped.body_kind) {
    const body = typeof wrapped.body === 'string' ? wrapped.body : JSON.stringify(wrapped.body)
    return { status: wrapped.status, headers: wrapped.headers ?? {}, body }
  }
  return { status: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(data) }
}

export function recordedRequest(name: string): unknown {
  return files[`../../fixtures/odoo/${name}.request.json`]
}

export function transcriptNames(version: '18.0' | '19.0'): string[] {
  return Object.keys(files)
    .filter((path) => path.includes(`/odoo-${version}/`) && path.endsWith('.response.json'))
    .map((path) => path.replace('../../fixtures/odoo/', '').replace('.response.json', ''))
}

export function toResponse(answer: RecordedAnswer): Response {
  return new Response(answer.status === 204 ? null : answer.body, { status: answer.status, headers: answer.headers })
}
