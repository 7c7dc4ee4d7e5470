/**
 * The seeded local state of `npm run bench:cli`: a wrangler `--persist-to` directory whose D1 holds the audit log of
 * bench/cli-seed.ts and the rest of bench/cli-fixtures.ts, cached under .cache/bench-cli/ by (records, chains,
 * schema.sql's hash, seed format), so a rerun does not seed again.
 *
 * How it is filled, fastest first of what was measured (100 000 records and their 390 000 record-access rows, on the
 * 2-core machine of docs/PERFORMANCE.md): Miniflare's D1 on the same directory, the gateway stopped, multi-row INSERTs
 * with literal values (D1 caps a statement at 100 KB, and bound parameters at 100 per statement), 20 statements per
 * `batch`, the next batch generated while the previous one runs, audit indexes dropped and built again at the end,
 * record-access rows staged and inserted in primary-key order: 8-9 s. The same with the indexes kept and
 * record-access rows inserted as generated: 22 s. The sqlite3 shell on the database file: 10-11 s (and it is not a
 * dependency). One `wrangler d1 execute --file` of the same SQL: 62 s.
 */
import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { cp, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { executeFile } from '../cli/d1'
import { generateCredentialsKey, importCredentialsKey } from '../src/lib/crypto'
import { fixtureRows, type SqlValue } from './cli-fixtures'
import { AUDIT_COLUMNS, chainRows, planChains } from './cli-seed'

/** Bump when the generated data changes, so old caches are not reused. */
const SEED_FORMAT = 1

export interface SeedMeta {
  format: number
  records: number
  chains: number
  keyChains: number
  accessRows: number
  schemaHash: string
  /** The seed's "now": records end just before it, and the bench's time filters are anchored on it. */
  endTime: number
  /** The secrets the gateway must run with for this state (sealed secrets, signed CLI calls). */
  credentialsKey: string
  adminSecret: string
  seededAt: string
  seedSeconds: number
}

export interface SeededState {
  /** The cached `--persist-to` directory: copied before use, never written by the bench run. */
  stateDir: string
  meta: SeedMeta
  reseeded: boolean
}

type D1 = Awaited<ReturnType<import('miniflare').Miniflare['getD1Database']>>

const lit = (value: SqlValue) =>
  value === null ? 'NULL' : typeof value === 'number' ? String(value) : `'${value.replaceAll("'", "''")}'`

/** D1 refuses statements over 100 000 bytes (SQLITE_TOOBIG); every value here is ASCII. */
const MAX_STATEMENT = 90_000
const STATEMENTS_PER_BATCH = 20

/** Multi-row INSERTs, one batch in flight while the next is generated. */
class BulkInsert {
  private open = new Map<string, { head: string; tuples: string[]; size: number }>()
  private ready: string[] = []
  private inFlight: Promise<unknown> = Promise.resolve()

  constructor(private readonly db: D1) {}

  /** Adds a row; true when a batch is ready to send (call `send`). */
  add(table: string, columns: string[], values: SqlValue[]): boolean {
    let statement = this.open.get(table)
    if (!statement) this.open.set(table, (statement = { head: `INSERT INTO ${table} (${columns.join(', ')}) VALUES `, tuples: [], size: 0 }))
    const tuple = `(${values.map(lit).join(',')})`
    if (statement.size + tuple.length + statement.head.length > MAX_STATEMENT) this.close(table)
    statement.tuples.push(tuple)
    statement.size += tuple.length + 1
    return this.ready.length >= STATEMENTS_PER_BATCH
  }

  private close(table: string): void {
    const statement = this.open.get(table)
    if (!statement || statement.tuples.length === 0) return
    this.ready.push(statement.head + statement.tuples.join(','))
    statement.tuples = []
    statement.size = 0
  }

  async send(): Promise<void> {
    const statements = this.ready
    this.ready = []
    await this.inFlight
    this.inFlight = statements.length ? this.db.batch(statements.map((text) => this.db.prepare(text))) : Promise.resolve()
  }

  async finish(): Promise<void> {
    for (const table of this.open.keys()) this.close(table)
    await this.send()
    await this.inFlight
  }
}

/** The CREATE INDEX statements of schema.sql on the audit tables: dropped for the bulk load, built after it. */
function auditIndexes(schema: string): { name: string; create: string }[] {
  return [...schema.matchAll(/CREATE INDEX IF NOT EXISTS (\w+) ON (audit_log|audit_record_access) \([^)]*\);/g)].map((m) => ({ name: m[1]!, create: m[0] }))
}

