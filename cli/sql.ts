/**
 * SQL literals for `wrangler d1 execute --command`, which has no bound parameters: every value that reaches SQL goes
 * through this module, and the `sql` tag makes quoting the only way to interpolate.
 */

export type SqlValue = string | number | null

/** C0 controls, DEL and C1 controls: never legitimate in names or logins, and confusing in terminals and logs. */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/

export function hasControlCharacters(text: string): boolean {
  return CONTROL_CHARACTERS.test(text)
}

/** A SQL string literal. Single quotes are doubled; NUL is refused because SQLite would cut the text there. */
export function quoteString(value: string): string {
  if (value.includes('\u0000')) throw new Error('NUL character in a SQL value')
  return `'${value.replaceAll("'", "''")}'`
}

/** A SQL integer literal; anything but a safe integer is refused rather than rounded or written as 1e+21. */
export function quoteInteger(value: number): string {
  if (!Number.isSafeInteger(value)) throw new Error(`not an integer: ${value}`)
  return String(value)
}

export function quote(value: SqlValue): string {
  if (value === null) return 'NULL'
  if (typeof value === 'number') return quoteInteger(value)
  return quoteString(value)
}

/** Tagged template: sql`SELECT * FROM t WHERE id = ${id}` quotes every interpolated value. */
export function sql(strings: TemplateStringsArray, ...values: SqlValue[]): string {
  let out = strings[0]!
  values.forEach((value, index) => {
    out += quote(value) + strings[index + 1]!
  })
  return out
}
