/** Human-readable output: times and plain-text tables. */

/** `2026-05-01 14:03 UTC`, or `fallback` for a missing time. Minutes are precise enough to read; --json has the ms. */
export function formatTime(ms: number | null, fallback = '-'): string {
  if (ms === null) return fallback
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC'
}

export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString()
}

function ellipsize(text: string, max: number): string {
  const chars = [...text]
  return chars.length > max ? chars.slice(0, max - 1).join('') + '…' : text
}

/** Left-aligned columns separated by two spaces; long cells are cut so one key stays on one line. */
export function formatTable(headers: string[], rows: string[][], maxCell = 32): string {
  const cells = [headers, ...rows.map((row) => row.map((cell) => ellipsize(cell, maxCell)))]
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => [...row[column]!].length)))
  return cells
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell + ' '.repeat(widths[column]! - [...cell].length)))
        .join('  '),
    )
    .join('\n')
}
