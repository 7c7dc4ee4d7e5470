/**
 * Cursors of the audit endpoints: opaque to clients like every admin API cursor (admin/v1/http.ts), but encoded
 * from UTF-8, because they carry values read from D1 (a chain id, a stored hash) that nothing but the chain checks
 * constrain: a tampered row may hold any text, and verify must still be able to step past it and report it.
 */
import type { z } from 'zod'

function toBase64Url(bytes: Uint8Array): string {
  let binary = ''
  for (let index = 0; index < bytes.length; index += 0x8000) binary += String.fromCharCode(...bytes.subarray(index, index + 0x8000))
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

export function encodeAuditCursor(values: (string | number | null)[]): string {
  return toBase64Url(new TextEncoder().encode(JSON.stringify(values)))
}

/** The cursor's values checked against `shape`; `undefined` for no cursor, `null` for one this API did not give out. */
export function decodeAuditCursor<T extends z.ZodType>(text: string | undefined, shape: T): z.infer<T> | undefined | null {
  if (text === undefined) return undefined
  try {
    const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'))
    const json = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(binary, (char) => char.charCodeAt(0)))) as unknown
    const parsed = shape.safeParse(json)
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}
