/**
 * `odoo-mcp audit search|verify|export` end to end: the real CLI against a real gateway (`wrangler dev` with its own
 * local D1, test/support/cli-gateway.ts), through the admin API. The chains are written into D1 with wrangler and
 * the gateway's own chain code (the Worker tests cover how the gateway writes them, and verify's every kind of
 * tampering: test/worker/admin-api/audit.test.ts).
 */
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { linkRecords } from '../../src/audit/chain'
import { GENESIS_HASH, type AuditRecord, type ChainedAuditRecord } from '../../src/audit/record'
import { quote } from '../../cli/sql'
import { startCliGateway, type CliGateway } from '../support/cli-gateway'
import { runWrangler } from '../support/wrangler'

const KEY_A = 'key_aaaaaaaaaaaaaaaa'
const KEY_B = 'key_bbbbbbbbbbbbbbbb'
/** A busy key: more records than one page of search (1 000) holds. */
const KEY_C = 'key_cccccccccccccccc'
const BUSY = 1_200
const HOUR = 3_600_000
const now = Date.now()

const AGGREGATE_QUERY = { groupby: ['date_order:month'], aggregates: ['amount_total:sum'], order: 'date_order:month asc', context: { lang: 'fr_BE' }, limit: 100, offset: 0 }

let gateway: CliGateway

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return gateway.cli(args, { env })
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
  gateway = await startCliGateway({ vars: { ODOO_URL: inject('odooUrl') }, prefix: 'odoo-mcp-cli-audit-' })
  const a = await linkRecords(KEY_A, GENESIS_HASH, [
    { seq: 1, record: record({ time: now - 5 * HOUR, recordIds: [42, 43] }) },
    { seq: 2, record: record({ time: now - 4 * HOUR, recordIds: [7], tool: 'aggregate_records', operation: 'aggregate', query: AGGREGATE_QUERY }) },
    { seq: 3, record: record({ time: now - 3 * HOUR, outcome: 'denied', code: 'policy_denied', recordIds: [] }) },
    { seq: 4, record: record({ time: now - 2 * HOUR, recordIds: [42], ip: '198.51.100.1', domain: [['name', 'ilike', 'a,"b"']] }) },
  ])
  const b = await linkRecords(KEY_B, GENESIS_HASH, [
    { seq: 1, record: record({ keyId: KEY_B, keyName: 'claude', time: now - 1 * HOUR, model: 'sale.order', recordIds: [42] }) },
  ])
  // Far in the past (but within retention), one a second, so they stay out of the time windows below.
  const c = await linkRecords(
    KEY_C,
    GENESIS_HASH,
    Array.from({ length: BUSY }, (_, index) => ({ seq: index + 1, record: record({ keyId: KEY_C, keyName: 'busy', time: now - 30 * 24 * HOUR + index * 1000, model: 'product.product' }) })),
  )
  // Too long for a command line: wrangler reads it from a file.
  const seed = join(gateway.work, 'seed.sql')
  await writeFile(seed, [...a, ...b, ...c].map(insertSql).join('\n'))
  const { d1 } = gateway
  const seeded = await runWrangler(['d1', 'execute', 'DB', '--local', '--config', d1.configPath, '--persist-to', d1.persistTo, '--file', seed, '--yes'])
  expect(seeded.code, seeded.stderr).toBe(0)
}, 180_000)

afterAll(async () => {
  await gateway?.stop()
}, 60_000)

type Found = { requestId: string; keyId: string; model: string; recordIds: number[]; outcome: string; ip: string; time: string; tool: string; query: unknown; seq: number }

async function search(args: string[]): Promise<Found[]> {
  const result = await cli(['audit', 'search', '--json', ...args])
  expect(result.code, result.stderr).toBe(0)
  expect(result.stderr).toBe('')
  return JSON.parse(result.stdout) as Found[]
}

