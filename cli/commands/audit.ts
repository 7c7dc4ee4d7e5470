/**
 * `odoo-mcp audit search|verify|export`, over the admin API (docs/AUDIT.md): the gateway reads D1 and checks the
 * chains; the CLI pages through its answers.
 */
import { createWriteStream } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import { once } from 'node:events'
import type { AuditQuery } from '../../src/audit/record'
import type { recordToJson } from '../../src/audit/rows'
import { adminRequest, allPages, type Page } from '../admin-api'
import { print, printJson, stringOption, type Command, type CommandContext } from '../command'
import { CliError, EXIT_FAILURE, EXIT_OK, UsageError } from '../errors'
import { formatTable, formatTime } from '../format'
import { parsePastMoment } from '../key-input'
import { progress } from '../progress'

/** A record as the admin API answers it: the stable field names of docs/AUDIT.md. */
type RecordJson = ReturnType<typeof recordToJson>
/** An exported record: the same, with the hashes that chain it. */
type ExportedJson = RecordJson & { prevHash: string; hash: string }

/** The fields of `audit search --csv`, in order (those of --json); export adds the hashes. */
const FIELDS: (keyof RecordJson)[] = [
  'time', 'requestId', 'keyId', 'keyName', 'keyPrefix', 'odooUser', 'ip', 'userAgent', 'clientInfo', 'method', 'tool', 'model',
  'operation', 'recordIds', 'recordIdsTruncated', 'fields', 'domain', 'query', 'outcome', 'code', 'httpStatus', 'latencyMs',
  'odooLatencyMs', 'responseBytes', 'chainId', 'seq',
]
const EXPORT_FIELDS: (keyof ExportedJson)[] = [...FIELDS, 'prevHash', 'hash']

/** A key's id, or an OAuth connection's (its audit chain is named the same way, docs/OAUTH.md). */
const KEY_ID = /^(key|con)_[0-9a-f]{16}$/
const MODEL = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/
const OUTCOMES = ['ok', 'denied', 'error'] as const
const DEFAULT_LIMIT = 100
const MAX_LIMIT = 10_000
/** Records per request: the most each endpoint gives in a page. */
const SEARCH_PAGE = 1_000
const EXPORT_PAGE = 5_000

type Query = Record<string, string | undefined>

/** The filters as query parameters of /admin/v1/audit/records and /export; checked here before any request. */
function filtersOf(context: CommandContext): Query {
  const query: Query = {}
  const key = stringOption(context, 'key')
  if (key !== undefined) {
    if (!KEY_ID.test(key)) throw new UsageError(`--key must be a key ID (key_ + 16 hex characters) or a connection ID (con_ + 16 hex), not '${key.slice(0, 20)}'`)
    query.key = key
  }
  const model = stringOption(context, 'model')
  if (model !== undefined) {
    if (!MODEL.test(model) || model.length > 128) throw new UsageError(`--model must be a model name such as res.partner (got '${model.slice(0, 40)}')`)
    query.model = model
  }
  const record = stringOption(context, 'record')
  if (record !== undefined) {
    if (!/^([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*):(\d{1,15})$/.test(record) || record.length > 160) {
      throw new UsageError(`--record must be MODEL:ID, e.g. res.partner:42 (got '${record.slice(0, 40)}')`)
    }
    query.record = record
  }
  const outcome = stringOption(context, 'outcome')
  if (outcome !== undefined) {
    if (!(OUTCOMES as readonly string[]).includes(outcome)) throw new UsageError(`--outcome must be one of ${OUTCOMES.join(', ')}`)
    query.outcome = outcome
  }
  const ip = stringOption(context, 'ip')
  if (ip !== undefined) {
    if (!/^[0-9a-fA-F.:]{2,45}$/.test(ip)) throw new UsageError(`--ip must be an IPv4 or IPv6 address (got '${ip.slice(0, 45)}')`)
    query.ip = ip.toLowerCase()
  }
  const since = stringOption(context, 'since')
  if (since !== undefined) query.since = new Date(parsePastMoment('since', since, context.now)).toISOString()
  const until = stringOption(context, 'until')
  if (until !== undefined) query.until = new Date(parsePastMoment('until', until, context.now)).toISOString()
  return query
}

const FILTER_OPTIONS = {
  key: { type: 'string', value: 'ID', description: 'Only this key (key_...) or OAuth connection (con_...)' },
  model: { type: 'string', value: 'MODEL', description: 'Only calls on this model' },
  record: { type: 'string', value: 'MODEL:ID', description: 'Only calls that returned or wrote this record' },
  outcome: { type: 'string', value: 'OUTCOME', description: 'ok, denied or error' },
  ip: { type: 'string', value: 'IP', description: 'Only requests from this client address' },
  since: { type: 'string', value: 'WHEN', description: 'From this moment (7d = seven days ago, or a date)' },
  until: { type: 'string', value: 'WHEN', description: 'Before this moment' },
} as const

function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value)
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

