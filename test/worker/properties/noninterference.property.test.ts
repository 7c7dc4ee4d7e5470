/**
 * Non-interference of the policy guard (test/noninterference/property.ts; docs/SECURITY.md): a bounded run in
 * `npm test`, the long one with `npm run test:noninterference -- --runs 100000`.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { env } from 'cloudflare:workers'
import { caseArbitrary, coverage, describeCase, runCase } from '../../noninterference/property'

/** `npm test` runs a bounded number of cases; `npm run test:noninterference` sets more, and a time limit. */
const RUNS = Number((env as unknown as Record<string, string | undefined>).NONINTERFERENCE_RUNS ?? 400)
/** Replays a run: the seed a failure printed (and NONINTERFERENCE_PATH, its path). */
const SEED = (env as unknown as Record<string, string | undefined>).NONINTERFERENCE_SEED
const PATH = (env as unknown as Record<string, string | undefined>).NONINTERFERENCE_PATH
const SECONDS = Number((env as unknown as Record<string, string | undefined>).NONINTERFERENCE_SECONDS ?? 240)

describe('non-interference of the policy guard', () => {
  let cases = 0
  it(`gives the same answer on databases that differ only in hidden values (${RUNS} generated cases)`, async () => {
    const details = await fc.check(
      fc.asyncProperty(caseArbitrary, async (sample) => {
        // workerd moves its clock only when the test waits for something: without a pause now and then, the 5 s
        // timeout of every Odoo call would stay pending and the runtime's 10,000-timer quota would run out.
        if (++cases % 200 === 0) await new Promise((resolve) => setTimeout(resolve, 1))
        const leak = await runCase(sample)
        if (leak) throw new Error(leak)
      }),
      { numRuns: RUNS, ...(SEED ? { seed: Number(SEED) } : {}), ...(PATH ? { path: PATH } : {}), interruptAfterTimeLimit: SECONDS * 1000, markInterruptAsFailure: false },
    )
    if (details.failed) {
      const sample = details.counterexample![0]
      const leak = await runCase(sample)
      expect.fail(`leak found after ${details.numRuns} cases (replay: npm run test:noninterference -- --seed ${details.seed} --path ${details.counterexamplePath}):\n${describeCase(sample)}\n${leak ?? String(details.errorInstance)}`)
    }
    const perTool = [...coverage].map(([tool, { cases, answered }]) => `${tool} ${answered}/${cases}`).join(', ')
    console.log(`non-interference: ${details.numRuns} cases passed${details.interrupted ? ` (stopped at the ${SECONDS} s limit)` : ''}; answered without error per tool: ${perTool}`)
  }, (SECONDS + 120) * 1000)
})
