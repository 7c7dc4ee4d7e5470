/** `odoo-mcp alerts list`: security alerts raised on the audit stream (docs/WEBHOOKS.md, "Alerts"), over the admin API. */
import { allPages } from '../admin-api'
import { print, printJson, stringOption, type Command } from '../command'
import { EXIT_OK, UsageError } from '../errors'
import { formatTable, formatTime } from '../format'
import { parsePastMoment } from '../key-input'

/** An alert as GET /admin/v1/alerts answers it. */
interface AlertJson {
  id: string
  time: string
  rule: string
  subject: string
  key_id: string | null
  message: string
  request_id: string
}

const MAX_ALERTS = 10_000

const list: Command = {
  name: 'alerts list',
  summary: 'List security alerts (rate limits, failed-auth bursts, denied models or fields, new models, off hours, spikes)',
  synopsis: '[--since WHEN] [--limit N] [--json]',
  description: 'Lists alerts newest first. --since takes a duration back from now (24h, 7d) or an ISO 8601 date; default 7d.',
  options: {
    since: { type: 'string', value: 'WHEN', description: 'From this moment (default 7d)' },
    limit: { type: 'string', value: 'N', description: `At most N alerts (default 100, max ${MAX_ALERTS})` },
  },
  arity: 0,
  async run(context) {
    const since = parsePastMoment('since', stringOption(context, 'since') ?? '7d', context.now)
    const limit = Number(stringOption(context, 'limit') ?? 100)
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_ALERTS) throw new UsageError(`--limit must be 1 to ${MAX_ALERTS}`)
    const rows = await allPages<AlertJson>(context, '/alerts', { since: new Date(since).toISOString() }, { max: limit })
    const alerts = rows.map((row) => ({
      id: row.id,
      time: row.time,
      rule: row.rule,
      subject: row.subject,
      keyId: row.key_id,
      message: row.message,
      requestId: row.request_id,
    }))
    if (context.json) printJson(context, alerts)
    else if (alerts.length === 0) print(context, 'No alerts in that period.')
    else print(context, formatTable(['TIME', 'RULE', 'SUBJECT', 'MESSAGE'], alerts.map((a) => [formatTime(Date.parse(a.time)), a.rule, a.subject, a.message]), 80))
    return EXIT_OK
  },
}

export const alertCommands: Command[] = [list]
