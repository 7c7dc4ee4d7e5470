/**
 * Command-line parsing on top of `node:util` parseArgs, with messages fit for users: Node's own messages for option
 * values are fine, but unknown options get a pointer to the help, and anything that looks like an attempt to pass a
 * secret on the command line is refused with the reason.
 */
import { parseArgs } from 'node:util'
import { UsageError } from './errors'

export interface OptionSpec {
  type: 'string' | 'boolean'
  short?: string
  /** Placeholder of the value in help texts, e.g. 'FILE'. */
  value?: string
  description: string
  /** The option may be given several times (string options): its value is then the list, in order. */
  multiple?: boolean
}

export type OptionSpecs = Record<string, OptionSpec>

export interface ParsedArgs {
  values: Record<string, string | string[] | boolean | undefined>
  positionals: string[]
}

/** Options that look like a way to hand over a secret: argv ends up in shell history and `ps`, so there is none. */
const SECRET_LIKE = /secret|passw|api-?key|token/i

function toParseArgsOptions(specs: OptionSpecs) {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {}
  for (const [name, spec] of Object.entries(specs)) {
    options[name] = { type: spec.type, ...(spec.short ? { short: spec.short } : {}), ...(spec.multiple ? { multiple: true } : {}) }
  }
  return options
}

/**
 * Positional words of `args`, skipping option values. Lenient on purpose: it only finds the command name, the
 * strict parse of that command's options comes after.
 */
export function findPositionals(args: string[], specs: OptionSpecs): string[] {
  const { positionals } = parseArgs({ args, options: toParseArgsOptions(specs), strict: false, allowPositionals: true })
  return positionals
}

/** Strict parse against the options of one command. @throws UsageError */
export function parseCommandLine(args: string[], specs: OptionSpecs): ParsedArgs {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: toParseArgsOptions(specs),
      strict: true,
      allowPositionals: true,
    })
    const flat: ParsedArgs['values'] = {}
    // Only options declared `multiple` keep a list; for the others the last occurrence wins, as usual for a CLI.
    for (const [name, value] of Object.entries(values)) {
      if (!Array.isArray(value)) flat[name] = value
      else flat[name] = specs[name]?.multiple ? value.map(String) : value.at(-1)
    }
    return { values: flat, positionals }
  } catch (error) {
    throw new UsageError(describeParseError(error), true)
  }
}

function describeParseError(error: unknown): string {
  const code = (error as { code?: unknown }).code
  const message = error instanceof Error ? error.message.split('\n')[0]! : String(error)
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    // Node quotes only the option name ('--x'), never an inline value, so nothing secret is echoed.
    const option = /'([^']*)'/.exec(message)?.[1] ?? 'option'
    if (SECRET_LIKE.test(option)) {
      return `unknown option ${option}: secrets are never accepted on the command line (they would end up in shell history and process lists); use --odoo-secret-file FILE, or --odoo-secret-file - to read standard input`
    }
    return `unknown option ${option}`
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && /ambiguous/.test(message)) {
    const option = /'(-[^' ]*)/.exec(message)?.[1] ?? 'the option'
    return `${option} needs a value (to pass a value that starts with '-', write ${option}=VALUE)`
  }
  return message
}

/** Help lines for a set of options, aligned. */
export function formatOptions(specs: OptionSpecs): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.value ? ` ${spec.value}` : ''}`
    return [flag, spec.description] as const
  })
  const width = Math.max(...rows.map(([flag]) => flag.length))
  return rows.map(([flag, description]) => `  ${flag.padEnd(width)}  ${description}`).join('\n')
}
