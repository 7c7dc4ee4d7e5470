/** `odoo-mcp audit search|verify`: the audit log in D1, through wrangler (local, or the deployed one with --remote). */
import { verifyChain, type ChainProblem } from '../../src/audit/chain'
import { GENESIS_HASH, type AuditQuery } from '../../src/audit/record'
import { recordToJson, rowToRecord } from '../../src/audit/rows'
import { auditSearchQuery, type AuditFilters } from '../../src/audit/search'
import { print, printJson, stringOption, type Command, type CommandContext } from '../command'
import { executeSql } from '../d1'
import { adminPost } from '../gateway'
import { EXIT_FAILURE, EXIT_OK, UsageError } from '../errors'
import { formatTable, formatTime } from '../format'
import { parsePastMoment } from '../key-input'
import { quote, sql } from '../sql'

/** A key's id, or an OAuth connection's (its audit chain is named the same way, docs/OAUTH.md). */
const KEY_ID = /^(key|con)_[0-9a-f]{16}$/
const MODEL = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/
const OUTCOMES = ['ok', 'denied', 'error'] as const
const DEFAULT_LIMIT = 100
const MAX_LIMIT = 10_000


function filtersOf(context: CommandContext): AuditFilters {
  const filters: AuditFilters = { limit: DEFAULT_LIMIT }
  const key = stringOption(context, 'key')
  if (key !== undefined) {
    if (!KEY_ID.test(key)) throw new UsageError(`--key must be a key ID (key_ + 16 hex characters) or a connection ID (con_ + 16 hex), not '${key.slice(0, 20)}'`)
    filters.keyId = key
  }
  const model = stringOption(context, 'model')
  if (model !== undefined) {
    if (!MODEL.test(model)) throw new UsageError(`--model must be a model name such as res.partner (got '${model}')`)
    filters.model = model
  }
  const record = stringOption(context, 'record')
  if (record !== undefined) {
    const match = /^([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*):(\d{1,15})$/.exec(record)
    if (!match) throw new UsageError(`--record must be MODEL:ID, e.g. res.partner:42 (got '${record}')`)
    filters.record = { model: match[1]!, id: Number(match[2]) }
  }
  const outcome = stringOption(context, 'outcome')
  if (outcome !== undefined) {
    if (!(OUTCOMES as readonly string[]).includes(outcome)) throw new UsageError(`--outcome must be one of ${OUTCOMES.join(', ')}`)
    filters.outcome = outcome as AuditFilters['outcome']
  }
  const ip = stringOption(context, 'ip')
  if (ip !== undefined) {
    if (!/^[0-9a-fA-F.:]{2,45}$/.test(ip)) throw new UsageError(`--ip must be an IPv4 or IPv6 address (got '${ip}')`)
    filters.ip = ip.toLowerCase()
  }
  const since = stringOption(context, 'since')
  if (since !== undefined) filters.since = parsePastMoment('since', since, context.now)
  const until = stringOption(context, 'until')
  if (until !== undefined) filters.until = parsePastMoment('until', until, context.now)
  const limit = stringOption(context, 'limit')
  if (limit !== undefined) {
    const value = Number(limit)
    if (!Number.isInteger(value) || value < 1 || value > MAX_LIMIT) throw new UsageError(`--limit must be 1 to ${MAX_LIMIT}`)
    filters.limit = value
  }
  return filters
}

/** The shared query with its parameters written as SQL literals (wrangler d1 execute takes no bound parameters). */
function inlineQuery(filters: AuditFilters): string {
  const { sql: text, params } = auditSearchQuery(filters)
  return text.replace(/\?(\d+)/g, (_, index: string) => quote(params[Number(index) - 1]!))
}

function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value)
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
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