describe('audit search', () => {
  it('filters by key, record, outcome, ip and time, newest first, with the documented field names', async () => {
    const byKey = await search(['--key', KEY_A])
    expect(byKey).toHaveLength(4)
    expect(byKey.map((found) => Date.parse(found.time))).toEqual([...byKey.map((found) => Date.parse(found.time))].sort((x, y) => y - x))
    for (const field of ['time', 'requestId', 'keyId', 'keyName', 'odooUser', 'ip', 'tool', 'model', 'operation', 'recordIds', 'fields', 'domain', 'query', 'outcome', 'code', 'latencyMs', 'chainId', 'seq']) {
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

  it('pages past the API page size: every record once, in order, up to --limit', async () => {
    const busy = await search(['--key', KEY_C, '--limit', '1100'])
    expect(busy).toHaveLength(1100)
    expect(new Set(busy.map((found) => found.requestId)).size).toBe(1100)
    expect(busy.map((found) => found.seq)).toEqual(Array.from({ length: 1100 }, (_, index) => BUSY - index))
    expect(await search(['--key', KEY_C, '--limit', '10000'])).toHaveLength(BUSY)
  })

  it('prints CSV and a table, and refuses bad filters before any request', async () => {
    const csv = await cli(['audit', 'search', '--csv', '--key', KEY_A])
    expect(csv.code).toBe(0)
    const lines = csv.stdout.trim().split('\n')
    expect(lines[0]).toBe(
      'time,requestId,keyId,keyName,keyPrefix,odooUser,ip,userAgent,clientInfo,method,tool,model,operation,recordIds,recordIdsTruncated,' +
        'fields,domain,query,outcome,code,httpStatus,latencyMs,odooLatencyMs,responseBytes,chainId,seq',
    )
    expect(csv.stdout).toContain('"{""groupby"":[""date_order:month""]')
    expect(lines).toHaveLength(5)
    expect(csv.stdout).toContain('"[[""name"",""ilike"",""a,\\""b\\""""]]"')
    const table = await cli(['audit', 'search', '--key', KEY_B])
    expect(table.stdout).toMatch(/^TIME\s+KEY\s+ODOO USER\s+IP\s+TOOL\s+MODEL\s+QUERY\s+RECORDS\s+OUTCOME\s+MS$/m)
    expect(table.stdout).toContain('sale.order')
    // The table shows the query in short (cut to its column); --json has all of it.
    const withQuery = await cli(['audit', 'search', '--key', KEY_A])
    expect(withQuery.stdout).toContain('by date_order:month amount_tota…')
    expect((await cli(['audit', 'search', '--key', 'key_dddddddddddddddd'])).stdout).toBe('No audit records match.\n')
    // A gateway that is not there: every one of these is refused before the CLI tries to reach it.
    const nowhere = { ODOO_MCP_GATEWAY_URL: 'http://127.0.0.1:9' }
    for (const [args, message] of [
      [['search', '--record', 'res.partner'], /MODEL:ID/],
      [['search', '--key', "x' OR 1=1 --"], /key ID/],
      [['search', '--outcome', 'maybe'], /ok, denied, error/],
      [['search', '--since', 'yesterday'], /duration back from now/],
      [['search', '--limit', '0'], /--limit/],
      [['search', '--limit', '10001'], /--limit/],
      [['search', '--json', '--csv'], /--json or --csv/],
      [['verify', '--key', 'anon-0; DROP'], /key ID/],
      [['verify', '--page-size', '0'], /--page-size must be 1 to 10000/],
      [['export', '--format', 'xml'], /ndjson or csv/],
      [['export', '--json'], /--format/],
      [['export', '--ip', 'example.com'], /IPv4 or IPv6/],
    ] as [string[], RegExp][]) {
      const result = await cli(['audit', ...args], nowhere)
      expect(result.code, args.join(' ')).toBe(2)
      expect(result.stderr, args.join(' ')).toMatch(message)
    }
    const unreachable = await cli(['audit', 'search'], nowhere)
    expect(unreachable.code).toBe(1)
    expect(unreachable.stderr).toMatch(/cannot reach the local gateway/)
  })
})

describe('audit export', () => {
  it('streams every matching record oldest first as NDJSON, with the hashes that chain them', async () => {
    const result = await cli(['audit', 'export', '--key', KEY_C])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toBe('')
    const lines = result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Found & { prevHash: string; hash: string })
    expect(lines).toHaveLength(BUSY)
    expect(lines.map((line) => line.seq)).toEqual(Array.from({ length: BUSY }, (_, index) => index + 1))
    // The export links up: each record names its predecessor's hash.
    expect(lines[0]!.prevHash).toBe(GENESIS_HASH)
    for (let index = 1; index < lines.length; index++) expect(lines[index]!.prevHash).toBe(lines[index - 1]!.hash)
    const windowed = await cli(['audit', 'export', '--since', '210m', '--until', '90m'])
    expect(windowed.stdout.trimEnd().split('\n').map((line) => (JSON.parse(line) as Found).seq)).toEqual([3, 4])
    expect((await cli(['audit', 'export', '--key', 'key_dddddddddddddddd'])).stdout).toBe('')
  })

  it('writes CSV to a file through a .partial file, and leaves nothing behind when it cannot', async () => {
    const file = join(gateway.work, 'audit.csv')
    const result = await cli(['audit', 'export', '--format', 'csv', '--output', file, '--record', 'res.partner:42'])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toBe('')
    expect(result.stderr).toBe(`Exported 2 records to ${file}.\n`)
    expect(existsSync(`${file}.partial`)).toBe(false)
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n')
    expect(lines[0]).toMatch(/^time,requestId,keyId,.*,chainId,seq,prevHash,hash$/)
    expect(lines).toHaveLength(3)
    expect(lines[1]).toMatch(new RegExp(`,${KEY_A},1,${GENESIS_HASH},[0-9a-f]{64}$`))
    const missing = join(gateway.work, 'no-such-dir', 'audit.csv')
    const failed = await cli(['audit', 'export', '--output', missing])
    expect(failed.code).toBe(1)
    expect(failed.stderr).toMatch(/cannot write/)
    expect(existsSync(`${missing}.partial`)).toBe(false)
  })
})

describe('audit verify', () => {
  it('passes intact chains, then reports altered and deleted records and an altered admin log, and exits 1', async () => {
    // One change in the admin log (a key stored without asking Odoo).
    const created = await gateway.cli(['keys', 'create', '--name', 'audited', '--odoo-login', 'admin', '--odoo-secret-file', '-', '--no-verify'], { input: 'odoo-apikey-admin\n' })
    expect(created.code, created.stderr).toBe(0)
    const clean = await cli(['audit', 'verify'])
    expect(clean.code, clean.stdout + clean.stderr).toBe(0)
    expect(clean.stdout).toBe(`Verified ${BUSY + 5} records in 3 chains: no tampering found (and 1 admin log records).\n`)
    // Not a terminal: no progress bar, nothing on stderr.
    expect(clean.stderr).toBe('')
    expect((await cli(['audit', 'verify', '--key', KEY_C])).stdout).toBe(`Verified ${BUSY} records in 1 chains: no tampering found.\n`)

    await gateway.query(
      `UPDATE audit_log SET ip = '10.0.0.1' WHERE chain_id = '${KEY_A}' AND seq = 2; DELETE FROM audit_log WHERE chain_id = '${KEY_A}' AND seq = 3; ` +
        "UPDATE admin_audit SET actor = 'secret:mallory' WHERE seq = 1",
    )
    const tampered = await cli(['audit', 'verify', '--json'])
    expect(tampered.code).toBe(1)
    const report = JSON.parse(tampered.stdout) as { records: number; chains: number; headsChecked: boolean; problems: unknown[] }
    expect(report).toMatchObject({ records: BUSY + 4, chains: 3, headsChecked: true })
    expect(report.problems).toEqual(
      expect.arrayContaining([
        { kind: 'altered', chainId: KEY_A, seq: 2 },
        { kind: 'missing', chainId: KEY_A, afterSeq: 2, beforeSeq: 4 },
        { kind: 'altered', chainId: 'admin', seq: 1 },
      ]),
    )
    expect(report.problems).toHaveLength(3)
    // In steps of 7 records (the chains split across them), the same.
    const small = await cli(['audit', 'verify', '--json', '--page-size', '7'])
    expect(small.code).toBe(1)
    expect(JSON.parse(small.stdout)).toEqual(report)
    const text = await cli(['audit', 'verify'])
    expect(text.code).toBe(1)
    expect(text.stdout).toMatch(/^Verified 1204 records in 3 chains: 3 problems \(and 1 admin log records\)\.$/m)
    expect(text.stdout).toMatch(new RegExp(`^${KEY_A} #2: ALTERED \\(its content no longer matches its hash\\)$`, 'm'))
    expect(text.stdout).toMatch(new RegExp(`^${KEY_A} #3-#3: DELETED \\(gap in the sequence\\)$`, 'm'))
    expect(text.stdout).toMatch(/^admin log #1: ALTERED/m)
    const one = await cli(['audit', 'verify', '--key', KEY_B])
    expect(one.code).toBe(0)
  })
})
