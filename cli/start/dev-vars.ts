/**
 * `.dev.vars`: wrangler's file of local secrets (git-ignored). `npm start` creates it with a fresh CREDENTIALS_KEY,
 * or adds one to an existing file, and never touches anything else in it.
 */
import { appendFile, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateCredentialsKey } from '../../src/lib/crypto'
import { parseDotenv } from '../dotenv'

export interface DevVars {
  path: string
  values: Record<string, string>
  /** What was done to the file, for one line of output; undefined when it was left alone. */
  change?: 'created' | 'added CREDENTIALS_KEY'
}

function template(credentialsKey: string): string {
  return `# Local secrets and settings for \`wrangler dev\` / \`npm start\`. Never commit this file.

# Encrypts the Odoo secrets stored in the local D1 database. Changing it makes existing keys unusable.
CREDENTIALS_KEY=${credentialsKey}

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
    const created = template(generateCredentialsKey())
    // 0600: the file holds the key that decrypts every stored Odoo secret.
    await writeFile(path, created, { mode: 0o600, flag: 'wx' })
    return { path, values: parseDotenv(created), change: 'created' }
  }
  const values = parseDotenv(text)
  if (values.CREDENTIALS_KEY) return { path, values }
  const line = `CREDENTIALS_KEY=${generateCredentialsKey()}\n`
  await appendFile(path, `${text === '' || text.endsWith('\n') ? '' : '\n'}${line}`)
  return { path, values: { ...values, ...parseDotenv(line) }, change: 'added CREDENTIALS_KEY' }
}
