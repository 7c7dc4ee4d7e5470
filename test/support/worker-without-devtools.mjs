// Runs a Worker locally the way `wrangler dev` does (wrangler's own startWorker: same bundling, same workerd, same
// local D1 and Durable Objects), but with the DevTools inspector off. Plain `wrangler dev` always attaches an
// inspector that enables the Network domain, so workerd reports every outbound fetch as DevTools events (with a
// JavaScript stack trace) to wrangler's Node process; for a gateway that calls Odoo on every request, that
// instrumentation cost more CPU than the gateway itself (docs/PERFORMANCE.md). Production has no inspector.
//
// Usage: node worker-without-devtools.mjs '<json: {config, persistTo, port, vars}>'
// Prints "ready <url>" once serving; stops on SIGTERM/SIGINT.
import { unstable_startWorker } from 'wrangler'

const { config, persistTo, port, vars } = JSON.parse(process.argv[2])
const worker = await unstable_startWorker({
  config,
  bindings: Object.fromEntries(Object.entries(vars).map(([name, value]) => [name, { type: 'plain_text', value }])),
  dev: { inspector: false, persist: persistTo, server: { hostname: '127.0.0.1', port }, watch: false, logLevel: 'error' },
})
const url = String(await worker.url).replace(/\/$/, '')
process.stdout.write(`ready ${url}\n`)
const stop = async () => {
  await worker.dispose().catch(() => {})
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