async function seed(stateDir: string, configPath: string, schemaPath: string, records: number, chains: number, log: (line: string) => void): Promise<SeedMeta> {
  const started = performance.now()
  await executeFile({ remote: false, configPath, persistTo: stateDir }, schemaPath)
  const schema = await readFile(schemaPath, 'utf8')
  const databaseId = /database_id\s*=\s*"([^"]+)"/.exec(await readFile(configPath, 'utf8'))?.[1]
  if (!databaseId) throw new Error(`no database_id in ${configPath}`)
  const { Miniflare } = await import('miniflare')
  // The D1 of `wrangler dev --persist-to stateDir`: wrangler keeps it under v3/d1, named after the database id.
  const mf = new Miniflare({ modules: true, script: 'export default {}', host: '127.0.0.1', port: 0, d1Databases: { DB: databaseId }, d1Persist: join(stateDir, 'v3', 'd1') })
  try {
    const db = await mf.getD1Database('DB')
    const indexes = auditIndexes(schema)
    await db.exec(indexes.map((index) => `DROP INDEX IF EXISTS ${index.name};`).join(' '))
    await db.exec('CREATE TABLE bench_access_stage (model TEXT, record_id INTEGER, time INTEGER, chain_id TEXT, seq INTEGER)')

    const endTime = Date.now()
    const credentialsKey = generateCredentialsKey()
    const plan = planChains(records, chains)
    const insert = new BulkInsert(db)
    for (const table of await fixtureRows(plan, endTime, await importCredentialsKey(credentialsKey))) {
      for (const row of table.rows) if (insert.add(table.table, table.columns, row)) await insert.send()
    }
    const ACCESS_COLUMNS = ['model', 'record_id', 'time', 'chain_id', 'seq']
    let done = 0
    let accessRows = 0
    let nextReport = records / 10
    for (let index = 0; index < plan.length; index++) {
      for (const row of chainRows(plan[index]!, index, endTime)) {
        let due = insert.add('audit_log', AUDIT_COLUMNS, row.values)
        for (const access of row.access) due = insert.add('bench_access_stage', ACCESS_COLUMNS, [access.model, access.recordId, row.values[2]!, row.values[0]!, row.values[1]!]) || due
        accessRows += row.access.length
        if (due) await insert.send()
        if (++done >= nextReport) {
          log(`  ${Math.round((done / records) * 100)} % (${done.toLocaleString('en')} records, ${Math.round((performance.now() - started) / 1000)} s)`)
          nextReport += records / 10
        }
      }
    }
    await insert.finish()
    log('  record-access rows in key order, indexes...')
    // Sorted, the primary key's B-tree is appended to instead of split at random: 5-10× faster than as generated.
    await db.exec('INSERT OR IGNORE INTO audit_record_access SELECT model, record_id, time, chain_id, seq FROM bench_access_stage ORDER BY model, record_id, chain_id, seq')
    await db.exec('DROP TABLE bench_access_stage')
    for (const index of indexes) await db.exec(index.create)
    return {
      format: SEED_FORMAT,
      records,
      chains,
      keyChains: plan.filter((chain) => chain.keyIndex !== null).length,
      accessRows,
      schemaHash: '',
      endTime,
      credentialsKey,
      adminSecret: randomBytes(32).toString('hex'),
      seededAt: new Date().toISOString(),
      seedSeconds: Math.round((performance.now() - started) / 100) / 10,
    }
  } finally {
    await mf.dispose()
  }
}

/** The cached seeded state for (records, chains), seeding it first when missing (or when `reseed`). */
export async function seededState(options: {
  projectDir: string
  records: number
  chains: number
  reseed: boolean
  log: (line: string) => void
}): Promise<SeededState> {
  const { projectDir, records, chains, log } = options
  const schemaPath = join(projectDir, 'schema.sql')
  const schemaHash = createHash('sha256').update(await readFile(schemaPath)).digest('hex')
  const dir = join(projectDir, '.cache', 'bench-cli', `r${records}-c${chains}-s${schemaHash.slice(0, 12)}-f${SEED_FORMAT}`)
  const metaPath = join(dir, 'meta.json')
  if (!options.reseed && existsSync(metaPath)) {
    return { stateDir: join(dir, 'state'), meta: JSON.parse(await readFile(metaPath, 'utf8')) as SeedMeta, reseeded: false }
  }
  // Caches of the same size for an older schema or seed format are of no use any more (and take ~1 GB at 1M records).
  const parent = dirname(dir)
  // A seed still being built by a live process is left alone.
  const building = (name: string) => {
    const pid = Number(/\.building-(\d+)$/.exec(name)?.[1])
    if (!pid) return false
    try {
      process.kill(pid, 0)
      return true
    } catch {
      return false
    }
  }
  const stale = existsSync(parent) ? (await readdir(parent)).filter((name) => name.startsWith(`r${records}-c${chains}-`) && join(parent, name) !== dir && !building(name)) : []
  for (const name of stale) await rm(join(parent, name), { recursive: true, force: true })
  // Built beside the cache and renamed into place: an interrupted seed never looks like a finished one.
  const work = `${dir}.building-${process.pid}`
  await rm(work, { recursive: true, force: true })
  await mkdir(work, { recursive: true })
  try {
    log(`seeding ${records.toLocaleString('en')} audit records in ${chains.toLocaleString('en')} chains into ${work} ...`)
    const meta = await seed(join(work, 'state'), join(projectDir, 'wrangler.toml'), schemaPath, records, chains, log)
    meta.schemaHash = schemaHash
    await writeFile(join(work, 'meta.json'), JSON.stringify(meta, null, 2) + '\n', { mode: 0o600 })
    await rm(dir, { recursive: true, force: true })
    await rename(work, dir)
    return { stateDir: join(dir, 'state'), meta, reseeded: true }
  } catch (error) {
    await rm(work, { recursive: true, force: true })
    throw error
  }
}

/** A private copy of the cached state for one bench run (the run creates, rotates and revokes keys). */
export async function copyState(stateDir: string, to: string): Promise<number> {
  const started = performance.now()
  await cp(stateDir, to, { recursive: true })
  return Math.round((performance.now() - started) / 100) / 10
}
