/** How admin log records (docs/ADMIN-API.md "Admin log") read in a terminal: `keys history`, `admin-log`. */
export interface AdminRecordJson {
  seq: number
  time: string
  request_id: string
  actor: string
  auth: string
  ip: string | null
  action: string
  target: string
  before: unknown
  after: unknown
  hash: string
}

function indentJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replaceAll('\n', '\n      ')
}

export function describeAdminRecord(record: AdminRecordJson): string {
  const when = record.time.slice(0, 19).replace('T', ' ') + ' UTC'
  const lines = [`#${record.seq}  ${when}  ${record.action}  ${record.target}`, `    by ${record.actor} (${record.auth})${record.ip ? ` from ${record.ip}` : ''}, request ${record.request_id}`]
  if (record.before !== null) lines.push(`    before: ${indentJson(record.before)}`)
  if (record.after !== null) lines.push(`    after:  ${indentJson(record.after)}`)
  return lines.join('\n')
}
