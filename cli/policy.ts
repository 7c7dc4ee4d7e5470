/**
 * Policy documents attached to keys (column `api_keys.policy`; NULL means the key may use nothing), validated by
 * the very schema the Worker enforces (src/policy/schema.ts), so the CLI never stores a policy the gateway would
 * refuse or read differently.
 */
import { readFile } from 'node:fs/promises'
import { parsePolicyText } from '../src/policy/schema'
import { CliError } from './errors'

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
 * The policy document in `file` (a --policy option), checked and ready to store; null when no file was given.
 * Shared by `keys create`, `keys policy set` and `connectors add`. @throws CliError with every problem by JSON path
 */
export async function readPolicyFile(file: string | undefined): Promise<string | null> {
  if (file === undefined) return null
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    throw new CliError(`cannot read --policy ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  try {
    return preparePolicy(text, file)
  } catch (error) {
    if (error instanceof PolicyError) throw new CliError(error.message)
    throw error
  }
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
