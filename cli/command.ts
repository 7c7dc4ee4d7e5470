/** What every command gets and provides; the dispatch in index.ts relies on nothing else. */
import type { OptionSpecs, ParsedArgs } from './args'
import type { D1Target } from './d1'

export interface Io {
  stdin: NodeJS.ReadStream
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WriteStream
}

export interface CommandContext {
  /** Parsed options, global ones included. */
  values: ParsedArgs['values']
  /** Positional arguments after the command words. */
  args: string[]
  target: D1Target
  json: boolean
  /** Directory of the wrangler config: where `.dev.vars` is. */
  projectDir: string
  env: NodeJS.ProcessEnv
  io: Io
  now: number
}

export interface Command {
  /** Command words, e.g. 'keys create'. */
  name: string
  summary: string
  /** What follows the name in the usage line. */
  synopsis: string
  /** Paragraph(s) shown by --help under the usage line. */
  description: string
  options: OptionSpecs
  /** How many positional arguments the command takes. */
  arity: number
  run(context: CommandContext): Promise<number>
}

export function print(context: CommandContext, text: string): void {
  context.io.stdout.write(text + '\n')
}

export function printJson(context: CommandContext, value: unknown): void {
  context.io.stdout.write(JSON.stringify(value, null, 2) + '\n')
}

/** A string option's value, or undefined when it was not given. */
export function stringOption(context: CommandContext, name: string): string | undefined {
  const value = context.values[name]
  return typeof value === 'string' ? value : undefined
}