function csvLine<T>(record: T, fields: (keyof T)[]): string {
  return fields.map((field) => csvCell(record[field])).join(',')
}

/**
 * A record's query in a few words for the table (`by date_order:month amount_total:sum order date_order asc, id`);
 * --json and --csv carry all of it. Control characters are shown as U+FFFD, whatever the database holds.
 */
function shortQuery(query: AuditQuery | null): string {
  if (!query) return '-'
  const parts: string[] = []
  if (query.groupby?.length) parts.push(`by ${query.groupby.join(',')}`)
  if (query.aggregates?.length) parts.push(query.aggregates.join(','))
  if (query.order) parts.push(`order ${query.order}`)
  if (typeof query.search === 'string') parts.push(`"${query.search}"`)
  if (query.offset) parts.push(`from ${query.offset}`)
  if (query.context) parts.push(Object.entries(query.context).map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`).join(','))
  return parts.join(' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '\ufffd') || '-'
}

/** The first record ids; a tampered row's text is shown as it is (cut to the column). */
function recordsCell(ids: unknown): string {
  if (!Array.isArray(ids)) return String(ids).replace(/[\u0000-\u001f\u007f-\u009f]/g, '\ufffd')
  return ids.length ? ids.slice(0, 5).join(' ') + (ids.length > 5 ? ` (+${ids.length - 5})` : '') : '-'
}

const search: Command = {
  name: 'audit search',
  summary: 'Search the audit log (who accessed what, when, from where)',
  synopsis: '[--key ID] [--model M] [--record MODEL:ID] [--outcome ok|denied|error] [--ip IP] [--since WHEN] [--until WHEN] [--limit N] [--json|--csv]',
  description: [
    'Prints matching audit records, newest first. --record res.partner:42 answers "who accessed this customer?"',
    '(a GDPR subject-access request). --since/--until take a duration back from now (7d, 12h) or an ISO 8601',
    'date/date-time. --json prints an array of records with the stable field names of docs/AUDIT.md; --csv the same',
    'fields as CSV. Records reach D1 about a second after their request. For every matching record, use `audit export`.',
  ].join('\n'),
  options: {
    ...FILTER_OPTIONS,
    limit: { type: 'string', value: 'N', description: `At most N records (default ${DEFAULT_LIMIT}, max ${MAX_LIMIT})` },
    csv: { type: 'boolean', description: 'CSV output' },
  },
  arity: 0,
  async run(context) {
    const query = filtersOf(context)
    let limit = DEFAULT_LIMIT
    const limitText = stringOption(context, 'limit')
    if (limitText !== undefined) {
      limit = Number(limitText)
      if (!/^\d+$/.test(limitText) || limit < 1 || limit > MAX_LIMIT) throw new UsageError(`--limit must be 1 to ${MAX_LIMIT}`)
    }
    if (context.json && context.values.csv) throw new UsageError('give --json or --csv, not both')
    const bar = progress(context, 'Searching')
    const records = await allPages<RecordJson>(context, '/audit/records', query, { max: limit, pageSize: SEARCH_PAGE, onPage: (count) => bar.update(count) }).finally(() =>
      bar.finish(),
    )
    if (context.json) {
      printJson(context, records)
      return EXIT_OK
    }
    if (context.values.csv) {
      print(context, [FIELDS.join(','), ...records.map((record) => csvLine(record, FIELDS))].join('\n'))
      return EXIT_OK
    }
    if (records.length === 0) {
      print(context, 'No audit records match.')
      return EXIT_OK
    }
    const table = records.map((record) => [
      formatTime(Date.parse(record.time)),
      record.keyName ?? record.keyPrefix ?? '-',
      record.odooUser ?? '-',
      record.ip ?? '-',
      record.tool ?? record.method ?? '-',
      record.model ?? '-',
      shortQuery(record.query),
      recordsCell(record.recordIds),
      record.code ? `${record.outcome} (${record.code})` : record.outcome,
      String(record.latencyMs),
    ])
    print(context, formatTable(['TIME', 'KEY', 'ODOO USER', 'IP', 'TOOL', 'MODEL', 'QUERY', 'RECORDS', 'OUTCOME', 'MS'], table))
    return EXIT_OK
  },
}

/** What POST /admin/v1/audit/verify reports (docs/notes/admin-api-audit.md). */
type VerifyProblem =
  | { kind: 'altered' | 'inserted' | 'broken_link' | 'tail_rewritten'; chainId: string; seq: number }
  | { kind: 'missing'; chainId: string; afterSeq: number; beforeSeq: number }
  | { kind: 'tail_missing'; chainId: string; lastSeq: number; headSeq: number }

interface VerifyStep {
  records: number
  chains: number
  idle_chains: number
  admin_records: number
  heads_checked: number
  heads_unavailable: string[]
  problems: VerifyProblem[]
  total_records?: number
  next_cursor: string | null
}

/** Records per verify step: the gateway's default and most (src/admin/v1/audit/verify.ts). */
const VERIFY_PAGE = 5_000
const MAX_VERIFY_PAGE = 10_000
/** A pass of 1 000 000 records takes about 200 steps; each step a fraction of a second. */
const VERIFY_STEP_TIMEOUT_MS = 60_000

function describeProblem(problem: VerifyProblem): string {
  const chain = problem.chainId === 'admin' ? 'admin log' : problem.chainId
  switch (problem.kind) {
    case 'tail_missing':
      return `${chain} #${problem.lastSeq + 1}-#${problem.headSeq}: DELETED (the gateway wrote up to #${problem.headSeq})`
    case 'tail_rewritten':
      return `${chain} #${problem.seq}: REWRITTEN (the last record's hash differs from the gateway's chain head)`
    case 'altered':
      return `${chain} #${problem.seq}: ALTERED (its content no longer matches its hash)`
    case 'missing':
      return `${chain} #${problem.afterSeq + 1}-#${problem.beforeSeq - 1}: DELETED (gap in the sequence)`
    case 'inserted':
      return `${chain} #${problem.seq}: INSERTED (duplicate or out-of-order sequence number)`
    case 'broken_link':
      return `${chain} #${problem.seq}: INSERTED OR REPLACED (does not link to the record before it)`
  }
}

