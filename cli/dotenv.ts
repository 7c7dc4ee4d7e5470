/**
 * `.dev.vars` parsing. wrangler reads that file with the `dotenv` package; this is the same algorithm (dotenv 16's
 * `parse`), so the CLI and `npm start` see exactly the values the Worker will get in `wrangler dev`.
 */
import { readFileSync } from 'node:fs'

const LINE =
  /(?:^|^)\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?(?:$|$)/gm

export function parseDotenv(source: string): Record<string, string> {
  const result: Record<string, string> = {}
  const text = source.replace(/\r\n?/g, '\n')
  for (const match of text.matchAll(LINE)) {
    let value = (match[2] ?? '').trim()
    const quote = value[0]
    value = value.replace(/^(['"`])([\s\S]*)\1$/gm, '$2')
    if (quote === '"') value = value.replace(/\\n/g, '\n').replace(/\\r/g, '\r')
    result[match[1]!] = value
  }
  return result
}

/** The parsed file, or undefined when it does not exist. */
export function readDotenvFile(path: string): Record<string, string> | undefined {
  let source: string
  try {
    source = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  return parseDotenv(source)
}
