/**
 * A loopback webhook receiver for tests, whose behaviour is chosen by the path:
 *   /ok/<box>                 200
 *   /fail/<n>/<box>           500 for the first n requests to this path, then 200
 *   /always/<status>/<box>    that status, always (500, 410, 302...)
 * Every request is kept per <box>: GET /__requests/<box> returns them (method, path, headers, body).
 */
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReceivedRequest {
  path: string
  headers: Record<string, string>
  body: string
  time: number
}

export async function startWebhookReceiver(): Promise<{ url: string; close(): Promise<void> }> {
  const boxes = new Map<string, ReceivedRequest[]>()
  const counts = new Map<string, number>()
  const read = (request: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let body = ''
      request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => resolve(body))
    })
  const server = createServer(async (request, response) => {
    const path = request.url ?? '/'
    const parts = path.split('/').filter(Boolean)
    if (request.method === 'GET' && parts[0] === '__requests') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(boxes.get(parts[1] ?? '') ?? []))
      return
    }
    const body = await read(request)
    const box = parts.at(-1) ?? ''
    const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, String(value)]))
    boxes.set(box, [...(boxes.get(box) ?? []), { path, headers, body, time: Date.now() }])
    const seen = (counts.get(path) ?? 0) + 1
    counts.set(path, seen)
    let status = 200
    if (parts[0] === 'fail') status = seen <= Number(parts[1]) ? 500 : 200
    if (parts[0] === 'always') status = Number(parts[1])
    response.writeHead(status, status === 302 ? { location: 'http://169.254.169.254/' } : {}).end(status < 300 ? 'ok' : 'no')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) }
}