const verify: Command = {
  name: 'audit verify',
  summary: 'Check the audit hash chains and the admin log; exits 1 on tampering',
  synopsis: '[--key ID] [--page-size N] [--json]',
  description: [
    'The gateway walks the whole audit log once, page by page, from each chain\'s anchor (where retention last cut',
    'it), and reports each altered, inserted or deleted record; it compares each chain\'s last record with the head',
    'its Durable Object holds, which catches a deleted or rewritten tail (a chain deleted whole included), and checks',
    'the admin log (every change made through the admin API) the same way. --key checks one chain only. A progress',
    'bar shows on a terminal. Exit code 1 when anything is found.',
  ].join('\n'),
  options: {
    key: { type: 'string', value: 'ID', description: 'Only the chain of this key (key_...) or connection (con_...)' },
    'page-size': {
      type: 'string',
      value: 'N',
      description: `Records the gateway checks per request (default ${VERIFY_PAGE}, max ${MAX_VERIFY_PAGE}; smaller on Workers Free, 10 ms of CPU per request)`,
    },
  },
  arity: 0,
  async run(context) {
    const key = stringOption(context, 'key')
    if (key !== undefined && !KEY_ID.test(key)) throw new UsageError('--key must be a key ID (key_ + 16 hex characters) or a connection ID (con_ + 16 hex)')
    const pageText = stringOption(context, 'page-size')
    const pageSize = pageText === undefined ? VERIFY_PAGE : Number(pageText)
    if (pageText !== undefined && (!/^\d+$/.test(pageText) || pageSize < 1 || pageSize > MAX_VERIFY_PAGE)) throw new UsageError(`--page-size must be 1 to ${MAX_VERIFY_PAGE}`)
    const bar = progress(context, 'Verifying')
    const showsProgress = context.io.stderr.isTTY === true
    const problems: VerifyProblem[] = []
    const unavailable: string[] = []
    let records = 0
    let chains = 0
    let adminRecords = 0
    let total: number | undefined
    let cursor: string | undefined
    try {
      do {
        const step: VerifyStep = await adminRequest<VerifyStep>(context, 'POST', '/audit/verify', {
          body: { ...(key ? { key } : {}), limit: pageSize, ...(cursor ? { cursor } : { total: showsProgress }) },
          timeoutMs: VERIFY_STEP_TIMEOUT_MS,
        })
        total ??= step.total_records
        records += step.records
        chains += step.chains
        adminRecords += step.admin_records
        problems.push(...step.problems)
        unavailable.push(...step.heads_unavailable)
        bar.update(records, total)
        cursor = step.next_cursor ?? undefined
      } while (cursor)
    } finally {
      bar.finish()
    }
    if (unavailable.length) {
      context.io.stderr.write(
        `Chain heads not checked for ${unavailable.length} chain(s) (${unavailable.slice(0, 5).join(', ')}${unavailable.length > 5 ? ', ...' : ''}): ` +
          'their Durable Objects did not answer. Without the heads a deleted or consistently rewritten tail would go unnoticed; run again.\n',
      )
    }
    const adminLog = key ? '' : ` (and ${adminRecords} admin log records)`
    if (context.json) printJson(context, { chains, records, adminRecords, headsChecked: unavailable.length === 0, problems })
    else if (problems.length === 0) print(context, `Verified ${records} records in ${chains} chains: no tampering found${adminLog}.`)
    else print(context, [`Verified ${records} records in ${chains} chains: ${problems.length} problems${adminLog}.`, ...problems.map(describeProblem)].join('\n'))
    return problems.length === 0 ? EXIT_OK : EXIT_FAILURE
  },
}

