// `npm start`'s look at a configured Odoo (cli/start/odoo-check.ts): what it says for a working Odoo of each
// protocol, a missing ODOO_DB, nothing listening, something that is not Odoo, and a URL that is not one.
import { createServer, type Server } from 'node:http'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { checkOdoo } from '../../cli/start/odoo-check'
import { startOdooSimulator, type RunningSimulator } from '../odoo-sim/server'
import { freePort } from '../support/ports'

let v18: RunningSimulator
let v19: RunningSimulator
let htmlServer: Server
let htmlUrl: string

beforeAll(async () => {
  v18 = await startOdooSimulator({ version: 18 })
  v19 = await startOdooSimulator({ version: 19 })
  htmlServer = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' }).end('<html>a login page</html>')
  })
  await new Promise<void>((resolve) => htmlServer.listen(0, '127.0.0.1', resolve))
  const address = htmlServer.address()
  htmlUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
})

afterAll(async () => {
  await Promise.all([v18.close(), v19.close(), new Promise((resolve) => htmlServer.close(resolve))])
})

it('names the version and protocol of a working Odoo', async () => {
  expect(await checkOdoo({ url: v18.url, db: 'mcp_demo', protocol: undefined })).toEqual({
    ok: true,
    line: `Odoo 18 answers at ${v18.url} (JSON-RPC).`,
  })
  expect(await checkOdoo({ url: `${v19.url}/`, db: 'mcp_demo', protocol: 'auto' })).toEqual({
    ok: true,
    line: `Odoo 19 answers at ${v19.url} (JSON-2).`,
  })
  expect((await checkOdoo({ url: v19.url, db: 'mcp_demo', protocol: 'jsonrpc' })).line).toContain('(JSON-RPC)')
})

it('warns when ODOO_DB is missing and JSON-RPC needs it', async () => {
  const check = await checkOdoo({ url: v18.url, db: undefined, protocol: undefined })
  expect(check.ok).toBe(false)
  expect(check.line).toContain('ODOO_DB is not set')
  expect(await checkOdoo({ url: v19.url, db: undefined, protocol: ' JSON2 ' })).toEqual({ ok: true, line: `Odoo 19 answers at ${v19.url} (JSON-2).` })
})

it('warns, without throwing, when nothing answers or the server is not Odoo', async () => {
  const closed = await freePort()
  const unreachable = await checkOdoo({ url: `http://127.0.0.1:${closed}`, db: 'x', protocol: undefined })
  expect(unreachable).toEqual({
    ok: false,
    line:
      `Warning: Odoo at http://127.0.0.1:${closed} did not answer as Odoo: Odoo is unreachable (connection failed); ` +
      'check ODOO_URL and that Odoo is running. The gateway runs anyway; tool calls fail until Odoo answers.',
  })
  const html = await checkOdoo({ url: htmlUrl, db: 'x', protocol: undefined })
  expect(html.ok).toBe(false)
  expect(html.line).toContain('with an HTML page instead of JSON')
  expect(html.line).not.toContain('login page')
})

it('refuses a URL that is not http(s), without echoing credentials in it', async () => {
  expect((await checkOdoo({ url: 'ftp://admin:hunter2@erp.example.com', db: 'x', protocol: undefined })).line).not.toContain('hunter2')
  expect(await checkOdoo({ url: 'erp.example.com', db: 'x', protocol: undefined })).toEqual({
    ok: false,
    line: "Warning: ODOO_URL 'erp.example.com' is not an http(s) URL; tool calls will fail until it is fixed.",
  })
})
