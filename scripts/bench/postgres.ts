/**
 * The PostgreSQL the bench puts the server's stores in: the tests' own (test/e2e/support/postgres.ts:
 * Debian's `postgresql` package, initdb in a temporary directory, a free loopback port, stopped
 * when the process exits), so there is one way to start one and the bench measures the cluster
 * the tests exercise. Beside it, the cluster's root process (the postmaster): with SQLite the
 * store's work is done inside the server process, with PostgreSQL much of it is done in the
 * backends, so the fan-out counts their CPU too.
 */
import { startPostgres } from '../../test/e2e/support/postgres.ts'
import { parentOf } from './proc.ts'

export interface BenchPostgres {
  /** a new empty database; its URL */
  createDatabase(): Promise<string>
  /** the postmaster: every backend and background process is below it */
  pid: number
  /** `server_version`, e.g. "15.14 (Debian 15.14-0+deb12u1)" */
  version: string
}

export async function startBenchPostgres(): Promise<BenchPostgres> {
  const cluster = await startPostgres()
  const admin = new Bun.SQL(cluster.adminUrl, { max: 1 })
  try {
    const [row] = await admin`SELECT pg_backend_pid() AS pid, current_setting('server_version') AS version`
    // a backend's parent is the postmaster
    return { createDatabase: () => cluster.createDatabase(), pid: parentOf(Number(row.pid)), version: String(row.version) }
  } finally {
    await admin.close()
  }
}
