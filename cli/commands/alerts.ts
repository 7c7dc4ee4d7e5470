/** `odoo-mcp alerts list`: security alerts raised on the audit stream (docs/WEBHOOKS.md, "Alerts"). */
import { print, printJson, stringOption, type Command } from '../command'
import { executeSql } from '../d1'
import { EXIT_OK, UsageError } from '../errors'
import { formatTable, formatTime } from '../format'
import { parsePastMoment } from '../key-input'
import { sql } from '../sql'

const list: Command = {
  name: 'alerts list',
  summary: 'List security alerts (rate limits, failed-auth bursts, denied models or fields, new models, off hours, spikes)',
  synopsis: '[--since WHEN] [--limit N] [--json]',
  description: 'Lists alerts newest first. --since takes a duration back from now (24h, 7d) or an ISO 8601 date; default 7d.',
  options: {
    since: { type: 'string', value: 'WHEN', description: 'From this moment (default 7d)' },
    limit: { type: 'string', value: 'N', description: 'At most N alerts (default 100, max 10000)' },
  },
  arity: 0,
  async run(context) {
    const since = parsePastMoment('since', stringOption(context, 'since') ?? '7d', context.now)
    const limit = Number(stringOption(context, 'limit') ?? 100)
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new UsageError('--limit must be 1 to 10000')
    const [rows = []] = await executeSql(
      context.target,
      sql`SELECT id, time, rule, subject, key_id, message, request_id FROM alerts WHERE time >= ${since} ORDER BY time DESC LIMIT ${limit}`,
    )
    const alerts = rows.map((row) => ({
      id: String(row.id),
      time: new Date(Number(row.time)).toISOString(),
      rule: String(row.rule),
      subject: String(row.subject),
      keyId: (row.key_id as string | null) ?? null,
      message: String(row.message),
      requestId: String(row.request_id),
    }))
    if (context.json) printJson(context, alerts)
    else if (alerts.length === 0) print(context, 'No alerts in that period.')
    else print(context, formatTable(['TIME', 'RULE', 'SUBJECT', 'MESSAGE'], alerts.map((a) => [formatTime(Date.parse(a.time)), a.rule, a.subject, a.message]), 80))
    return EXIT_OK
  },
}

export const alertCommands: Command[] = [list]
