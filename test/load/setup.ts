/**
 * Everything the load run stands on, all on loopback: the simulated Odoo behind the fault proxy, a webhook receiver,
 * a fresh local D1 (schema, the run's keys, a webhook source and subscription made with the CLI), and `wrangler dev`
 * serving the load Worker (the gateway plus fault controls, test/load/load.worker.ts) with the gateway's own
 * wrangler.toml (only `main` swapped).
 */
import { randomBytes } from 'node:crypto'
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { executeFile, type D1Target } from '../../cli/d1'
import { keyCreation, type CreatedKey } from '../../cli/keys-store'
import { generateCredentialsKey, importCredentialsKey } from '../../src/lib/crypto'
import { startOdooSimulator, type RunningSimulator } from '../odoo-sim/server'
import { startWebhookReceiver } from '../support/webhook-receiver'
import { startWranglerDev, writeWorkerConfig } from '../support/wrangler-dev'
import { runCliOk, type CliTarget } from './cli'
import { LoadControl } from './control'
import { startFaultProxy, type FaultProxy } from './odoo-faults'

export const PROJECT = resolve(dirname(new URL(import.meta.url).pathname), '../..')

export interface LoadSettings {
  /** ODOO_TIMEOUT_MS of the run's gateway. */
  odooTimeoutMs: number
  /** Fixed latency of the simulated Odoo. */
  odooLatencyMs: number
}

export interface KeySpec {
  label: string
  policy: unknown
}

export interface LoadKey extends CreatedKey {
  label: string
}

export interface LoadEnvironment {
  /** The run's temporary directory (state, configs, policy files); removed by close(). */
  workDir: string
  gatewayUrl: string
  control: LoadControl
  cli: CliTarget
  odoo: RunningSimulator
  proxy: FaultProxy
  receiver: { url: string; close(): Promise<void> }
  keys: Map<string, LoadKey>
  webhook: { hookUrl: string; subscriptionId: string; secret: string; receiverBox: string }
  /** wrangler's output so far (the Worker's console.error lines: D1 failures, restarts...). */
  wranglerOutput(): string
  /** Seconds each setup step took. */
  timings: Record<string, number>
  close(): Promise<void>
}

/** The webhook receiver answers 500 to the first deliveries, so retries are part of the run even without faults. */
const RECEIVER_FAILS_FIRST = 3

/**
 * `wrangler dev` watches the files it bundled and restarts the Worker when one changes, cutting every request in
 * flight ("Your worker restarted mid-request"). Other work on src/ must not do that to a run, so the run serves a
 * copy of the sources taken when it starts (node_modules linked, so imports resolve as in the project): what is
 * tested is the code as it was at that moment, bundled by wrangler as usual. Returns the entry point of the copy.
 */
async function snapshotWorkerSources(work: string): Promise<string> {
  const snapshot = join(work, 'snapshot')
  await cp(join(PROJECT, 'src'), join(snapshot, 'src'), { recursive: true })
  await mkdir(join(snapshot, 'test', 'load'), { recursive: true })
  await cp(join(PROJECT, 'test', 'load', 'load.worker.ts'), join(snapshot, 'test', 'load', 'load.worker.ts'))
  await symlink(join(PROJECT, 'node_modules'), join(snapshot, 'node_modules'), 'dir')
  return join(snapshot, 'test', 'load', 'load.worker.ts')
}

