/**
 * `odoo-mcp`: administers a gateway through its admin API (docs/ADMIN-API.md): one signed HTTPS request per command
 * (a few for paged output). Entry: `main(argv)` returns the exit code; bin/odoo-mcp.mjs bundles this file
 * (scripts/load-ts.mjs) and calls it.
 */
import { existsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { findPositionals, formatOptions, parseCommandLine, type OptionSpecs } from './args'
import type { Command, Io } from './command'
import { alertCommands } from './commands/alerts'
import { auditCommands } from './commands/audit'
import { connectionCommands } from './commands/connections'
import { connectorCommands } from './commands/connectors'
import { credentialsCommands } from './commands/credentials'
import { explainCommands } from './commands/explain'
import { keyCommands } from './commands/keys'
import { webhookCommands } from './commands/webhooks'
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError } from './errors'

const GLOBAL_OPTIONS: OptionSpecs = {
  local: { type: 'boolean', description: 'The local gateway of `npm start` (default): its URL and .dev.vars are found by themselves' },
  remote: { type: 'boolean', description: 'The deployed gateway: --gateway URL (or ODOO_MCP_GATEWAY_URL) and its ADMIN_SECRET' },
  'persist-to': { type: 'string', value: 'DIR', description: 'Local state directory of `npm start -- --persist-to DIR` (where it writes its URL)' },
  config: { type: 'string', short: 'c', value: 'PATH', description: 'wrangler config; .dev.vars is read next to it (default: ./wrangler.toml)' },
  gateway: {
    type: 'string',
    value: 'URL',
    description: 'The gateway to administer (default: $ODOO_MCP_GATEWAY_URL; local: the URL `npm start` wrote, else http://127.0.0.1:8787)',
  },
  'admin-secret-file': {
    type: 'string',
    value: 'FILE',
    description: "File holding the gateway's ADMIN_SECRET (default: $ODOO_MCP_ADMIN_SECRET; local: .dev.vars)",
  },
  json: { type: 'boolean', description: 'Machine-readable output' },
  help: { type: 'boolean', short: 'h', description: 'Show help' },
}

const COMMANDS: Command[] = [...keyCommands, ...explainCommands, ...connectorCommands, ...connectionCommands, ...auditCommands, ...webhookCommands, ...alertCommands, ...credentialsCommands]

const ALL_OPTIONS: OptionSpecs = Object.assign({}, GLOBAL_OPTIONS, ...COMMANDS.map((command) => command.options))

function globalUsage(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length))
  return [
    'Usage: odoo-mcp <command> [options]',
    '',
    'Administers an odoo-mcp-edge gateway through its admin API (docs/ADMIN-API.md): API keys, OAuth connectors and',
    'connections, webhooks, alerts and the audit log. The local gateway of `npm start` by default; a deployed one with',
    '--remote --gateway URL. Requests are signed with ADMIN_SECRET; every change is recorded in the admin log.',
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

/** Command groups: every proper prefix of a command name ('keys', 'keys policy', 'webhooks source', ...). */
const GROUPS = new Set(COMMANDS.flatMap((command) => command.name.split(' ').slice(0, -1).map((_, index, parts) => parts.slice(0, index + 1).join(' '))))

/** How many leading words name a group: 2 for `keys policy frob`, 1 for `keys frob`, 0 for `frob`. */
function groupDepth(words: string[]): number {
  let depth = 0
  while (depth < words.length && GROUPS.has(words.slice(0, depth + 1).join(' '))) depth++
  return depth
}

function groupUsage(group: string): string {
  const commands = COMMANDS.filter((command) => command.name.startsWith(group + ' '))
  const width = Math.max(...commands.map((command) => command.name.length))
  return [
    `Usage: odoo-mcp ${group} <command> [options]`,
    '',
    'Commands:',
    ...commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    `Run \`odoo-mcp ${group} <command> --help\` for the options of a command.`,
  ].join('\n')
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
    // A word that names no command is a usage error, --help or not: a typo in a script must not pass for success.
    const named = asksHelp ? words.slice(1) : words
    const helpWanted = asksHelp || argv.includes('--help') || argv.includes('-h')
    const depth = groupDepth(named)
    const group = named.slice(0, depth).join(' ')
    if (named.length > depth) {
      return fail(`unknown command '${named.slice(0, depth + 1).join(' ')}'`, EXIT_USAGE, group ? groupUsage(group) : globalUsage())
    }
    if (helpWanted) {
      io.stdout.write((group ? groupUsage(group) : globalUsage()) + '\n')
      return EXIT_OK
    }
    if (!group) return fail('missing command', EXIT_USAGE, globalUsage())
    return fail(`missing command after '${group}'`, EXIT_USAGE, groupUsage(group))
  }

  try {
    const { values, positionals } = parseCommandLine(argv, { ...GLOBAL_OPTIONS, ...command.options })
    const args = positionals.slice(consumed + (asksHelp ? 1 : 0))
    // Checked before --help too: `keys list typo --help` is as wrong as `keys list typo`.
    if (args.length > command.arity) throw new UsageError(`unexpected argument '${args[command.arity]}'`, true)
    if (asksHelp || values.help) {
      io.stdout.write(commandUsage(command) + '\n')
      return EXIT_OK
    }
    if (values.local && values.remote) throw new UsageError('--local and --remote exclude each other')
    const remote = values.remote === true
    if (remote && typeof values['persist-to'] === 'string') throw new UsageError('--persist-to applies to the local database only')

    const configPath = resolve(typeof values.config === 'string' ? values.config : 'wrangler.toml')
    // Only the local gateway needs the project directory (its .dev.vars and the URL npm start wrote).
    if (typeof values.config === 'string' && !existsSync(configPath)) throw new CliError(`wrangler config not found: ${configPath}`)
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
