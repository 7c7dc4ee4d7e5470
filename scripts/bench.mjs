#!/usr/bin/env node
// `npm run bench [-- --latency 20 --requests 400 --concurrency 1,16]`: see bench/run.ts.
import { loadTs, SetupError } from './load-ts.mjs'

try {
  const { main } = await loadTs('bench/run.ts', 'bench')
  await main(process.argv.slice(2))
  process.exit(0)
} catch (error) {
  if (error instanceof SetupError) {
    console.error(`bench: ${error.message}`)
    process.exit(1)
  }
  throw error
}