export async function startLoadEnvironment(settings: LoadSettings, keySpecs: KeySpec[], log: (line: string) => void): Promise<LoadEnvironment> {
  const timings: Record<string, number> = {}
  const step = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const t0 = performance.now()
    const result = await work()
    timings[name] = Math.round(performance.now() - t0) / 1000
    return result
  }
  const cleanups: (() => Promise<void> | void)[] = []
  const close = async () => {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup()
      } catch {
        // best effort: the run is over
      }
    }
  }
  let output = ''
  try {
    const work = await mkdtemp(join(tmpdir(), 'odoo-mcp-load-'))
    cleanups.push(() => rm(work, { recursive: true, force: true }))
    const odoo = await startOdooSimulator({ version: 18, latencyMs: settings.odooLatencyMs })
    cleanups.push(() => odoo.close())
    const proxy = await startFaultProxy(odoo.url)
    cleanups.push(() => proxy.close())
    const receiver = await startWebhookReceiver()
    cleanups.push(() => receiver.close())

    const credentialsKey = generateCredentialsKey()
    const adminSecret = randomBytes(32).toString('hex')
    const target: D1Target = { remote: false, configPath: join(PROJECT, 'wrangler.toml'), persistTo: join(work, 'state') }

    // One wrangler call for the schema and every key (a wrangler call costs seconds on a busy machine).
    const keys = new Map<string, LoadKey>()
    await step('schema and keys', async () => {
      const sealKey = await importCredentialsKey(credentialsKey)
      const statements: string[] = []
      for (const spec of keySpecs) {
        const { created, statements: sql } = await keyCreation(sealKey, {
          name: `load ${spec.label}`,
          odooLogin: 'admin',
          odooSecret: 'admin',
          policy: JSON.stringify(spec.policy),
          expiresAt: null,
          now: Date.now(),
        })
        keys.set(spec.label, { ...created, label: spec.label })
        statements.push(...sql)
      }
      const file = join(work, 'setup.sql')
      await writeFile(file, `${await readFile(join(PROJECT, 'schema.sql'), 'utf8')}\n${statements.join(';\n')};\n`)
      await executeFile(target, file)
    })

    const configPath = await writeWorkerConfig(PROJECT, join(work, 'load-worker.toml'), 'odoo-mcp-edge-load', await snapshotWorkerSources(work))
    const vars = {
      ODOO_URL: process.env.LOAD_DIRECT ? odoo.url : proxy.url,
      ODOO_DB: 'mcp_demo',
      ODOO_PROTOCOL: 'jsonrpc',
      ODOO_TIMEOUT_MS: String(settings.odooTimeoutMs),
      ALLOWED_ORIGINS: '',
      CREDENTIALS_KEY: credentialsKey,
      ADMIN_SECRET: adminSecret,
      // Longer than the whole run: a key object reads D1 only on first use, on an admin refresh and for a secret it
      // does not know. So a D1 outage meets objects that have their key cached, and any 503 key_service_unavailable
      // is a failure, not the documented refusal of a key whose cache ran out while D1 was down (KEY-LIFECYCLE.md).
      KEY_CACHE_TTL_SECONDS: '600',
      WEBHOOK_ALLOW_LOOPBACK: 'true',
      // Retries squeezed from 30 s … 1 h into 250 ms … 2 s, kept for 10 minutes (longer than the run).
      WEBHOOK_RETRY_BASE_MS: '250',
      WEBHOOK_RETRY_MAX_DELAY_MS: '2000',
      WEBHOOK_RETRY_WINDOW_MS: '600000',
    }
    const cli: CliTarget = { configPath: target.configPath, persistTo: target.persistTo!, gatewayUrl: '', adminSecret, credentialsKey }
    const receiverBox = `load-${randomBytes(4).toString('hex')}`

    const gateway = await step('wrangler dev', () =>
      startWranglerDev(configPath, target.persistTo!, vars, '/healthz', {
        logLevel: 'error',
        output: (chunk) => (output += chunk),
      }),
    )
    cleanups.push(() => gateway.stop())
    cli.gatewayUrl = gateway.url
    // Through the admin API of the gateway just started, as an administrator would.
    const webhook = await step('webhooks (CLI)', async () => {
      const source = (await runCliOk(cli, ['webhooks', 'source', 'add', 'load', '--json'])).json as { token: string }
      const subscription = (
        await runCliOk(cli, [
          'webhooks', 'add', '--url', `${receiver.url}/fail/${RECEIVER_FAILS_FIRST}/${receiverBox}`,
          '--models', 'sale.order', '--events', 'write', '--fields', 'name,state', '--json',
        ])
      ).json as { id: string; secret: string }
      return { token: source.token, subscriptionId: subscription.id, secret: subscription.secret }
    })
    const control = new LoadControl(gateway.url)
    const shared = await control.sharedState()
    if (!shared.shared) {
      throw new Error(
        `the Durable Objects do not see the Worker's module state (worker ${shared.worker}, object ${shared.object}): ` +
          'the D1 outage switch would reach the Worker only',
      )
    }
    log(`setup: ${Object.entries(timings).map(([name, s]) => `${name} ${s} s`).join(', ')}`)
    return {
      workDir: work,
      gatewayUrl: gateway.url,
      control,
      cli,
      odoo,
      proxy,
      receiver,
      keys,
      webhook: { hookUrl: `${gateway.url}/hooks/odoo/load/${webhook.token}`, subscriptionId: webhook.subscriptionId, secret: webhook.secret, receiverBox },
      wranglerOutput: () => output,
      timings,
      close,
    }
  } catch (error) {
    await close()
    if (output) log(`wrangler output:\n${output.slice(-4000)}`)
    throw error
  }
}

