/** A D1 statement as plain data, so a change can be planned in one place and run in another (admin/v1/ledger.ts). */
export type SqlValue = string | number | null

export interface Statement {
  sql: string
  params: SqlValue[]
}

export const statement = (sql: string, ...params: SqlValue[]): Statement => ({ sql, params })

export function prepare(db: D1Database, { sql, params }: Statement): D1PreparedStatement {
  return db.prepare(sql).bind(...params)
}
