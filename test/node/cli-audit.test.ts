/**
 * `odoo-mcp audit search|verify` end to end: the real CLI and wrangler on a local D1 holding chains written with the
 * gateway's own chain code (the Worker tests cover how records get there).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { linkRecords } from '../../src/audit/chain'
import { GENESIS_HASH, type AuditRecord, type ChainedAuditRecord } from '../../src/audit/record'
import { quote } from '../../cli/sql'
import { applySchema, projectRoot, queryD1, runNode, type LocalD1 } from '../support/wrangler'

const BIN = join(projectRoot, 'bin', 'odoo-mcp.mjs')
const KEY_A = 'key_aaaaaaaaaaaaaaaa'
const KEY_B = 'key_bbbbbbbbbbbbbbbb'
const HOUR = 3_600_000
const now = Date.now()

const AGGREGATE_QUERY = { groupby: ['date_order:month'], aggregates: ['amount_total:sum'], order: 'date_order:month asc', context: { lang: 'fr_BE' }, limit: 100, offset: 0 }

let work: string
let d1: LocalD1

function cli(args: string[]) {
  return runNode(BIN, [...args, '--config', d1.configPath, '--persist-to', d1.persistTo], { env: { ...process.env } })
}

function record(overrides: Partial<AuditRecord>): AuditRecord {
  return {
    time: now, requestId: crypto.randomUUID(), keyId: KEY_A, keyName: 'n8n sales', keyPrefix: 'omk_abcdefgh', odooUser: 'sales_agent',
    ip: '203.0.113.9', userAgent: 'n8n', clientInfo: null, method: 'tools/call', tool: 'search_records', model: 'res.partner',
    operation: 'search', recordIds: [], recordIdsTruncated: false, fields: ['name'], domain: [['name', 'ilike', 'acme']], outcome: 'ok',
    code: null, httpStatus: 200, latencyMs: 12, odooLatencyMs: 9, responseBytes: 300, ...overrides,
  }
}

function insertSql(r: ChainedAuditRecord): string {
  const values = [
    r.chainId, r.seq, r.time, r.requestId, r.keyId, r.keyName, r.keyPrefix, r.odooUser, r.ip, r.userAgent, r.clientInfo, r.method,
    r.tool, r.model, r.operation, JSON.stringify(r.recordIds), r.recordIdsTruncated ? 1 : 0, JSON.stringify(r.fields),
    r.domain == null ? null : JSON.stringify(r.domain), r.outcome, r.code, r.httpStatus, r.latencyMs, r.odooLatencyMs,
    r.responseBytes, r.prevHash, r.hash, r.query == null ? null : JSON.stringify(r.query),
  ].map((value) => quote(value as string | number | null))
  const access = r.recordIds.map((id) => `INSERT INTO audit_record_access VALUES (${quote(r.model)}, ${id}, ${r.time}, ${quote(r.chainId)}, ${r.seq});`)
  return `INSERT INTO audit_log VALUES (${values.join(', ')}); ${access.join(' ')}`
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'odoo-mcp-audit-'))
  d1 = { configPath: join(projectRoot, 'wrangler.toml'), persistTo: join(work, 'state') }
  await applySchema(d1)
  const a = await linkRecords(KEY_A, GENESIS_HASH, [
    { seq: 1, record: record({ time: now - 5 * HOUR, recordIds: [42, 43] }) },
    { seq: 2, record: record({ time: now - 4 * HOUR, recordIds: [7], tool: 'aggregate_records', operation: 'aggregate', query: AGGREGATE_QUERY }) },
    { seq: 3, record: record({ time: now - 3 * HOUR, outcome: 'denied', code: 'policy_denied', recordIds: [] }) },
    { seq: 4, record: record({ time: now - 2 * HOUR, recordIds: [42], ip: '198.51.100.1', domain: [['name', 'ilike', 'a,"b"']] }) },
  ].map(({ seq, record }) => ({ seq, record })))
  const b = await linkRecords(KEY_B, GENESIS_HASH, [
    { seq: 1, record: record({ keyId: KEY_B, keyName: 'claude', time: now - 1 * HOUR, model: 'sale.order', recordIds: [42] }) },
  ])
  await queryD1(d1, [...a, ...b].map(insertSql).join('\n'))
})

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true })
})

type Found = { requestId: string; keyId: string; model: string; recordIds: number[]; outcome: string; ip: string; time: string; tool: string; query: unknown }

async function search(args: string[]): Promise<Found[]> {
  const result = await cli(['audit', 'search', '--json', ...args])
  expect(result.code, result.stderr).toBe(0)
  return JSON.parse(result.stdout) as Found[]
}

describe('audit search', () => {
  it('filters by key, record, outcome, ip and time, newest first, with the documented field names', async () => {
    const byKey = await search(['--key', KEY_A])
    expect(byKey).toHaveLength(4)
    expect(byKey.map((found) => Date.parse(found.time))).toEqual([...byKey.map((found) => Date.parse(found.time))].sort((x, y) => y - x))
    for (const field of ['time', 'requestId', 'keyId', 'keyName', 'odooUser', 'ip', 'tool', 'model', 'operation', 'recordIds', 'fields', 'domain', 'query', 'outcome', 'code', 'latencyMs']) {
      expect(Object.keys(byKey[0]!)).toContain(field)
    }
    // "Who accessed res.partner 42?" — not sale.order 42.
    const subject = await search(['--record', 'res.partner:42'])
    expect(subject.map((found) => found.keyId).sort()).toEqual([KEY_A, KEY_A])
    expect(subject.every((found) => found.model === 'res.partner' && found.recordIds.includes(42))).toBe(true)
    expect(await search(['--outcome', 'denied'])).toHaveLength(1)
    expect((await search(['--ip', '198.51.100.1']))[0]!.recordIds).toEqual([42])
    expect(await search(['--since', '210m', '--until', '90m'])).toHaveLength(2)
    expect(await search(['--model', 'sale.order'])).toHaveLength(1)
    expect(await search(['--key', KEY_A, '--limit', '2'])).toHaveLength(2)
    // The query of a tool call comes back whole; records without one say null.
    expect(byKey.find((found) => found.tool === 'aggregate_records')!.query).toEqual(AGGREGATE_QUERY)
    expect(byKey.filter((found) => found.query === null)).toHaveLength(3)
  })

  it('prints CSV and a table, and refuses bad filters before running wrangler', async () => {
    const csv = await cli(['audit', 'search', '--csv', '--key', KEY_A])
    expect(csv.code).toBe(0)
    const lines = csv.stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^time,requestId,keyId,keyName,/)
    expect(lines[0]).toMatch(/,domain,query,outcome,/)
    expect(csv.stdout).toContain('"{""groupby"":[""date_order:month""]')
    expect(lines).toHaveLength(5)
    expect(csv.stdout).toContain('"[[""name"",""ilike"",""a,\\""b\\""""]]"')
    const table = await cli(['audit', 'search', '--key', KEY_B])
    expect(table.stdout).toMatch(/^TIME\s+KEY\s+ODOO USER\s+IP\s+TOOL\s+MODEL\s+QUERY\s+RECORDS\s+OUTCOME\s+MS$/m)
    expect(table.stdout).toContain('sale.order')
    // The table shows the query in short (cut to its column); --json has all of it.
    const withQuery = await cli(['audit', 'search', '--key', KEY_A])
    expect(withQuery.stdout).toContain('by date_order:month amount_tota…')
    for (const [args, message] of [
      [['--record', 'res.partner'], /MODEL:ID/],
      [['--key', "x' OR 1=1 --"], /key ID/],
      [['--outcome', 'maybe'], /ok, denied, error/],
      [['--since', 'yesterday'], /duration back from now/],
      [['--limit', '0'], /--limit/],
    ] as [string[], RegExp][]) {
      const result = await cli(['audit', 'search', ...args])
      expect(result.code, args.join(' ')).toBe(2)
      expect(result.stderr).toMatch(message)
    }
  })
})

describe('audit verify', () => {
  it('passes intact chains, then reports an altered and a deleted record and exits 1', async () => {
    const clean = await cli(['audit', 'verify'])
    expect(clean.code, clean.stdout + clean.stderr).toBe(0)
    expect(clean.stdout).toMatch(/Verified 5 records in 2 chains: no tampering found/)
    await queryD1(d1, `UPDATE audit_log SET ip = '10.0.0.1' WHERE chain_id = '${KEY_A}' AND seq = 2; DELETE FROM audit_log WHERE chain_id = '${KEY_A}' AND seq = 3`)
    const tampered = await cli(['audit', 'verify', '--json'])
    expect(tampered.code).toBe(1)
    const report = JSON.parse(tampered.stdout) as { problems: { kind: string; seq?: number }[] }
    expect(report.problems).toContainEqual({ kind: 'altered', chainId: KEY_A, seq: 2 })
    expect(report.problems).toContainEqual({ kind: 'missing', chainId: KEY_A, afterSeq: 2, beforeSeq: 4 })
    const text = await cli(['audit', 'verify', '--key', KEY_A])
    expect(text.code).toBe(1)
    expect(text.stdout).toMatch(/#2: ALTERED/)
    expect(text.stdout).toMatch(/#3-#3: DELETED/)
  })
})
