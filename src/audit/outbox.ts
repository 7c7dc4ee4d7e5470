/**
 * The durable half of the audit log, inside a Durable Object (a key's object, or one of the objects for requests
 * without a valid key). A record is appended to the object's own SQLite storage before the response leaves the
 * gateway; an alarm copies batches to D1, linking them into the chain; a batch D1 refused stays and is retried.
 *
 * - Append is synchronous (no await between taking a sequence number and storing the record), so records of
 *   concurrent requests get distinct, gap-free sequence numbers; the object's output gate holds the RPC's answer
 *   until the write is durable.
 * - Flushing computes the hashes in sequence order from the last flushed hash, inserts with INSERT OR IGNORE keyed by
 *   (chain_id, seq), and only then deletes the outbox rows and moves the chain head. A restart between the two
 *   repeats the same inserts with the same hashes: nothing lost, nothing doubled.
 */
import type { Env } from '../env'
import { linkRecords } from './chain'
import { GENESIS_HASH, type AuditRecord, type ChainedAuditRecord } from './record'
import { addAuditColumns, missingAddedColumn } from './schema-upgrade'

/** Records per D1 batch. Each record is two statements (the row, and its record ids). */
export const AUDIT_BATCH_SIZE = 100
/** How long a record may wait in the outbox before the alarm sends it, to batch busy chains. */
export const AUDIT_FLUSH_DELAY_MS = 1_000
const MAX_RETRY_DELAY_MS = 60_000

interface ChainState {
  chainId: string | null
  /** Last sequence number handed out. */
  lastSeq: number
  /** Last sequence number written to D1, and its hash (the chain head in D1). */
  flushedSeq: number
  flushedHash: string
  failures: number
}

const STATE_KEY = 'audit-chain'

export class AuditOutbox {
  private state: ChainState
  private flushing: Promise<FlushResult> | undefined

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly db: () => Env['DB'],
  ) {
    storage.sql.exec('CREATE TABLE IF NOT EXISTS audit_outbox (seq INTEGER PRIMARY KEY, record TEXT NOT NULL)')
    this.state = storage.kv.get<ChainState>(STATE_KEY) ?? {
      chainId: null,
      lastSeq: 0,
      flushedSeq: 0,
      flushedHash: GENESIS_HASH,
      failures: 0,
    }
    // lastSeq is not stored on every append (one write less per request): the outbox rows are the truth for it.
    const newest = storage.sql.exec<{ seq: number | null }>('SELECT MAX(seq) AS seq FROM audit_outbox').one().seq
    if (newest !== null && newest > this.state.lastSeq) this.state.lastSeq = newest
  }

  /** Stores one record; returns its sequence number. Synchronous on purpose (see above). */
  append(chainId: string, record: AuditRecord): number {
    if (this.state.chainId !== null && this.state.chainId !== chainId) {
      throw new Error(`audit chain mismatch: object holds ${this.state.chainId}, asked to append to ${chainId}`)
    }
    const seq = ++this.state.lastSeq
    this.storage.sql.exec('INSERT INTO audit_outbox (seq, record) VALUES (?, ?)', seq, JSON.stringify(record))
    // The row is the durable part; the state changes only on the chain's first record (and on flushes).
    if (this.state.chainId === null) {
      this.state.chainId = chainId
      this.storage.kv.put(STATE_KEY, this.state)
    }
    return seq
  }

  /**
   * The sequence number of a record still in the outbox, by its request id: an append the Worker retried because the
   * first call's answer was lost (the object restarted) must not store the record twice.
   */
  seqOf(requestId: string): number | null {
    const rows = this.storage.sql
      .exec<{ seq: number }>("SELECT seq FROM audit_outbox WHERE json_extract(record, '$.requestId') = ? LIMIT 1", requestId)
      .toArray()
    return rows[0]?.seq ?? null
  }

  get pending(): number {
    return this.state.lastSeq - this.state.flushedSeq
  }

  /** When the alarm should run next for this outbox, or null when there is nothing to send. */
  nextFlushAt(now: number): number | null {
    if (this.pending === 0) return null
    if (this.state.failures === 0) return now + AUDIT_FLUSH_DELAY_MS
    return now + Math.min(MAX_RETRY_DELAY_MS, 1_000 * 2 ** Math.min(this.state.failures, 6))
  }

  /** Sends everything pending to D1, batch by batch. One flush at a time. */
  flush(): Promise<FlushResult> {
    this.flushing ??= this.flushAll().finally(() => (this.flushing = undefined))
    return this.flushing
  }

  private async flushAll(): Promise<FlushResult> {
    let sent = 0
    while (this.pending > 0) {
      const rows = this.storage.sql
        .exec<{ seq: number; record: string }>('SELECT seq, record FROM audit_outbox ORDER BY seq LIMIT ?', AUDIT_BATCH_SIZE)
        .toArray()
      if (rows.length === 0) break
      const chained = await linkRecords(
        this.state.chainId!,
        this.state.flushedHash,
        rows.map((row) => ({ seq: row.seq, record: JSON.parse(row.record) as AuditRecord })),
      )
      try {
        await this.insert(chained)
      } catch (error) {
        this.state.failures++
        this.storage.kv.put(STATE_KEY, this.state)
        return { sent, pending: this.pending, error: error instanceof Error ? error.message : String(error) }
      }
      const last = chained[chained.length - 1]!
      this.storage.sql.exec('DELETE FROM audit_outbox WHERE seq <= ?', last.seq)
      this.state.flushedSeq = last.seq
      this.state.flushedHash = last.hash
      this.state.failures = 0
      this.storage.kv.put(STATE_KEY, this.state)
      sent += chained.length
    }
    return { sent, pending: this.pending }
  }

  /**
   * Writes one batch. A database created before a column of the audit log existed refuses it: the column is added
   * (src/audit/schema-upgrade.ts) and the batch sent once more.
   */
  private async insert(chained: ChainedAuditRecord[]): Promise<void> {
    const db = this.db()
    try {
      await db.batch(chained.flatMap((record) => insertStatements(db, record)))
    } catch (error) {
      if (!missingAddedColumn(error)) throw error
      await addAuditColumns(db)
      await db.batch(chained.flatMap((record) => insertStatements(db, record)))
    }
  }

  /** The chain head as this object knows it (what D1's last row must match). */
  head(): { chainId: string | null; seq: number; hash: string; pending: number } {
    return { chainId: this.state.chainId, seq: this.state.flushedSeq, hash: this.state.flushedHash, pending: this.pending }
  }
}

