/// <reference types="vite/types/importMeta.d.ts" />
// Types of `env` and `exports` from 'cloudflare:workers' inside the workers test project.
import type { Env as GatewayEnv } from '../src/env'

declare global {
  namespace Cloudflare {
    interface Env extends GatewayEnv {
      /** schema.sql statements (JSON), applied by test/worker/setup.ts. */
      TEST_SCHEMA: string
      /** The loopback webhook receiver (test/support/webhook-receiver.ts). */
      RECEIVER_URL: string
    }
    interface GlobalProps {
      mainModule: typeof import('../src/index')
    }
  }
}
