/**
 * `npm start` (scripts/start.mjs): the gateway on http://127.0.0.1:8787/mcp with a local D1 and OAuth sign-in on
 * (PUBLIC_URL http://localhost:8787 unless configured), and, when no Odoo is configured, the bundled demo Odoo plus a
 * ready-to-use demo key and demo connector.
 *
 * Order matters: everything that can fail fast (port, .dev.vars, schema) comes before the slow `wrangler dev`, and the
 * banner is printed only once the gateway answers, so what it says is true.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { importCredentialsKey } from '../../src/lib/crypto'
import { startOdooSimulator } from '../../test/odoo-sim/server'
import { executeFile, executeSql, type D1Target } from '../d1'
import { writeGatewayUrlFile } from '../gateway'
import { CliError, EXIT_USAGE } from '../errors'
import { formatBanner } from './banner'
import { DEMO_CONNECTOR, provisionDemoConnector } from './demo-connector'
import { provisionDemoKey, DEMO_LOGIN } from './demo-key'
import { demoUserLines } from './demo-users'
import { ensureDevVars } from './dev-vars'
import { checkOdoo, type OdooCheck } from './odoo-check'
import { isPortFree, startWranglerDev, waitUntilReady } from './wrangler-dev'

const HOST = '127.0.0.1'
const DEFAULT_PORT = 8787
const DEMO_DB = 'mcp_demo'
/** The MCP Inspector's web UI runs on port 6274 and calls the gateway from the browser. */
const INSPECTOR_ORIGINS = 'http://localhost:6274,http://127.0.0.1:6274'
/** Vars a user may set in the environment of `npm start`; wrangler itself would ignore them there. */
const PASSED_VARS = ['ODOO_URL', 'ODOO_DB', 'ODOO_PROTOCOL', 'ODOO_TIMEOUT_MS', 'ALLOWED_ORIGINS', 'PUBLIC_URL'] as const

const USAGE = `Usage: npm start [-- --port N --persist-to DIR]

Runs the gateway locally with wrangler dev (MCP at http://${HOST}:${DEFAULT_PORT}/mcp) and a local D1 database.
OAuth sign-in is on, at PUBLIC_URL (.dev.vars or the environment; default http://localhost:<port>).
Without ODOO_URL (in .dev.vars or the environment) it also runs a demo Odoo and prints a demo key.

  --port N          Port of the gateway (default: $PORT or ${DEFAULT_PORT})
  --persist-to DIR  Local state directory (default: .wrangler/state)
  -h, --help        Show this help`

export interface StartOptions {
  projectDir: string
  argv: string[]
  env?: NodeJS.ProcessEnv
}

function say(text: string): void {
  process.stdout.write(`» ${text}\n`)
}

/** Non-empty string values of the `[vars]` table of wrangler.toml; enough for the flat file this project ships. */
function tomlVars(configPath: string): Record<string, string> {
  const vars: Record<string, string> = {}
  let inVars = false
  for (const line of readFileSync(configPath, 'utf8').split('\n')) {
    const section = /^\s*\[+\s*([^\]]+?)\s*\]+/.exec(line)
    if (section) inVars = section[1] === 'vars'
    const entry = inVars ? /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"([^"]*)"/.exec(line) : null
    if (entry && entry[2]) vars[entry[1]!] = entry[2]
  }
  return vars
}

const START_OPTIONS = {
  port: { type: 'string' },
  'persist-to': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): { port: number; persistTo?: string; help: boolean } {
  const parse = () => parseArgs({ args: argv, options: START_OPTIONS, strict: true })
  let values: ReturnType<typeof parse>['values']
  try {
    values = parse().values
  } catch (error) {
    throw new CliError(`${(error as Error).message.split('\n')[0]}\n\n${USAGE}`, EXIT_USAGE)
  }
  const portText = values.port ?? (env.PORT || String(DEFAULT_PORT))
  const port = Number(portText)
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) throw new CliError(`invalid port '${portText}'`, EXIT_USAGE)
  return { port, persistTo: values['persist-to'], help: values.help === true }
}

export async function main(options: StartOptions): Promise<number> {
  const env = options.env ?? process.env
  try {
    return await start(options.projectDir, options.argv, env)
  } catch (error) {
    if (error instanceof CliError) {
      process.stderr.write(`npm start: ${error.message}\n`)
      return error.exitCode
    }
    throw error
  }
}

