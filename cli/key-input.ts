/**
 * Checks of what `keys create` is given. Names and logins end up in SQL text, terminals and audit logs, so control
 * characters are refused outright instead of escaped.
 */
import { readFile } from 'node:fs/promises'
import { CliError, UsageError } from './errors'
import { hasControlCharacters } from './sql'

const NAME_MAX = 100
const LOGIN_MAX = 255

export function checkName(name: string | undefined): string {
  if (name === undefined) throw new UsageError('--name is required')
  const length = [...name].length
  if (name.trim() === '' || length > NAME_MAX) throw new UsageError(`--name must be 1 to ${NAME_MAX} characters`)
  if (hasControlCharacters(name)) throw new UsageError('--name must not contain control characters')
  return name
}

export function checkLogin(login: string | undefined): string {
  if (login === undefined) throw new UsageError('--odoo-login is required')
  if (login.trim() === '' || [...login].length > LOGIN_MAX) {
    throw new UsageError(`--odoo-login must be 1 to ${LOGIN_MAX} characters`)
  }
  if (hasControlCharacters(login)) throw new UsageError('--odoo-login must not contain control characters')
  return login
}

const DURATION_UNITS: Record<string, number> = { h: 3_600_000, d: 86_400_000, w: 604_800_000 }
// No 'm': it reads as minutes to some and months to others.
const DURATION = /^(\d{1,6})([hdw])$/

/** A date (midnight UTC) or a date-time with an explicit zone: Date.parse alone accepts far too much. */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/

/** Expiry in ms since the epoch from --expires-at / --expires-in; null when neither is given. */
export function parseExpiry(expiresAt: string | undefined, expiresIn: string | undefined, now: number): number | null {
  if (expiresAt !== undefined && expiresIn !== undefined) {
    throw new UsageError('give --expires-at or --expires-in, not both')
  }
  if (expiresIn !== undefined) {
    const match = DURATION.exec(expiresIn)
    if (!match || Number(match[1]) === 0) {
      throw new UsageError(`--expires-in must be a positive number of hours, days or weeks, e.g. 12h, 30d, 8w (got '${expiresIn}')`)
    }
    return now + Number(match[1]) * DURATION_UNITS[match[2]!]!
  }
  if (expiresAt !== undefined) {
    if (/^\d{4}-\d{2}-\d{2}T[^Z+-]*$/.test(expiresAt)) {
      throw new UsageError(`--expires-at needs a time zone, e.g. ${expiresAt}Z for UTC`)
    }
    const time = ISO_DATE.test(expiresAt) || ISO_DATE_TIME.test(expiresAt) ? Date.parse(expiresAt) : NaN
    if (Number.isNaN(time)) {
      throw new UsageError(`--expires-at must be an ISO 8601 date or date-time, e.g. 2026-12-31 or 2026-12-31T18:00:00Z (got '${expiresAt}')`)
    }
    if (time <= now) throw new UsageError(`--expires-at is in the past: ${new Date(time).toISOString()}`)
    return time
  }
  return null
}

/** Removes one trailing line break: the one `echo` and editors add, not whitespace that may belong to the secret. */
function withoutFinalNewline(text: string): string {
  return text.replace(/\r?\n$/, '')
}

export interface SecretSource {
  stdin: NodeJS.ReadStream
  stderr: NodeJS.WriteStream
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = ''
  stream.setEncoding('utf8')
  for await (const chunk of stream) text += chunk as string
  return text
}

/** Reads a line from the terminal without echoing it, so the secret is not left on screen. */
function promptHidden(io: SecretSource, prompt: string): Promise<string> {
  const { stdin, stderr } = io
  stderr.write(prompt)
  stdin.setRawMode(true)
  stdin.setEncoding('utf8')
  stdin.resume()
  return new Promise((resolve, reject) => {
    let value = ''
    const finish = () => {
      stdin.off('data', onData)
      stdin.setRawMode(false)
      stdin.pause()
      stderr.write('\n')
    }
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n' || char === '\u0004') {
          finish()
          return resolve(value)
        }
        if (char === '\u0003') {
          finish()
          return reject(new CliError('cancelled', 130))
        }
        if (char === '\u007f' || char === '\b') value = [...value].slice(0, -1).join('')
        else value += char
      }
    }
    stdin.on('data', onData)
  })
}

/** The Odoo secret from a file, or from standard input when `file` is '-'. Never from argv. */
export async function readSecret(file: string, io: SecretSource): Promise<string> {
  let raw: string
  if (file === '-') {
    raw = io.stdin.isTTY
      ? await promptHidden(io, 'Odoo API key or password (not echoed): ')
      : await readAll(io.stdin)
  } else {
    try {
      raw = await readFile(file, 'utf8')
    } catch (error) {
      throw new CliError(`cannot read --odoo-secret-file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
    }
  }
  const secret = withoutFinalNewline(raw)
  if (secret === '') throw new CliError(`the Odoo secret is empty (${file === '-' ? 'standard input' : file})`)
  if (secret.includes('\u0000')) throw new CliError('the Odoo secret contains a NUL character')
  return secret
}
