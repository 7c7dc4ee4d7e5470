/**
 * Columns added to `audit_log` after its first release, and how a database created before gets them.
 *
 * schema.sql is applied on every `npm start` and before every test file, so it must stay idempotent: it creates a
 * fresh database with every column, but `CREATE TABLE IF NOT EXISTS` leaves an existing table as it is, and SQLite
 * has no `ADD COLUMN IF NOT EXISTS`. So the writer adds them: when D1 refuses an audit batch because one of these
 * columns is missing, the flush runs `ALTER TABLE audit_log ADD COLUMN ...` for each (a duplicate-column answer means
 * another object was first, which is as good) and sends the batch again. Safe because:
 * - only columns listed here, nullable and without a default: SQLite changes the table definition, not its rows, so
 *   it takes the same time on a table of 10 GB as on an empty one;
 * - only on D1's own "no column named X" answer for one of them, never on a guess;
 * - the batch is one transaction: it was refused as a whole, nothing half-written;
 * - until it succeeds the records wait in the Durable Object's outbox, as when D1 is down (docs/AUDIT.md);
 * - rows written before keep the column NULL, which reads as "no value" and hashes as before (src/audit/chain.ts).
 * An operator may also add a column beforehand: `wrangler d1 execute DB --remote --command "ALTER TABLE audit_log ADD
 * COLUMN query TEXT"` (docs/AUDIT.md, "Schema changes").
 */
import type { Env } from '../env'

export interface AddedColumn {
  name: string
  /** The column definition for ALTER TABLE ADD COLUMN: nullable, no default. */
  definition: string
}

/** Oldest first. Each one also belongs in schema.sql's CREATE TABLE, at the end, in this order. */
export const AUDIT_ADDED_COLUMNS: readonly AddedColumn[] = [{ name: 'query', definition: 'query TEXT' }]

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error))

/** The added column D1 says is missing ("table audit_log has no column named query", "no such column: query"). */
export function missingAddedColumn(error: unknown): string | undefined {
  const message = messageOf(error)
  return AUDIT_ADDED_COLUMNS.find(({ name }) => new RegExp(`no (such column: |column named )${name}\\b`, 'i').test(message))?.name
}

/** Adds every listed column the table lacks; returns the ones this call added. */
export async function addAuditColumns(db: Env['DB']): Promise<string[]> {
  const added: string[] = []
  for (const column of AUDIT_ADDED_COLUMNS) {
    try {
      await db.prepare(`ALTER TABLE audit_log ADD COLUMN ${column.definition}`).run()
      added.push(column.name)
    } catch (error) {
      if (!/duplicate column name/i.test(messageOf(error))) throw error
    }
  }
  return added
}
