/**
 * Policy documents attached to keys (column `api_keys.policy`; NULL means the key may use nothing), validated by
 * the very schema the Worker enforces (src/policy/schema.ts), so the CLI never stores a policy the gateway would
 * refuse or read differently.
 */
import { parsePolicyText } from '../src/policy/schema'

export class PolicyError extends Error {}

/** Checks a policy document and returns the text to store in D1. @throws PolicyError listing every problem by JSON path */
export function preparePolicy(text: string, source: string): string {
  const parsed = parsePolicyText(text)
  if (!parsed.ok) {
    throw new PolicyError(`${source} is not a valid policy:\n${parsed.errors.map((error) => `  ${error}`).join('\n')}`)
  }
  // Stored compacted: one line, so it never spreads over several lines of a SQL statement or a log.
  return JSON.stringify(JSON.parse(text))
}

/**
 * The policy of the demo key provisioned by `npm start` (demo Odoo on loopback, user admin):
 * everything the Odoo user may do, in the version 1 format of src/policy/schema.ts. `npm start` rewrites it onto the
 * reused demo key at every start, so changing it here is enough. null would leave the demo key unable to use tools.
 */
export const DEMO_POLICY: object | null = {
  version: 1,
  models: { '*': { operations: ['read', 'create', 'write', 'unlink'], fields: '*' } },
}
