#!/usr/bin/env node
// `npm run test:load [-- --calls 10000 --max-seconds 300]`: see test/load/run.ts. Exit code 1 on any failed check.
import { loadTs, SetupError } from './load-ts.mjs'

try {
  const { main } = await loadTs('test/load/run.ts', 'test-load')
  const passed = await main(process.argv.slice(2))
  process.exit(passed ? 0 : 1)
} catch (error) {
  if (error instanceof SetupError) {
    console.error(`test:load: ${error.message}`)
    process.exit(1)
  }
  console.error(error)
  process.exit(1)
}