const FORMATS = ['ndjson', 'csv'] as const

/** Writes to a stream, waiting when it asks to (a slow pipe or disk never makes the CLI hold the whole export). */
async function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain')
}

const exportCommand: Command = {
  name: 'audit export',
  summary: 'Write every matching audit record, oldest first, as NDJSON or CSV',
  synopsis: '[--key ID] [--model M] [--record MODEL:ID] [--outcome ok|denied|error] [--ip IP] [--since WHEN] [--until WHEN] [--format ndjson|csv] [--output FILE]',
  description: [
    'Streams the records the filters match (the filters of `audit search`; none: the whole log), oldest first,',
    'page by page: one JSON object per line (--format ndjson, the default) or CSV with a header line. Each record',
    'has the stable field names of docs/AUDIT.md plus prevHash and hash, its links in the chain. --output FILE',
    'writes FILE (through FILE.partial, renamed once complete, so a failed export leaves no half file); otherwise',
    'standard output. A progress count shows on a terminal.',
  ].join('\n'),
  options: {
    ...FILTER_OPTIONS,
    format: { type: 'string', value: 'FORMAT', description: 'ndjson (default) or csv' },
    output: { type: 'string', value: 'FILE', description: 'Write to FILE instead of standard output' },
  },
  arity: 0,
  async run(context) {
    const query = filtersOf(context)
    const format = stringOption(context, 'format') ?? 'ndjson'
    if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be ${FORMATS.join(' or ')}`)
    if (context.json) throw new UsageError('audit export writes NDJSON (one JSON record per line) by default: --json does not apply; see --format')
    const output = stringOption(context, 'output')
    if (output === '') throw new UsageError('--output needs a file name')
    const partial = output === undefined ? undefined : `${output}.partial`
    const stream: NodeJS.WritableStream = partial === undefined ? context.io.stdout : createWriteStream(partial, { flags: 'w', mode: 0o600 })
    if (partial !== undefined) {
      // events.once rejects with the stream's 'error' (a missing directory, no permission) before it opens.
      await once(stream, 'open').catch((error: Error) => {
        throw new CliError(`cannot write ${partial}: ${error.message}`)
      })
    }
    const bar = progress(context, 'Exporting')
    let count = 0
    try {
      if (format === 'csv') await write(stream, EXPORT_FIELDS.join(',') + '\n')
      let cursor: string | undefined
      do {
        const page = await adminRequest<Page<ExportedJson>>(context, 'GET', '/audit/export', { query: { ...query, limit: EXPORT_PAGE, cursor } })
        const lines = page.items.map((record) => (format === 'csv' ? csvLine(record, EXPORT_FIELDS) : JSON.stringify(record)))
        if (lines.length) await write(stream, lines.join('\n') + '\n')
        count += page.items.length
        bar.update(count)
        cursor = page.next_cursor ?? undefined
      } while (cursor)
    } catch (error) {
      if (partial !== undefined) {
        stream.end()
        await rm(partial, { force: true })
      }
      throw error
    } finally {
      bar.finish()
    }
    if (partial !== undefined && output !== undefined) {
      stream.end()
      await once(stream, 'finish')
      await rename(partial, output)
      context.io.stderr.write(`Exported ${count} records to ${output}.\n`)
    }
    return EXIT_OK
  },
}

export const auditCommands: Command[] = [search, verify, exportCommand]
