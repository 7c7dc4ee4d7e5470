import { readFileSync } from 'node:fs'
import { cloudflareTest } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'

/** schema.sql split into statements; the workers setup file applies them to the test D1 database. */
function schemaStatements(): string[] {
  return readFileSync(new URL('./schema.sql', import.meta.url), 'utf8')
    .replace(/--.*$/gm, '')
    .split(/;\s*$/m)
    .map((statement) => statement.trim())
    .filter(Boolean)
}

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            main: './src/index.ts',
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: {
                ODOO_URL: inject('odooUrl'),
                ODOO_URL_JSON2: inject('odooUrlJson2'),
                ODOO_DB: 'mcp_demo',
                ODOO_PROTOCOL: 'jsonrpc',
                ODOO_TIMEOUT_MS: '5000',
                ALLOWED_ORIGINS: 'https://allowed.example',
                // A fixed test key: 32 bytes, base64. Never used outside tests.
                CREDENTIALS_KEY: 'dGVzdC1jcmVkZW50aWFscy1rZXktMzItYnl0ZXMhISE=',
                TEST_SCHEMA: JSON.stringify(schemaStatements()),
              },
            },
          })),
        ],
        test: {
          name: 'workers',
          // The Odoo simulator is served for real on loopback (Odoo 18 over JSON-RPC, Odoo 19 with JSON-2).
          globalSetup: ['test/support/global-setup.ts'],
          include: ['test/worker/**/*.test.ts'],
          setupFiles: ['test/worker/setup.ts'],
        },
      },
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
