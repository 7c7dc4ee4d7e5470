/**
 * `.dev.vars`: wrangler's file of local secrets (git-ignored). `npm start` creates it with a fresh CREDENTIALS_KEY and
 * ADMIN_SECRET, or adds whichever is missing to an existing file, and never touches anything else in it.
 */
import { appendFile, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateCredentialsKey } from '../../src/lib/crypto'
import { bytesToHex } from '../../src/lib/encoding'
import { parseDotenv } from '../dotenv'

export interface DevVars {
  path: string
  values: Record<string, string>
  /** What was done to the file, for one line of output; undefined when it was left alone. */
  change?: 'created' | `added ${string}`
}

/** 32 random bytes as hex: the signing secret of the admin channel (src/admin/signature.ts). */
export function generateAdminSecret(): string {
  return bytesToHex(crypto.getRandomValues(new Uint8Array(32)))
}

function template(credentialsKey: string, adminSecret: string): string {
  return `# Local secrets and settings for \`wrangler dev\` / \`npm start\`. Never commit this file.

# Encrypts the Odoo secrets stored in the local D1 database. Changing it makes existing keys unusable.
CREDENTIALS_KEY=${credentialsKey}

# Signs the CLI's "apply this key change now" calls to the gateway (docs/KEY-LIFECYCLE.md).
ADMIN_SECRET=${adminSecret}

# Without ODOO_URL, \`npm start\` runs a bundled demo Odoo on loopback and creates a demo key for it.
# To use a real Odoo instead, uncomment and fill in, then create keys with \`npx odoo-mcp keys create\`:
# ODOO_URL=https://erp.example.com
# ODOO_DB=production
# ODOO_PROTOCOL=auto
`
}

export async function ensureDevVars(projectDir: string): Promise<DevVars> {
  const path = join(projectDir, '.dev.vars')
  let text: string | undefined
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  if (text === undefined) {
    const created = template(generateCredentialsKey(), generateAdminSecret())
    // 0600: the file holds the key that decrypts every stored Odoo secret.
    await writeFile(path, created, { mode: 0o600, flag: 'wx' })
    return { path, values: parseDotenv(created), change: 'created' }
  }
  const values = parseDotenv(text)
  const missing: string[] = []
  if (!values.CREDENTIALS_KEY) missing.push(`CREDENTIALS_KEY=${generateCredentialsKey()}`)
  if (!values.ADMIN_SECRET) missing.push(`ADMIN_SECRET=${generateAdminSecret()}`)
  if (missing.length === 0) return { path, values }
  const lines = missing.join('\n') + '\n'
  await appendFile(path, `${text === '' || text.endsWith('\n') ? '' : '\n'}${lines}`)
  const added = missing.map((line) => line.slice(0, line.indexOf('='))).join(' and ')
  return { path, values: { ...values, ...parseDotenv(lines) }, change: `added ${added}` }
}