async function start(projectDir: string, argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { port, persistTo: persistOption, help } = parseOptions(argv, env)
  if (help) {
    process.stdout.write(USAGE + '\n')
    return 0
  }
  const configPath = join(projectDir, 'wrangler.toml')
  if (!existsSync(configPath)) throw new CliError(`${configPath} not found`)
  const persistTo = persistOption ? resolve(persistOption) : undefined

  if (!(await isPortFree(HOST, port))) {
    throw new CliError(
      `port ${port} on ${HOST} is already in use (another \`npm start\` or \`wrangler dev\`?). ` +
        `Stop it, or use another port: PORT=${port + 1} npm start`,
    )
  }

  const devVars = await ensureDevVars(projectDir)
  if (devVars.change === 'created') say(`Created ${devVars.path} with a new CREDENTIALS_KEY (keep it out of git).`)
  if (devVars.change?.startsWith('added ')) say(`${devVars.change.replace('added', 'Added')} to ${devVars.path}.`)
  let credentialsKey: CryptoKey
  try {
    // With the older keys of a local rotation, so the demo key sealed under one of them is still reused.
    credentialsKey = await importCredentialsKey(devVars.values.CREDENTIALS_KEY, devVars.values.CREDENTIALS_KEYS_PREVIOUS)
  } catch (error) {
    throw new CliError(`${(error as Error).message} (in ${devVars.path})`)
  }

  const target: D1Target = { remote: false, configPath, ...(persistTo ? { persistTo } : {}) }
  say('Applying schema.sql to the local D1 database...')
  await executeFile(target, join(projectDir, 'schema.sql'))
  await checkSchemaIsCurrent(target, persistTo ?? join(projectDir, '.wrangler', 'state'))

  const fromToml = tomlVars(configPath)
  const setting = (name: string) => env[name] || devVars.values[name] || fromToml[name]
  const configured = (name: string) => Boolean(setting(name))
  const vars: Record<string, string> = {}
  for (const name of PASSED_VARS) if (env[name]) vars[name] = env[name]
  if (!configured('ALLOWED_ORIGINS')) vars.ALLOWED_ORIGINS = INSPECTOR_ORIGINS
  // Local development: webhook receivers on this machine (n8n on localhost, a test server) may be used.
  if (!configured('WEBHOOK_ALLOW_LOOPBACK')) vars.WEBHOOK_ALLOW_LOOPBACK = 'true'
  // OAuth sign-in for MCP clients on this machine. The issuer is the URL clients are given, so it is localhost as
  // they write it; a PUBLIC_URL the user set (a tunnel's https URL, say) wins.
  const publicUrl = setting('PUBLIC_URL') || `http://localhost:${port}`
  if (!configured('PUBLIC_URL')) vars.PUBLIC_URL = publicUrl

  const demo = !configured('ODOO_URL')
  let simulator: Awaited<ReturnType<typeof startOdooSimulator>> | undefined
  let key: string | undefined
  let odooLine: string
  let odooCheck: Promise<OdooCheck> | undefined
  const notes: string[] = []
  if (demo) {
    simulator = await startOdooSimulator({ version: 19, host: HOST, port: 0 })
    vars.ODOO_URL = simulator.url
    vars.ODOO_DB = DEMO_DB
    const keyFile = join(persistTo ?? join(projectDir, '.wrangler'), 'odoo-mcp-demo-key')
    const demoKey = await provisionDemoKey(target, credentialsKey, keyFile, Date.now())
    await provisionDemoConnector(target, Date.now())
    key = demoKey.key
    odooLine = `Odoo: demo Odoo 19 at ${simulator.url} (database ${DEMO_DB}, user ${DEMO_LOGIN}).`
    notes.push(
      `Demo key ${demoKey.id} ${demoKey.reused ? 'reused' : 'created'}; it is kept in ${keyFile} and reused on restart.`,
      'To use a real Odoo, set ODOO_URL (and ODOO_DB) in .dev.vars.',
    )
  } else {
    const url = setting('ODOO_URL')!
    odooLine = `Odoo: ${url}.`
    // Runs while wrangler starts; reported before the banner.
    odooCheck = checkOdoo({ url, db: setting('ODOO_DB'), protocol: setting('ODOO_PROTOCOL') })
    notes.push(
      'Create a key for an Odoo user (the secret is read from a file, or - for stdin):',
      '  npx odoo-mcp keys create --name "my agent" --odoo-login LOGIN --odoo-secret-file FILE',
    )
  }

  const wranglerArgs = ['--config', configPath, '--ip', HOST, '--port', String(port)]
  wranglerArgs.push('--show-interactive-dev-session=false')
  if (persistTo) wranglerArgs.push('--persist-to', persistTo)
  for (const [name, value] of Object.entries(vars)) wranglerArgs.push('--var', `${name}:${value}`)
  say(`Starting wrangler dev on http://${HOST}:${port} ...`)
  const wrangler = startWranglerDev(wranglerArgs, projectDir)

  const onSignal = (signal: NodeJS.Signals) => wrangler.stop(signal === 'SIGHUP' ? 'SIGTERM' : signal)
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']
  for (const signal of signals) process.on(signal, onSignal)

  const base = `http://${HOST}:${port}`
  // Where this gateway listens, for the key CLI's "apply now" calls (cli/gateway.ts) when PORT is not 8787.
  await writeGatewayUrlFile(persistTo ?? join(projectDir, '.wrangler'), base)
  void waitUntilReady(`${base}/healthz`, wrangler).then(async (readiness) => {
    if (!readiness.ok && readiness.detail === 'wrangler dev exited') return
    if (!readiness.ok) say(`Warning: ${readiness.detail}`)
    const odoo = await odooCheck
    const odooNotes = odoo ? [odoo.line, ...notes] : notes
    const oauth = { publicUrl, localUrl: `http://localhost:${port}`, ...(demo ? { demoConnector: DEMO_CONNECTOR } : {}) }
    const banner = formatBanner({ mcpUrl: `${base}/mcp`, key, odoo: odooLine, notes: odooNotes, demoUsers: demo ? demoUserLines() : undefined, oauth })
    process.stdout.write(`\n${banner}\n\n`)
  })

  const code = await wrangler.exited
  for (const signal of signals) process.off(signal, onSignal)
  if (simulator) await Promise.race([simulator.close(), new Promise((resolve) => setTimeout(resolve, 2000))])
  return code
}

/**
 * schema.sql only creates what is missing, so a local database made by an older version keeps its old tables.
 * Say so plainly instead of failing later with a SQL error.
 */
async function checkSchemaIsCurrent(target: D1Target, stateDir: string): Promise<void> {
  const [columns = []] = await executeSql(target, "SELECT name FROM pragma_table_info('api_keys')")
  const names = new Set(columns.map((row) => row.name))
  if (!names.has('rotated_at') || names.has('key_hash')) {
    throw new CliError(
      `the local D1 database in ${stateDir} was created by an older version of odoo-mcp-edge. ` +
        `It holds only local test data: delete ${join(stateDir, 'v3', 'd1')} and run npm start again.`,
    )
  }
}
