/**
 * A real PostgreSQL for the tests, from Debian's `postgresql` package (scripts/test-setup.sh
 * installs it): `initdb` in a temporary directory, started on a free loopback port, shared by
 * every test of the process and stopped when it exits. Each caller gets its own empty database.
 *
 * PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user that
 * the package creates.
 */
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface TestPostgres {
  /** `postgres://coflux@127.0.0.1:<port>/postgres` */
  adminUrl: string
  port: number
  /** a new empty database; its URL */
  createDatabase(): Promise<string>
}

let shared: Promise<TestPostgres> | null = null

export function startPostgres(): Promise<TestPostgres> {
  return (shared ??= launch())
}

/** `/usr/lib/postgresql/<newest>/bin`, or the directory of `pg_ctl` on the PATH. */
function binDir(): string {
  const root = '/usr/lib/postgresql'
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))
    for (const v of versions) if (existsSync(join(root, v, 'bin', 'initdb'))) return join(root, v, 'bin')
  }
  const onPath = Bun.which('pg_ctl')
  if (onPath) return onPath.slice(0, onPath.lastIndexOf('/'))
  throw new Error('PostgreSQL is not installed: run scripts/test-setup.sh (apt-get install postgresql)')
}

function freePort(): number {
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = probe.port
  probe.stop(true)
  return port
}

async function run(argv: string[], asUser: string | null): Promise<void> {
  const cmd = asUser ? ['runuser', '-u', asUser, '--', ...argv] : argv
  const proc = Bun.spawn(cmd, { stdout: 'pipe', stderr: 'pipe' })
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  if (code !== 0) throw new Error(`${argv.join(' ')} exited with ${code}:\n${out}${err}`)
}

async function launch(): Promise<TestPostgres> {
  const bin = binDir()
  const asUser = process.getuid?.() === 0 ? 'postgres' : null
  const dir = mkdtempSync(join(tmpdir(), 'coflux-test-pg-'))
  const data = join(dir, 'data')
  if (asUser) {
    const id = Bun.spawnSync(['id', '-u', asUser]).stdout.toString().trim()
    const gid = Bun.spawnSync(['id', '-g', asUser]).stdout.toString().trim()
    if (!/^\d+$/.test(id)) throw new Error(`running as root needs the '${asUser}' user (from the postgresql package)`)
    chownSync(dir, Number(id), Number(gid))
  }
  await run([join(bin, 'initdb'), '-D', data, '-U', 'coflux', '--auth=trust', '--locale=C', '--encoding=UTF8'], asUser)
  let port = 0
  for (let attempt = 0; ; attempt++) {
    port = freePort()
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=on`
    try {
      await run([join(bin, 'pg_ctl'), '-D', data, '-o', options, '-l', join(dir, 'log'), '-w', 'start'], asUser)
      break
    } catch (err) {
      if (attempt >= 3) throw err
    }
  }
  const stop = () => {
    const argv = [join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', 'stop']
    Bun.spawnSync(asUser ? ['runuser', '-u', asUser, '--', ...argv] : argv)
    rmSync(dir, { recursive: true, force: true })
  }
  process.once('exit', stop)
  const adminUrl = `postgres://coflux@127.0.0.1:${port}/postgres`
  let counter = 0
  return {
    adminUrl,
    port,
    async createDatabase() {
      const name = `t${process.pid}_${++counter}_${Math.random().toString(36).slice(2, 8)}`
      const admin = new Bun.SQL(adminUrl, { max: 1 })
      try {
        await admin.unsafe(`CREATE DATABASE "${name}"`)
      } finally {
        await admin.close()
      }
      return `postgres://coflux@127.0.0.1:${port}/${name}`
    },
  }
}
