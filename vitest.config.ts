import { readFileSync } from 'node:fs'
import { cloudflareTest } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'
import { hideExpectedTestNoise } from './test/support/quiet-output.js'

hideExpectedTestNoise()

/** schema.sql split into statements; the workers setup file applies them to the test D1 database. */
function schemaStatements(): string[] {
  return readFileSync(new URL('./schema.sql', import.meta.url), 'utf8')
    .replace(/--.*$/gm, '')
    .split(/;\s*$/m)
    .map((statement) => statement.trim())
    .filter(Boolean)
}

type Inject = (key: 'odooUrl' | 'odooUrlJson2' | 'receiverUrl') => string

/** A project whose tests run inside workerd with the gateway as `main`, against one simulated Odoo. */
function workersProject(options: {
  name: string
  include: string[]
  exclude?: string[]
  odoo: (inject: Inject) => Record<string, string>
  bindings?: Record<string, string>
}) {
  return {
    plugins: [
      cloudflareTest(({ inject }) => ({
        main: './src/index.ts',
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          bindings: {
            ...options.odoo(inject as Inject),
            ODOO_DB: 'mcp_demo',
            ODOO_TIMEOUT_MS: '5000',
            ALLOWED_ORIGINS: 'https://allowed.example',
            // A fixed test key: 32 bytes, base64. Never used outside tests.
            CREDENTIALS_KEY: 'dGVzdC1jcmVkZW50aWFscy1rZXktMzItYnl0ZXMhISE=',
            TEST_SCHEMA: JSON.stringify(schemaStatements()),
            // Signs the admin channel in tests (test/worker/keys/admin.test.ts).
            ADMIN_SECRET: 'test-admin-secret-0123456789abcdef0123456789',
            // Webhooks: the loopback receiver is allowed, and retries are squeezed from 26 hours into 1.5 seconds.
            RECEIVER_URL: (inject as Inject)('receiverUrl'),
            WEBHOOK_ALLOW_LOOPBACK: 'true',
            WEBHOOK_RETRY_BASE_MS: '40',
            WEBHOOK_RETRY_MAX_DELAY_MS: '200',
            WEBHOOK_RETRY_WINDOW_MS: '1500',
            // The non-interference property's size (test/worker/properties/noninterference.property.test.ts):
            // `npm run test:noninterference -- --runs N --max-seconds S` sets these.
            NONINTERFERENCE_RUNS: process.env.NONINTERFERENCE_RUNS ?? '400',
            NONINTERFERENCE_SECONDS: process.env.NONINTERFERENCE_SECONDS ?? '240',
            NONINTERFERENCE_SEED: process.env.NONINTERFERENCE_SEED ?? '',
            NONINTERFERENCE_PATH: process.env.NONINTERFERENCE_PATH ?? '',
            ...options.bindings,
          },
        },
      })),
    ],
    test: {
      name: options.name,
      include: options.include,
      exclude: options.exclude ?? [],
      setupFiles: ['test/worker/setup.ts'],
      // One file at a time: the files of a project share one runtime, and the restart tests
      // (abortAllDurableObjects) would otherwise cut the Durable Objects of a file running alongside.
      fileParallelism: false,
      // The Odoo simulators are served for real on loopback (Odoo 18 over JSON-RPC, Odoo 19 with JSON-2).
      globalSetup: ['test/support/global-setup.ts'],
    },
  }
}

export default defineConfig({
  test: {
    // Console output of passing tests is left out: the fault-injection tests log expected errors (D1 down...).
    silent: 'passed-only',
    projects: [
      workersProject({
        name: 'workers',
        include: ['test/worker/**/*.test.ts'],
        odoo: (inject) => ({ ODOO_URL: inject('odooUrl'), ODOO_PROTOCOL: 'jsonrpc' }),
      }),
      // The global limit and the key cache time, with values small enough to reach in a test.
      workersProject({
        name: 'workers-limits',
        include: ['test/worker-limits/**/*.test.ts'],
        odoo: (inject) => ({ ODOO_URL: inject('odooUrl'), ODOO_PROTOCOL: 'jsonrpc' }),
        bindings: { GLOBAL_RATE_LIMIT_PER_MINUTE: '120', GLOBAL_RATE_LIMIT_SHARDS: '4', KEY_CACHE_TTL_SECONDS: '1' },
      }),
      // OAuth sign-in (PUBLIC_URL set; https, as a deployed gateway's). The other projects run with OAuth off.
      workersProject({
        name: 'workers-oauth',
        include: ['test/worker-oauth/**/*.test.ts'],
        odoo: (inject) => ({ ODOO_URL: inject('odooUrl'), ODOO_PROTOCOL: 'jsonrpc' }),
        bindings: { PUBLIC_URL: 'https://gateway.test' },
      }),
      // The MCP end-to-end tests again, against a simulated Odoo 19 reached over JSON-2 (auto-detected).
      workersProject({
        name: 'workers-json2',
        include: ['test/worker/mcp/**/*.test.ts'],
        odoo: (inject) => ({ ODOO_URL: inject('odooUrlJson2'), ODOO_PROTOCOL: 'auto' }),
      }),
      {
        test: {
          name: 'node',
          globalSetup: ['test/support/global-setup.ts'],
          environment: 'node',
          include: ['test/node/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
})
