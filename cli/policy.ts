/**
 * Policy documents attached to keys (column `api_keys.policy`; NULL means the key may use nothing), validated by
 * the very schema the Worker enforces (src/policy/schema.ts), so the CLI never stores a policy the gateway would
 * refuse or read differently.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parsePolicyText } from '../src/policy/schema'
import { stringOption, type CommandContext } from './command'
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

/** Where the policy templates ship (each NAME.json explained in README.md there). */
export function templateDir(projectDir: string): string {
  return join(projectDir, 'docs', 'policy-templates')
}

const TEMPLATE_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/

/** The names of the shipped templates, sorted. */
export async function templateNames(projectDir: string): Promise<string[]> {
  const files = await readdir(templateDir(projectDir)).catch(() => [] as string[])
  return files.filter((file) => file.endsWith('.json')).map((file) => file.slice(0, -'.json'.length)).sort()
}

async function readTemplate(projectDir: string, name: string): Promise<string> {
  const known = await templateNames(projectDir)
  if (!TEMPLATE_NAME.test(name) || !known.includes(name)) {
    throw new CliError(`unknown --template '${name.slice(0, 64)}': the templates are ${known.join(', ') || '(none found in docs/policy-templates)'}`)
  }
  return readFile(join(templateDir(projectDir), `${name}.json`), 'utf8')
}

async function readPolicyText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (error) {
    throw new CliError(`cannot read --policy ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
}

/**
 * A template and a policy file together: the file's models are added to the template's, a model in both takes the
 * file's entry whole (so a file can narrow or widen one model of a template), and the file's other settings (ip,
 * rateLimit, workingHours) replace the template's. Both must be JSON objects; the result is checked as one policy.
 */
export function combinePolicies(template: string, file: string, fileName: string): string {
  const objectOf = (text: string, source: string): Record<string, unknown> => {
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (error) {
      throw new PolicyError(`${source} is not a valid policy:\n  $: not valid JSON (${(error as Error).message})`)
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new PolicyError(`${source} is not a valid policy:\n  $: must be a JSON object`)
    return value as Record<string, unknown>
  }
  const base = objectOf(template, 'the template')
  const extra = objectOf(file, fileName)
  const models = (document: Record<string, unknown>) => (document.models !== null && typeof document.models === 'object' && !Array.isArray(document.models) ? document.models : {})
  return JSON.stringify({ ...base, ...extra, models: { ...models(base), ...models(extra) } })
}

/**
 * The policy given by `--template NAME` and/or `--policy FILE`, checked and ready to send; null when neither was
 * given. Shared by `keys create`, `keys policy set` and `connectors add`. @throws CliError with every problem by JSON path
 */
export async function readPolicyOptions(projectDir: string, options: { template?: string; file?: string }): Promise<string | null> {
  const { template, file } = options
  if (template === undefined && file === undefined) return null
  const templateText = template === undefined ? undefined : await readTemplate(projectDir, template)
  const fileText = file === undefined ? undefined : await readPolicyText(file)
  const source = templateText && fileText ? `--template ${template} with --policy ${file}` : template !== undefined ? `template ${template}` : file!
  try {
    const text = templateText && fileText ? combinePolicies(templateText, fileText, file!) : (templateText ?? fileText)!
    return preparePolicy(text, source)
  } catch (error) {
    if (error instanceof PolicyError) throw new CliError(error.message)
    throw error
  }
}

/** The `--template` option of the commands that take `--policy`. */
export const TEMPLATE_OPTION = {
  type: 'string',
  value: 'NAME',
  description: "A policy template shipped in docs/policy-templates (read-only-sales, accounting-read, crm-read, helpdesk...); with --policy FILE, the file's models are added to it and replace the template's entry for a model both name",
} as const

/** `--template` and `--policy` of a command, read together. */
export function policyOptions(context: CommandContext): Promise<string | null> {
  return readPolicyOptions(context.projectDir, { template: stringOption(context, 'template'), file: stringOption(context, 'policy') })
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
