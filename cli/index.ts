/**
 * `odoo-mcp`: manages the gateway's API keys in D1 through wrangler. Entry: `main(argv)` returns the exit code;
 * bin/odoo-mcp.mjs bundles this file (scripts/load-ts.mjs) and calls it.
 */
import { existsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { findPositionals, formatOptions, parseCommandLine, type OptionSpecs } from './args'
import type { Command, Io } from './command'
import { alertCommands } from './commands/alerts'
import { auditCommands } from './commands/audit'
import { keyCommands } from './commands/keys'
import { webhookCommands } from './commands/webhooks'
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from './errors'

const GLOBAL_OPTIONS: OptionSpecs = {
  local: { type: 'boolean', description: 'Use the local D1 database of `npm start` / `wrangler dev` (default)' },
  remote: { type: 'boolean', description: 'Use the deployed D1 database (`wrangler login` or CLOUDFLARE_API_TOKEN)' },
  'persist-to': { type: 'string', value: 'DIR', description: 'Local state directory, as given to `wrangler dev --persist-to`' },
  config: { type: 'string', short: 'c', value: 'PATH', description: 'wrangler config (default: ./wrangler.toml)' },
  gateway: {
    type: 'string',
    value: 'URL',
    description: 'Gateway to tell about key changes (default: $ODOO_MCP_GATEWAY_URL; local: http://127.0.0.1:8787)',
  },
  'admin-secret-file': {
    type: 'string',
    value: 'FILE',
    description: "File holding the gateway's ADMIN_SECRET (default: $ODOO_MCP_ADMIN_SECRET; local: .dev.vars)",
  },
  json: { type: 'boolean', description: 'Machine-readable output' },
  help: { type: 'boolean', short: 'h', description: 'Show help' },
}

const COMMANDS: Command[] = [...keyCommands, ...auditCommands, ...webhookCommands, ...alertCommands]

const ALL_OPTIONS: OptionSpecs = Object.assign({}, GLOBAL_OPTIONS, ...COMMANDS.map((command) => command.options))

function globalUsage(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length))
  return [
    'Usage: odoo-mcp <command> [options]',
    '',
    "Manages the API keys and reads the audit log of the odoo-mcp-edge gateway in its D1 database, through wrangler: the local database",
    'of `npm start` / `wrangler dev` by default, the deployed one with --remote.',
    '',
    'Commands:',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    'Global options:',
    formatOptions(GLOBAL_OPTIONS),
    '',
    'Run `odoo-mcp <command> --help` for the options of a command.',
    'Exit codes: 0 success, 1 failure, 2 usage error.',
  ].join('\n')
}

function commandUsage(command: Command): string {
  const own = Object.keys(command.options).length ? ['Options:', formatOptions(command.options), ''] : []
  return [
    `Usage: odoo-mcp ${command.name} ${command.synopsis}`,
    '',
    command.description,
    '',
    ...own,
    'Global options:',
    formatOptions(GLOBAL_OPTIONS),
  ].join('\n')
}

/** The command named by the first positional words, or undefined. `help keys create` works too. */
function findCommand(words: string[]): { command?: Command; consumed: number } {
  for (const command of COMMANDS) {
    const parts = command.name.split(' ')
    if (parts.every((part, index) => words[index] === part)) return { command, consumed: parts.length }
  }
  return { consumed: 0 }
}

function defaultIo(): Io {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }
}

export async function main(argv: string[], io: Io = defaultIo(), env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const fail = (message: string, code: number, usage?: string): number => {
    io.stderr.write(`odoo-mcp: ${message}\n${usage ? `\n${usage}\n` : ''}`)
    return code
  }

  const words = findPositionals(argv, ALL_OPTIONS)
  const asksHelp = words[0] === 'help'
  const { command, consumed } = findCommand(asksHelp ? words.slice(1) : words)

  if (!command) {
    const helpWanted = asksHelp || argv.includes('--help') || argv.includes('-h')
    if (helpWanted) {
      io.stdout.write(globalUsage() + '\n')
      return EXIT_OK
    }
    if (words.length === 0) return fail('missing command', EXIT_USAGE, globalUsage())
    return fail(`unknown command '${words.slice(0, 2).join(' ')}'`, EXIT_USAGE, globalUsage())
  }
  if (asksHelp) {
    io.stdout.write(commandUsage(command) + '\n')
    return EXIT_OK
  }

  try {
    const { values, positionals } = parseCommandLine(argv, { ...GLOBAL_OPTIONS, ...command.options })
    if (values.help) {
      io.stdout.write(commandUsage(command) + '\n')
      return EXIT_OK
    }
    const args = positionals.slice(consumed)
    if (args.length > command.arity) throw new UsageError(`unexpected argument '${args[command.arity]}'`, true)
    if (values.local && values.remote) throw new UsageError('--local and --remote exclude each other')
    const remote = values.remote === true
    if (remote && typeof values['persist-to'] === 'string') throw new UsageError('--persist-to applies to the local database only')

    const configPath = resolve(typeof values.config === 'string' ? values.config : 'wrangler.toml')
    if (!existsSync(configPath)) {
      throw new CliError(`wrangler config not found: ${configPath} (run odoo-mcp in the project directory, or pass --config PATH)`)
    }
    const persistTo = typeof values['persist-to'] === 'string' ? resolve(values['persist-to']) : undefined
    return await command.run({
      values,
      args,
      target: { remote, configPath, ...(persistTo ? { persistTo } : {}) },
      json: values.json === true,
      projectDir: dirname(configPath),
      env,
      io,
      now: Date.now(),
    })
  } catch (error) {
    if (error instanceof UsageError) {
      if (error.showUsage) return fail(error.message, error.exitCode, commandUsage(command))
      return fail(`${error.message}\n(see \`odoo-mcp ${command.name} --help\`)`, error.exitCode)
    }
    if (error instanceof CliError) return fail(error.message, error.exitCode)
    // A bug, not a user mistake: say so, and keep the stack for whoever reports it.
    const detail = env.ODOO_MCP_DEBUG ? `\n${(error as Error).stack ?? String(error)}` : ' (set ODOO_MCP_DEBUG=1 for details)'
    return fail(`unexpected error: ${(error as Error).message ?? String(error)}${detail}`, EXIT_FAILURE)
  }
}
