/**
 * Finds `CREDENTIALS_KEY`, the AES key the Worker uses to open the Odoo secrets stored in D1. The CLI seals secrets
 * with it, so it must be the very value the target Worker has: `.dev.vars` for `wrangler dev`, the deployed secret
 * for `--remote` (which wrangler cannot read back, hence the user has to supply it).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { importCredentialsKey } from '../src/lib/crypto'
import { parseDotenv, readDotenvFile } from './dotenv'
import { CliError } from './errors'

export interface CredentialsKeyOptions {
  remote: boolean
  /** --credentials-key-file: wins over everything else because it was asked for explicitly. */
  keyFile?: string
  /** Where `.dev.vars` is looked up: the directory of the wrangler config, like wrangler does. */
  projectDir: string
  env: NodeJS.ProcessEnv
}

export interface FoundCredentialsKey {
  key: CryptoKey
  /** Where it came from, for error messages. */
  source: string
}

function readKeyFile(path: string): string {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new CliError(`cannot read --credentials-key-file ${path}: ${(error as Error).message}`)
  }
  // Accept a dotenv-style file (CREDENTIALS_KEY=...) as well as the bare value.
  const fromDotenv = parseDotenv(text).CREDENTIALS_KEY
  return (fromDotenv ?? text).trim()
}

function findRawKey(options: CredentialsKeyOptions): { value: string; source: string } {
  if (options.keyFile) return { value: readKeyFile(options.keyFile), source: options.keyFile }
  const fromEnv = options.env.CREDENTIALS_KEY
  if (fromEnv) return { value: fromEnv.trim(), source: 'the CREDENTIALS_KEY environment variable' }
  if (options.remote) {
    throw new CliError(
      'CREDENTIALS_KEY is needed with --remote: it must be the value of the deployed Worker\'s CREDENTIALS_KEY secret ' +
        '(wrangler cannot read secrets back). Set the CREDENTIALS_KEY environment variable or pass --credentials-key-file FILE.',
    )
  }
  const devVarsPath = join(options.projectDir, '.dev.vars')
  const fromDevVars = readDotenvFile(devVarsPath)?.CREDENTIALS_KEY
  if (fromDevVars) return { value: fromDevVars, source: devVarsPath }
  throw new CliError(
    `CREDENTIALS_KEY not found: it is read from the CREDENTIALS_KEY environment variable, --credentials-key-file FILE, ` +
      `or ${devVarsPath} (\`npm start\` creates that file).`,
  )
}

export async function loadCredentialsKey(options: CredentialsKeyOptions): Promise<FoundCredentialsKey> {
  const { value, source } = findRawKey(options)
  try {
    return { key: await importCredentialsKey(value), source }
  } catch (error) {
    throw new CliError(`${(error as Error).message} (read from ${source})`)
  }
}
