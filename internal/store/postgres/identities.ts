import type { SqlDatabase } from '../sql-database.ts'

function quote(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/**
 * After rows were copied with their ids (an epoch rotation keeps them), each identity column's
 * sequence restarts after the largest id, so the next generated one is free.
 */
export function restartIdentities(db: SqlDatabase): void {
  const columns = db
    .query<{ table_name: string; column_name: string }, []>(
      "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND is_identity = 'YES'",
    )
    .all()
  for (const { table_name: table, column_name: column } of columns) {
    db.query<unknown, [string, string]>(
      `SELECT setval(pg_get_serial_sequence(?, ?), COALESCE((SELECT max(${quote(column)}) FROM ${quote(table)}), 0) + 1, false)`,
    ).get(quote(table), column)
  }
}
