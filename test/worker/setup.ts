import { env } from 'cloudflare:workers'
import { beforeAll } from 'vitest'

// schema.sql is idempotent (CREATE ... IF NOT EXISTS), so applying it before every file is safe.
beforeAll(async () => {
  const statements = JSON.parse(env.TEST_SCHEMA) as string[]
  await env.DB.batch(statements.map((sql) => env.DB.prepare(sql)))
})
