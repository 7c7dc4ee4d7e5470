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

const DURATION_UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const DURATION = /^(\d{1,7})([smhd])$/

/** A duration such as 90d, 12h, 30m, 45s in milliseconds; undefined for anything else. */
export function parseDuration(value: string): number | undefined {
  const match = DURATION.exec(value)
  return match ? Number(match[1]) * DURATION_UNITS[match[2]!]! : undefined
}

/** A date (midnight UTC) or a date-time with an explicit zone: Date.parse alone accepts far too much. */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/

/**
 * A moment given as a duration from now (`<n>s|m|h|d`: 90d, 12h, 30m, 45s) or as an ISO 8601 date or date-time
 * with a zone (2026-12-31, 2026-12-31T18:00:00Z). Every time option of the CLI goes through here.
 * `allowNow`: a zero duration (or a time not after now) means "now" instead of an error.
 */
export function parseMoment(option: string, value: string, now: number, allowNow = false): number {
  const match = DURATION.exec(value)
  if (match) {
    const amount = Number(match[1])
    if (amount === 0 && !allowNow) throw new UsageError(`--${option} must be in the future (got '${value}')`)
    return now + amount * DURATION_UNITS[match[2]!]!
  }
  if (/^\d{4}-\d{2}-\d{2}T[^Z+-]*$/.test(value)) {
    throw new UsageError(`--${option} needs a time zone, e.g. ${value}Z for UTC`)
  }
  const time = ISO_DATE.test(value) || ISO_DATE_TIME.test(value) ? Date.parse(value) : NaN
  if (Number.isNaN(time)) {
    throw new UsageError(
      `--${option} must be a duration such as 90d, 12h, 30m, 45s, or an ISO 8601 date or date-time such as ` +
        `2026-12-31 or 2026-12-31T18:00:00Z (got '${value}')`,
    )
  }
  if (time <= now) {
    if (allowNow) return now
    throw new UsageError(`--${option} is in the past: ${new Date(time).toISOString()}`)
  }
  return time
}

/**
 * A moment in the past for search filters: a duration back from now (`7d` = seven days ago) or an ISO 8601
 * date/date-time.
 */
export function parsePastMoment(option: string, value: string, now: number): number {
  const match = DURATION.exec(value)
  if (match) return now - Number(match[1]) * DURATION_UNITS[match[2]!]!
  if (/^\d{4}-\d{2}-\d{2}T[^Z+-]*$/.test(value)) throw new UsageError(`--${option} needs a time zone, e.g. ${value}Z for UTC`)
  const time = ISO_DATE.test(value) || ISO_DATE_TIME.test(value) ? Date.parse(value) : NaN
  if (Number.isNaN(time)) {
    throw new UsageError(
      `--${option} must be a duration back from now such as 7d, 12h, 30m, or an ISO 8601 date or date-time such as ` +
        `2026-11-01 or 2026-11-01T08:00:00Z (got '${value}')`,
    )
  }
  return time
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
