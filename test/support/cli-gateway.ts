/**
 * A real gateway (`wrangler dev`, the project's wrangler.toml) with its own local D1 in a temp directory, for the
 * CLI's end-to-end tests: the CLI talks to it through the admin API exactly as it talks to `npm start`. One per test
 * file (starting one takes a few seconds); `cli(args)` runs bin/odoo-mcp.mjs against it.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { signAdminRequest } from '../../src/admin/signature'
import { generateCredentialsKey } from '../../src/lib/crypto'
import { applySchema, projectRoot, queryD1, runNode, type LocalD1, type ProcessResult } from './wrangler'
import { startWranglerDev, type WranglerDev } from './wrangler-dev'

export const CLI_BIN = join(projectRoot, 'bin', 'odoo-mcp.mjs')

export interface CliGateway {
  url: string
  adminSecret: string
  credentialsKey: string
  d1: LocalD1
  work: string
  /** Runs the CLI against this gateway (ODOO_MCP_GATEWAY_URL / ODOO_MCP_ADMIN_SECRET set; extra env wins). */
  cli(args: string[], options?: { input?: string; env?: NodeJS.ProcessEnv }): Promise<ProcessResult>
  /** Rows of the last statement, read with wrangler (other code than the CLI under test). */
  query(sql: string): Promise<Record<string, unknown>[]>
  stop(): Promise<void>
}

export interface CliGatewayOptions {
  /** Worker vars on top of the defaults (ODOO_URL is required: inject('odooUrl') or inject('odooUrlJson2')). */
  vars: Record<string, string>
  prefix?: string
}

export async function startCliGateway(options: CliGatewayOptions): Promise<CliGateway> {
  const work = await mkdtemp(join(tmpdir(), options.prefix ?? 'odoo-mcp-cli-'))
  const d1: LocalD1 = { configPath: join(projectRoot, 'wrangler.toml'), persistTo: join(work, 'state') }
  await applySchema(d1)
  const adminSecret = `cli-test-${'0123456789abcdef'.repeat(3)}`
  const credentialsKey = generateCredentialsKey()
  let gateway: WranglerDev | undefined
  try {
    gateway = await startWranglerDev(
      d1.configPath,
      d1.persistTo,
      { ODOO_DB: 'mcp_demo', ODOO_PROTOCOL: 'auto', CREDENTIALS_KEY: credentialsKey, ADMIN_SECRET: adminSecret, ALLOWED_ORIGINS: '', ...options.vars },
      '/healthz',
    )
    await warmUp(gateway.url, adminSecret)
  } catch (error) {
    await gateway?.stop()
    await rm(work, { recursive: true, force: true })
    throw error
  }
  return {
    url: gateway.url,
    adminSecret,
    credentialsKey,
    d1,
    work,
    cli(args, runOptions = {}) {
      // A long request timeout: CI runs these next to a dozen workerd processes on two cores, where a first admin
      // request (the ledger object and D1 opening) has been seen to take more than the CLI's default 30 s.
      const env = { ...process.env, ODOO_MCP_GATEWAY_URL: gateway.url, ODOO_MCP_ADMIN_SECRET: adminSecret, ODOO_MCP_ACTOR: 'cli-test', ODOO_MCP_TIMEOUT: '180', ...runOptions.env }
      return runNode(CLI_BIN, [...args, '--config', d1.configPath, '--persist-to', d1.persistTo], { env, input: runOptions.input })
    },
    query: (sql) => queryD1(d1, sql),
    async stop() {
      await gateway.stop()
      await rm(work, { recursive: true, force: true })
    },
  }
}

/** One signed admin request, so the ledger object and D1 are open before the first timed CLI command. */
async function warmUp(url: string, adminSecret: string): Promise<void> {
  const target = new URL('/admin/v1/whoami', url)
  const headers = await signAdminRequest(adminSecret, { method: 'GET', host: target.host, pathWithQuery: target.pathname, body: '' })
  const response = await fetch(target, { headers, signal: AbortSignal.timeout(180_000) })
  if (!response.ok) throw new Error(`the test gateway refused its warm-up request: HTTP ${response.status} ${await response.text()}`)
}