const search: Command = {
  name: 'audit search',
  summary: 'Search the audit log (who accessed what, when, from where)',
  synopsis: '[--key ID] [--model M] [--record MODEL:ID] [--outcome ok|denied|error] [--ip IP] [--since WHEN] [--until WHEN] [--limit N] [--json|--csv]',
  description: [
    'Prints matching audit records, newest first. --record res.partner:42 answers "who accessed this customer?"',
    '(a GDPR subject-access request). --since/--until take a duration back from now (7d, 12h) or an ISO 8601',
    'date/date-time. --json prints an array of records with the stable field names of docs/AUDIT.md; --csv the same',
    'fields as CSV. Records reach D1 about a second after their request.',
  ].join('\n'),
  options: {
    key: { type: 'string', value: 'ID', description: 'Only this key (key_...)' },
    model: { type: 'string', value: 'MODEL', description: 'Only calls on this model' },
    record: { type: 'string', value: 'MODEL:ID', description: 'Only calls that returned or wrote this record' },
    outcome: { type: 'string', value: 'OUTCOME', description: 'ok, denied or error' },
    ip: { type: 'string', value: 'IP', description: 'Only requests from this client address' },
    since: { type: 'string', value: 'WHEN', description: 'From this moment (7d = seven days ago, or a date)' },
    until: { type: 'string', value: 'WHEN', description: 'Before this moment' },
    limit: { type: 'string', value: 'N', description: `At most N records (default ${DEFAULT_LIMIT}, max ${MAX_LIMIT})` },
    csv: { type: 'boolean', description: 'CSV output' },
  },
  arity: 0,
  async run(context) {
    const filters = filtersOf(context)
    if (context.json && context.values.csv) throw new UsageError('give --json or --csv, not both')
    const [rows = []] = await executeSql(context.target, inlineQuery(filters))
    const records = rows.map(rowToRecord).map(recordToJson)
    if (context.json) {
      printJson(context, records)
      return EXIT_OK
    }
    if (context.values.csv) {
      const fields = Object.keys(recordToJson(rowToRecord({ chain_id: '', seq: 0, time: 0, request_id: '', record_ids: '[]', fields: '[]', outcome: 'ok', http_status: 0, latency_ms: 0, response_bytes: 0, prev_hash: '', hash: '', record_ids_truncated: 0 })))
      print(context, [fields.join(','), ...records.map((record) => fields.map((field) => csvCell(record[field as keyof typeof record])).join(','))].join('\n'))
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
      record.recordIds.length ? record.recordIds.slice(0, 5).join(' ') + (record.recordIds.length > 5 ? ` (+${record.recordIds.length - 5})` : '') : '-',
      record.code ? `${record.outcome} (${record.code})` : record.outcome,
      String(record.latencyMs),
    ])
    print(context, formatTable(['TIME', 'KEY', 'ODOO USER', 'IP', 'TOOL', 'MODEL', 'QUERY', 'RECORDS', 'OUTCOME', 'MS'], table))
    return EXIT_OK
  },
}

/** Records per wrangler call while walking a chain. */
const VERIFY_PAGE = 5_000

type VerifyProblem =
  | ChainProblem
  | { kind: 'tail_missing'; chainId: string; lastSeq: number; headSeq: number }
  | { kind: 'tail_rewritten'; chainId: string; seq: number }

function describeProblem(problem: VerifyProblem): string {
  switch (problem.kind) {
    case 'tail_missing':
      return `${problem.chainId} #${problem.lastSeq + 1}-#${problem.headSeq}: DELETED (the gateway wrote up to #${problem.headSeq})`
    case 'tail_rewritten':
      return `${problem.chainId} #${problem.seq}: REWRITTEN (the last record's hash differs from the gateway's chain head)`
    case 'altered':
      return `${problem.chainId} #${problem.seq}: ALTERED (its content no longer matches its hash)`
    case 'missing':
      return `${problem.chainId} #${problem.afterSeq + 1}-#${problem.beforeSeq - 1}: DELETED (gap in the sequence)`
    case 'inserted':
      return `${problem.chainId} #${problem.seq}: INSERTED (duplicate or out-of-order sequence number)`
    case 'broken_link':
      return `${problem.chainId} #${problem.seq}: INSERTED OR REPLACED (does not link to the record before it)`
  }
}

