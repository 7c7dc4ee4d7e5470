/** Figures and the table of `npm run bench:cli`: p50/p95/max per command and overall, and their ratios to the targets. */
import type { CommandSpec, RunResult, TargetKind } from './cli-commands'
import { percentile, round } from './stats'

/** Issue 16's targets, in seconds. */
export const TARGETS = { p50: 0.8, p95: 1.5, search: 1, verifyAll: 60 }

export interface CommandReport {
  label: string
  target: TargetKind
  status: 'ok' | 'n/a'
  reason?: string
  runs: number
  /** Seconds. */
  p50?: number
  p95?: number
  max?: number
  /** The warm-up run (round 0), seconds. */
  first?: number
  /** p50 / 0.8 s and p95 / 1.5 s ('command' and 'search'); max / 1 s ('search'); max / 60 s ('verify-all'). Over 1: missed. */
  ratios: { p50?: number; p95?: number; max?: number }
  /** Every timed run, seconds, in run order. */
  samples: number[]
  /** What the last run printed on stdout: a search that prints a few hundred bytes found nothing. */
  outputBytes?: number
  /** Its first 300 bytes. */
  outputHead?: string
}

function figuresOf(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b)
  return { p50: round(percentile(sorted, 50), 3), p95: round(percentile(sorted, 95), 3), max: round(sorted[sorted.length - 1]!, 3) }
}

function ratiosFor(target: TargetKind, figures: { p50: number; p95: number; max: number }): CommandReport['ratios'] {
  const everyCommand = target === 'command' || target === 'search' ? { p50: round(figures.p50 / TARGETS.p50), p95: round(figures.p95 / TARGETS.p95) } : {}
  if (target === 'search') return { ...everyCommand, max: round(figures.max / TARGETS.search) }
  if (target === 'verify-all') return { max: round(figures.max / TARGETS.verifyAll) }
  return everyCommand
}

export function summarizeCommand(spec: CommandSpec, result: { first?: RunResult; samples: number[]; failure?: RunResult; outputBytes?: number; outputHead?: string }): CommandReport {
  const samples = result.samples.map((ms) => round(ms / 1000, 3))
  const base = { label: spec.label, target: spec.target, runs: samples.length, ratios: {}, samples, outputBytes: result.outputBytes, outputHead: result.outputHead }
  if (spec.unavailable) return { ...base, status: 'n/a', reason: spec.unavailable }
  // A command that failed after timed runs is still n/a: a figure for a command that does not work means nothing.
  if (result.failure) return { ...base, status: 'n/a', reason: result.failure.reason }
  if (samples.length === 0) return { ...base, status: 'n/a', reason: 'not run' }
  const figures = figuresOf(samples)
  return { ...base, status: 'ok', ...figures, first: result.first ? round(result.first.ms / 1000, 3) : undefined, ratios: ratiosFor(spec.target, figures) }
}

const cell = (value: number | undefined, digits = 2) => (value === undefined ? '-' : value.toFixed(digits))

/** Columns padded to width; a row shorter than the header (n/a) keeps its last cell unpadded. */
function table(rows: string[][]): string {
  const full = (row: string[]) => row.length === rows[0]!.length
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (full(row) || column < row.length - 1 ? (row[column] ?? '').length : 0))))
  const line = (row: string[]) => row.map((text, column) => (column === 0 ? text.padEnd(widths[0]!) : full(row) || column < row.length - 1 ? text.padStart(widths[column]!) : text))
  return rows.map((row) => line(row).join(' | ').trimEnd()).join('\n')
}

/**
 * The overall figures pool every timed run of the commands held to "every command" (all but the whole-log verify,
 * which has its own target, and the --help baseline): percentiles of runs, not of per-command medians.
 */
export function formatReport(reports: CommandReport[]) {
  const pooled = reports.filter((r) => r.status === 'ok' && (r.target === 'command' || r.target === 'search')).flatMap((r) => r.samples)
  const overall = pooled.length ? figuresOf(pooled) : undefined
  const overallRatios = overall ? { p50: round(overall.p50 / TARGETS.p50), p95: round(overall.p95 / TARGETS.p95) } : undefined
  const rows: string[][] = [['command', 'runs', 'p50 s', 'p95 s', 'max s', 'first s', 'p50/0.8s', 'p95/1.5s', 'own target', 'out KB']]
  for (const r of reports) {
    if (r.status === 'n/a') {
      rows.push([r.label, String(r.runs), `n/a (${r.reason})`])
      continue
    }
    const own = r.target === 'search' ? `max/1s ${cell(r.ratios.max)}` : r.target === 'verify-all' ? `max/60s ${cell(r.ratios.max)}` : ''
    const out = r.outputBytes === undefined ? '-' : cell(r.outputBytes / 1024, 1)
    rows.push([r.label, String(r.runs), cell(r.p50), cell(r.p95), cell(r.max), cell(r.first), cell(r.ratios.p50), cell(r.ratios.p95), own, out])
  }
  const measured = reports.filter((r) => r.status === 'ok' && (r.target === 'command' || r.target === 'search')).length
  const missing = reports.filter((r) => r.status === 'n/a').length
  rows.push([
    `overall (${measured} commands, ${pooled.length} runs; ${missing} n/a)`, String(pooled.length), cell(overall?.p50), cell(overall?.p95), cell(overall?.max), '',
    cell(overallRatios?.p50), cell(overallRatios?.p95), '', '',
  ])
  return { commands: reports, overall: overall ? { ...overall, runs: pooled.length, ratios: overallRatios } : null, targets: TARGETS, table: table(rows) }
}
