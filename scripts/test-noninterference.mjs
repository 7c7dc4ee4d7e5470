#!/usr/bin/env node
// `npm run test:noninterference [-- --runs 100000 --max-seconds 3600] [--seed S --path P]`: the non-interference property of the policy
// guard (test/worker/properties/noninterference.property.test.ts, docs/SECURITY.md) with as many generated cases as
// asked, stopped after --max-seconds (the cases run so far count; a leak found fails the run with its counter-example).
import { spawnSync } from 'node:child_process'
import { parseArgs } from 'node:util'

let options
try {
  ;({ values: options } = parseArgs({
    options: {
      runs: { type: 'string', default: '100000' },
      'max-seconds': { type: 'string', default: '3600' },
      // Replays a failure: the seed and path its report printed.
      seed: { type: 'string' },
      path: { type: 'string' },
    },
  }))
} catch (error) {
  console.error(`test:noninterference: ${error.message}`)
  process.exit(2)
}
for (const name of ['runs', 'max-seconds']) {
  if (!/^[1-9][0-9]*$/.test(options[name])) {
    console.error(`test:noninterference: --${name} must be a positive whole number`)
    process.exit(2)
  }
}

const started = Date.now()
const result = spawnSync(
  process.execPath,
  // --silent=false: the suite reports how many cases it ran (and its coverage) on the console, which `npm test` hides
  // for passing tests (vitest.config.ts).
  ['node_modules/vitest/vitest.mjs', 'run', '--silent=false', '--project', 'workers', 'test/worker/properties/noninterference.property.test.ts'],
  {
    stdio: 'inherit',
    env: {
      ...process.env,
      NONINTERFERENCE_RUNS: options.runs,
      NONINTERFERENCE_SECONDS: options['max-seconds'],
      NONINTERFERENCE_SEED: options.seed ?? '',
      NONINTERFERENCE_PATH: options.path ?? '',
    },
  },
)
console.log(`test:noninterference: ${Math.round((Date.now() - started) / 1000)} s in all (runs asked: ${options.runs}, limit: ${options['max-seconds']} s)`)
process.exit(result.status ?? 1)