const verify: Command = {
  name: 'audit verify',
  summary: 'Check the audit hash chains; exits 1 on tampering',
  synopsis: '[--key ID] [--json]',
  description: [
    'Walks every chain (one per key, plus the chains of requests without a valid key) from its anchor (where',
    'retention last cut it) and reports each altered, inserted or deleted record, then compares each chain\'s last',
    'record with the head its Durable Object holds (through the admin channel, like `keys revoke`), which catches a',
    'deleted or rewritten tail. Exit code 1 when anything is found.',
  ].join('\n'),
  options: { key: { type: 'string', value: 'ID', description: 'Only the chain of this key' } },
  arity: 0,
  async run(context) {
    const key = stringOption(context, 'key')
    if (key !== undefined && !KEY_ID.test(key)) throw new UsageError('--key must be a key ID (key_ + 16 hex characters) or a connection ID (con_ + 16 hex)')
    const [chains = [], anchors = []] = await executeSql(
      context.target,
      key
        ? sql`SELECT ${key} AS chain_id; SELECT chain_id, seq, hash FROM audit_anchors WHERE chain_id = ${key}`
        : 'SELECT DISTINCT chain_id FROM audit_log ORDER BY chain_id; SELECT chain_id, seq, hash FROM audit_anchors',
    )
    const anchorOf = new Map(anchors.map((row) => [String(row.chain_id), { seq: Number(row.seq), hash: String(row.hash) }]))
    const problems: VerifyProblem[] = []
    let checked = 0
    const lastOf = new Map<string, { seq: number; hash: string }>()
    for (const chain of chains.map((row) => String(row.chain_id))) {
      let anchor = anchorOf.get(chain) ?? { seq: 0, hash: GENESIS_HASH }
      for (;;) {
        const [rows = []] = await executeSql(
          context.target,
          sql`SELECT * FROM audit_log WHERE chain_id = ${chain} AND seq > ${anchor.seq} ORDER BY seq LIMIT ${VERIFY_PAGE}`,
        )
        if (rows.length === 0) break
        const records = rows.map(rowToRecord)
        problems.push(...(await verifyChain(chain, anchor, records)))
        checked += records.length
        const last = records[records.length - 1]!
        anchor = { seq: last.seq, hash: last.hash }
        if (rows.length < VERIFY_PAGE) break
      }
      lastOf.set(chain, anchor)
    }
    // The chain alone cannot see a truncated or consistently rewritten tail: compare with the heads the objects hold.
    const heads = await adminPost<{ heads: { chainId: string; seq: number; hash: string; pending: number }[] }>(
      context,
      '/admin/audit/heads',
      { chains: [...lastOf.keys()] },
    )
    if (heads.ok) {
      for (const head of heads.body.heads) {
        const last = lastOf.get(head.chainId)
        if (!last || head.seq === 0) continue
        if (last.seq < head.seq) problems.push({ kind: 'tail_missing', chainId: head.chainId, lastSeq: last.seq, headSeq: head.seq })
        else if (last.seq === head.seq && last.hash !== head.hash) problems.push({ kind: 'tail_rewritten', chainId: head.chainId, seq: head.seq })
      }
    } else {
      context.io.stderr.write(
        `Chain heads not checked: could not ask the gateway (${heads.reason}). ` +
          'Without them a deleted or consistently rewritten tail of a chain would go unnoticed.\n',
      )
    }
    if (context.json) printJson(context, { chains: chains.length, records: checked, headsChecked: heads.ok, problems })
    else if (problems.length === 0) print(context, `Verified ${checked} records in ${chains.length} chains: no tampering found.`)
    else print(context, [`Verified ${checked} records in ${chains.length} chains: ${problems.length} problems.`, ...problems.map(describeProblem)].join('\n'))
    return problems.length === 0 ? EXIT_OK : EXIT_FAILURE
  },
}

export const auditCommands: Command[] = [search, verify]
