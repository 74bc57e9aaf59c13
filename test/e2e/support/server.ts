/**
 * A real `coflux server` on a free loopback port with a temporary data directory; with
 * `COFLUX_TEST_STORE=postgres` (the suite's second pass in scripts/test.sh), its stores are in a
 * fresh database of the tests' real PostgreSQL (support/postgres.ts) and its blobs under a fresh
 * prefix of a real S3-compatible server (support/s3.ts) instead.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import type { Subprocess } from 'bun'
import { cofluxCommand, testEnv, track } from './binary.ts'
import { PostgresHost, sqliteHost } from '../../../internal/store/index.ts'
import { startPostgres } from './postgres.ts'
import { startTestS3, type TestS3 } from './s3.ts'

let sharedS3: Promise<TestS3> | null = null

export interface TestServer {
  url: string
  port: number
  host: string
  dataDir: string
  /** the PostgreSQL database holding the stores, or null for SQLite files under dataDir */
  databaseUrl: string | null
  /** the databases (`<name>.sqlite`) directly in `dir` of the data directory: files, or PostgreSQL schemas */
  databasesIn(dir: string): string[]
  /** SIGTERM and wait (graceful) */
  stop(): Promise<void>
  /** SIGKILL: a crash */
  kill(): Promise<void>
  /** start again on the same port and data directory (with `env` added to the environment) */
  restart(options?: { env?: Record<string, string> }): Promise<void>
  stderr(): string
  /** POST /api/<name> */
  api<T = any>(name: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T }>
  get<T = any>(path: string, headers?: Record<string, string>): Promise<{ status: number; body: T }>
  cleanup(): Promise<void>
}

/** Whether this run's servers keep their stores in PostgreSQL. */
export function storeIsPostgres(): boolean {
  return process.env.COFLUX_TEST_STORE === 'postgres'
}

export async function startTestServer(options: { env?: Record<string, string>; args?: string[]; databaseUrl?: string } = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'coflux-test-data-'))
  const databaseUrl = options.databaseUrl ?? (storeIsPostgres() ? await (await startPostgres()).createDatabase() : null)
  const storeArgs = databaseUrl ? ['--database-url', databaseUrl] : []
  let storeEnv: Record<string, string> = {}
  if (storeIsPostgres() && !options.args?.includes('--blobs-url') && !options.env?.COFLUX_BLOBS_URL) {
    const s3 = await (sharedS3 ??= startTestS3())
    storeArgs.push('--blobs-url', `s3://${s3.bucket}/${basename(dataDir)}?endpoint=${encodeURIComponent(s3.endpoint)}&region=us-east-1`)
    storeEnv = s3.env
  }
  let port = 0
  let proc: Subprocess<'ignore', 'pipe', 'pipe'> | null = null
  let errText = ''
  let env = options.env ?? {}

  const launch = async () => {
    proc = track(Bun.spawn([...cofluxCommand(), 'server', '--port', String(port), '--data-dir', dataDir, ...storeArgs, ...(options.args ?? [])], {
      env: testEnv({ COFLUX_OUTPUT: 'json', ...storeEnv, ...env }),
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
    }))
    const current = proc
    ;(async () => {
      for await (const chunk of current.stderr) errText += new TextDecoder().decode(chunk)
    })()
    const reader = current.stdout.getReader()
    let buffered = ''
    const deadline = Date.now() + 15_000
    while (Date.now() < deadline) {
      const { value, done } = await reader.read()
      if (done) throw new Error(`server exited before ready:\n${errText}`)
      buffered += new TextDecoder().decode(value)
      const line = buffered.split('\n').find((l) => l.includes('"event":"ready"'))
      if (line) {
        port = JSON.parse(line).port
        reader.releaseLock()
        return
      }
    }
    throw new Error(`server not ready:\n${errText}`)
  }
  await launch()

  const request = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    })
    const text = await res.text()
    let parsed: any = text
    try {
      parsed = text ? JSON.parse(text) : undefined
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed }
  }

  const server: TestServer = {
    get url() {
      return `http://127.0.0.1:${port}`
    },
    get port() {
      return port
    },
    get host() {
      return `localhost:${port}`
    },
    dataDir,
    databaseUrl,
    databasesIn(dir) {
      const path = join(dataDir, dir)
      if (!databaseUrl) return sqliteHost.list(path)
      const host = new PostgresHost({ url: databaseUrl, root: dataDir })
      try {
        return host.list(path)
      } finally {
        host.close()
      }
    },
    async stop() {
      if (!proc) return
      proc.kill('SIGTERM')
      await proc.exited
      proc = null
    },
    async kill() {
      if (!proc) return
      proc.kill('SIGKILL')
      await proc.exited
      proc = null
    },
    async restart(o = {}) {
      await server.stop()
      env = { ...env, ...o.env }
      await launch()
    },
    stderr: () => errText,
    api: (name, body = {}, headers) => request('POST', `/api/${name}`, body, headers),
    get: (path, headers) => request('GET', path, undefined, headers),
    async cleanup() {
      // gracefully: the server stops the workers its pools launched (a SIGKILL would orphan them)
      if (proc) {
        const current = proc
        current.kill('SIGTERM')
        const timer = setTimeout(() => current.kill('SIGKILL'), 10_000)
        await current.exited
        clearTimeout(timer)
        proc = null
      }
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
  return server
}
