/**
 * Where the CLI finds the gateway it administers, and the secret it signs with (cli/admin-api.ts sends the requests).
 *
 * Where the gateway is: --gateway URL, else ODOO_MCP_GATEWAY_URL, else (local only) the URL `npm start` wrote, else
 * http://127.0.0.1:8787. The signing secret: --admin-secret-file FILE, else ODOO_MCP_ADMIN_SECRET, else (local only)
 * ADMIN_SECRET in .dev.vars.
 */
import { readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { stringOption, type CommandContext } from './command'
import { readDotenvFile } from './dotenv'
import { CliError } from './errors'

export const LOCAL_GATEWAY_URL = 'http://127.0.0.1:8787'
/** File `npm start` writes next to its local state with the URL it serves on. */
const GATEWAY_URL_FILE = 'odoo-mcp-gateway-url'

export async function writeGatewayUrlFile(stateDir: string, url: string): Promise<void> {
  await mkdir(stateDir, { recursive: true })
  await writeFile(join(stateDir, GATEWAY_URL_FILE), `${url}\n`)
}

/** The URL the local `npm start` announced, if it wrote one. */
function localGatewayUrl(context: CommandContext): string {
  try {
    const written = readFileSync(join(context.target.persistTo ?? join(context.projectDir, '.wrangler'), GATEWAY_URL_FILE), 'utf8').trim()
    if (/^http:\/\/127\.0\.0\.1:\d{1,5}$/.test(written)) return written
  } catch {
    // No npm start yet: the default port.
  }
  return LOCAL_GATEWAY_URL
}
export function gatewayUrl(context: CommandContext): string | undefined {
  const url = stringOption(context, 'gateway') ?? context.env.ODOO_MCP_GATEWAY_URL
  if (url) {
    if (!/^https?:\/\/[^\s/]+/.test(url)) throw new CliError(`--gateway / ODOO_MCP_GATEWAY_URL must be an http(s) URL (got '${url}')`)
    return url.replace(/\/+$/, '')
  }
  return context.target.remote ? undefined : localGatewayUrl(context)
}

export function adminSecret(context: CommandContext): string | undefined {
  const file = stringOption(context, 'admin-secret-file')
  if (file) {
    try {
      const text = readFileSync(file, 'utf8')
      return (readDotenvFileText(text) ?? text).trim()
    } catch (error) {
      throw new CliError(`cannot read --admin-secret-file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
    }
  }
  if (context.env.ODOO_MCP_ADMIN_SECRET) return context.env.ODOO_MCP_ADMIN_SECRET.trim()
  if (!context.target.remote) return readDotenvFile(join(context.projectDir, '.dev.vars'))?.ADMIN_SECRET
  return undefined
}

/** Accepts a dotenv-style file (ADMIN_SECRET=...) as well as the bare value. */
function readDotenvFileText(text: string): string | undefined {
  return /^\s*ADMIN_SECRET\s*=\s*(.+)$/m.exec(text)?.[1]?.replace(/^(['"])(.*)\1$/, '$2')
}