export interface FlushResult {
  sent: number
  pending: number
  error?: string
}

function insertStatements(db: Env['DB'], r: ChainedAuditRecord): D1PreparedStatement[] {
  const statements = [
    db
      .prepare(
        `INSERT OR IGNORE INTO audit_log (chain_id, seq, time, request_id, key_id, key_name, key_prefix, odoo_user, ip,
           user_agent, client_info, method, tool, model, operation, record_ids, record_ids_truncated, fields, domain,
           outcome, code, http_status, latency_ms, odoo_latency_ms, response_bytes, prev_hash, hash, query)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23,
           ?24, ?25, ?26, ?27, ?28)`,
      )
      .bind(
        r.chainId, r.seq, r.time, r.requestId, r.keyId, r.keyName, r.keyPrefix, r.odooUser, r.ip, r.userAgent,
        r.clientInfo, r.method, r.tool, r.model, r.operation, JSON.stringify(r.recordIds), r.recordIdsTruncated ? 1 : 0,
        JSON.stringify(r.fields), r.domain === null || r.domain === undefined ? null : JSON.stringify(r.domain),
        r.outcome, r.code, r.httpStatus, r.latencyMs, r.odooLatencyMs, r.responseBytes, r.prevHash, r.hash,
        r.query === null || r.query === undefined ? null : JSON.stringify(r.query),
      ),
  ]
  if (r.model && r.recordIds.length > 0) {
    statements.push(
      db
        .prepare(
          `INSERT OR IGNORE INTO audit_record_access (model, record_id, time, chain_id, seq)
           SELECT ?1, value, ?2, ?3, ?4 FROM json_each(?5)`,
        )
        .bind(r.model, r.time, r.chainId, r.seq, JSON.stringify(r.recordIds)),
    )
  }
  return statements
}
