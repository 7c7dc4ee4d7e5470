// Python look-alikes: Odoo's messages embed Python reprs (`('name', 'likee', 'Azure')`), its JSON responses are
// written by Python's json module (`", "` / `": "` separators, floats as `1740.0`), and a malformed JSON body is
// reported with the message of Python's json decoder. Matching those byte for byte keeps the simulator honest.
import { PyFloat, type Json, type Out } from './types'

/** Marks a JS array that Python would show as a tuple. */
export class PyTuple {
  constructor(readonly items: readonly (Json | PyTuple)[]) {}
}

function reprString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'"
  let out = quote
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0
    if (ch === '\\') out += '\\\\'
    else if (ch === quote) out += '\\' + quote
    else if (ch === '\n') out += '\\n'
    else if (ch === '\r') out += '\\r'
    else if (ch === '\t') out += '\\t'
    else if (code < 0x20 || code === 0x7f) out += '\\x' + code.toString(16).padStart(2, '0')
    else out += ch
  }
  return out + quote
}

export function reprNumber(n: number): string {
  if (Number.isInteger(n)) return String(n)
  return pyFloatRepr(n)
}

function pyFloatRepr(n: number): string {
  if (Number.isNaN(n)) return 'nan'
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf'
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return n.toFixed(1)
  // JS and Python both print the shortest round-tripping repr; only the exponent spelling differs.
  return String(n).replace(/e([+-])(\d)$/, 'e$10$2')
}

/** Python's repr() of a JSON value (lists stay lists; use PyTuple for tuples). */
export function pyRepr(value: Json | PyTuple | undefined): string {
  if (value === undefined || value === null) return 'None'
  if (value instanceof PyTuple) {
    const items = value.items.map((item) => pyRepr(item))
    return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`
  }
  if (typeof value === 'boolean') return value ? 'True' : 'False'
  if (typeof value === 'number') return reprNumber(value)
  if (typeof value === 'string') return reprString(value)
  if (Array.isArray(value)) return `[${value.map((item) => pyRepr(item)).join(', ')}]`
  return `{${Object.entries(value)
    .map(([key, item]) => `${reprString(key)}: ${pyRepr(item)}`)
    .join(', ')}}`
}

/** Python's repr of a recordset, as in MissingError messages: `res.partner(999999,)`. */
export function reprRecordset(model: string, ids: readonly number[]): string {
  return `${model}(${ids.join(', ')}${ids.length === 1 ? ',' : ''})`
}

/** `json.dumps(value, ensure_ascii=False)`: what Odoo's make_json_response writes. */
export function pyJsonDumps(value: Out | undefined): string {
  if (value === undefined || value === null) return 'null'
  if (value instanceof PyFloat)
    return pyFloatRepr(value.value)
      .replace(/^nan$/, 'NaN')
      .replace(/^(-?)inf$/, '$1Infinity')
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : pyFloatRepr(value)
  if (typeof value === 'string') return JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map((item) => pyJsonDumps(item)).join(', ')}]`
  const parts: string[] = []
  for (const [key, item] of Object.entries(value)) parts.push(`${JSON.stringify(key)}: ${pyJsonDumps(item)}`)
  return `{${parts.join(', ')}}`
}

// ---------------------------------------------------------------------------------------------------------------
// JSON decoding with Python's error messages ("Expecting value: line 1 column 13 (char 12)").

export class PyJsonDecodeError extends Error {}

const WS = new Set([' ', '\t', '\n', '\r'])
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?/y

function decodeError(message: string, doc: string, pos: number): PyJsonDecodeError {
  const lineno = doc.slice(0, pos).split('\n').length
  const colno = pos - doc.lastIndexOf('\n', pos - 1)
  return new PyJsonDecodeError(`${message}: line ${lineno} column ${colno} (char ${pos})`)
}

class Stop {
  constructor(readonly pos: number) {}
}

function skipWs(s: string, i: number): number {
  while (i < s.length && WS.has(s[i] ?? '')) i++
  return i
}

function scanString(s: string, end: number): number {
  const begin = end - 1
  let i = end
  for (;;) {
    if (i >= s.length) throw decodeError('Unterminated string starting at', s, begin)
    const ch = s[i] ?? ''
    if (ch === '"') return i + 1
    if (ch === '\\') {
      const esc = s[i + 1]
      if (esc === undefined) throw decodeError('Unterminated string starting at', s, begin)
      if (esc === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) throw decodeError('Invalid \\uXXXX escape', s, i + 1)
        i += 6
        continue
      }
      if (!'"\\/bfnrt'.includes(esc)) throw decodeError(`Invalid \\escape: ${reprString(esc)}`, s, i)
      i += 2
      continue
    }
    if (ch.charCodeAt(0) < 0x20) throw decodeError('Invalid control character at', s, i)
    i++
  }
}

function scanOnce(s: string, idx: number): number {
  const ch = s[idx]
  if (ch === undefined) throw new Stop(idx)
  if (ch === '"') return scanString(s, idx + 1)
  if (ch === '{') return scanObject(s, idx + 1)
  if (ch === '[') return scanArray(s, idx + 1)
  for (const word of ['null', 'true', 'false', 'NaN', 'Infinity', '-Infinity']) {
    if (s.startsWith(word, idx)) return idx + word.length
  }
  NUMBER.lastIndex = idx
  const match = NUMBER.exec(s)
  if (match) return idx + match[0].length
  throw new Stop(idx)
}

function scanObject(s: string, end: number): number {
  let i = skipWs(s, end)
  if (s[i] === '}') return i + 1
  if (s[i] !== '"') throw decodeError('Expecting property name enclosed in double quotes', s, i)
  i++
  for (;;) {
    i = scanString(s, i)
    i = skipWs(s, i)
    if (s[i] !== ':') throw decodeError("Expecting ':' delimiter", s, i)
    i = skipWs(s, i + 1)
    i = scanValue(s, i)
    i = skipWs(s, i)
    const next = s[i]
    i++
    if (next === '}') return i
    if (next !== ',') throw decodeError("Expecting ',' delimiter", s, i - 1)
    i = skipWs(s, i)
    if (s[i] !== '"') throw decodeError('Expecting property name enclosed in double quotes', s, i)
    i++
  }
}

/** One value at `i`, reported the way Python's json module reports a missing one. */
function scanValue(s: string, i: number): number {
  try {
    return scanOnce(s, i)
  } catch (error) {
    if (error instanceof Stop) throw decodeError('Expecting value', s, error.pos)
    throw error
  }
}

function scanArray(s: string, end: number): number {
  let i = skipWs(s, end)
  if (s[i] === ']') return i + 1
  for (;;) {
    i = scanValue(s, i)
    i = skipWs(s, i)
    const next = s[i]
    i++
    if (next === ']') return i
    if (next !== ',') throw decodeError("Expecting ',' delimiter", s, i - 1)
    i = skipWs(s, i)
  }
}

/** Parses JSON; on failure throws PyJsonDecodeError with the message Python's `json.loads` would give. */
export function pyJsonLoads(text: string): Json {
  try {
    return JSON.parse(text) as Json
  } catch {
    // Locate the error the way Python's scanner does, for its message.
  }
  let end: number
  try {
    end = scanOnce(text, skipWs(text, 0))
  } catch (error) {
    if (error instanceof Stop) throw decodeError('Expecting value', text, error.pos)
    throw error
  }
  end = skipWs(text, end)
  if (end !== text.length) throw decodeError('Extra data', text, end)
  // Valid for Python but not for JS (NaN, Infinity): Odoo would accept it, the simulator does not.
  throw decodeError('Expecting value', text, 0)
}
