/**
 * Log rotation (semantics.md §24, http-api.md §9.10, §12) with the real binary, a real worker and
 * real Python: `rotate_logs` archives the log store under a running server while a run is
 * printing; every line stays readable in order, cursors page across the boundary (and cursors
 * issued before it still work), and a `--follow` stream started before it keeps receiving.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Subprocess } from 'bun'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cofluxCommand, testEnv, track, until } from './support/binary.ts'
import { coflux } from './support/cli.ts'
import { startTestServer, type TestServer } from './support/server.ts'
import { FIXTURES, startTestWorker, waitForRun, workspaceId, type TestWorker } from './support/worker.ts'

const SUPER = 'super-xyz'
const WORKSPACE = 'log-rotation'
// more than a page (1000) on each side, so the CLI's own paging crosses the boundary
const BEFORE = 1500
const AFTER = 1500
let server: TestServer
let worker: TestWorker
let ws: string
let markers: string

beforeAll(async () => {
  // anonymous callers may use the server (so the helpers need no token); rotation needs the super token
  server = await startTestServer({ env: { COFLUX_SUPER_TOKEN: SUPER, COFLUX_REQUIRE_AUTH: 'false', COFLUX_BIND: '127.0.0.1' } })
  worker = await startTestWorker(server, { workspace: WORKSPACE, args: ['--register'], modules: ['log_rotation'] })
  ws = (await workspaceId(server, WORKSPACE))!
  markers = mkdtempSync(join(tmpdir(), 'coflux-log-rotation-'))
})
afterAll(async () => {
  await worker?.kill()
  await server?.cleanup()
  rmSync(markers, { recursive: true, force: true })
})

const archives = () => server.databasesIn('projects/default/logs').filter((f) => /^\d{8}_\d{4}\.sqlite$/.test(f))
const lines = (logs: { template: string }[]) => logs.map((l) => l.template)
const expected = (phase: string, n: number) => Array.from({ length: n }, (_, i) => `${phase} ${i}`)

async function page(runId: string, limit: number, after?: string): Promise<{ logs: any[]; cursor: string | null }> {
  const query = new URLSearchParams({ run: runId, limit: String(limit), ...(after ? { after } : {}) })
  const res = await server.get(`/logs?${query}`)
  expect(res.status).toBe(200)
  return res.body
}

/** `coflux logs <run> --follow -o json`: one JSON entry per stdout line. */
function follow(runId: string): { entries: () => any[]; stop: () => Promise<void> } {
  const proc: Subprocess<'ignore', 'pipe', 'pipe'> = track(
    Bun.spawn([...cofluxCommand(), 'logs', runId, '--follow', '-o', 'json'], {
      env: testEnv({ COFLUX_HOST: server.host, COFLUX_WORKSPACE: WORKSPACE }),
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
    }),
  )
  let text = ''
  ;(async () => {
    for await (const chunk of proc.stdout) text += new TextDecoder().decode(chunk)
  })()
  return {
    entries: () => text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l)),
    async stop() {
      proc.kill('SIGINT')
      await proc.exited
    },
  }
}

test('rotate_logs is for the super token only', async () => {
  expect((await server.api('rotate_logs', {})).status).toBe(403)
  expect((await server.api('rotate_logs', {}, { authorization: 'Bearer wrong-token' })).status).toBe(401)
})

test('logs written before and after a rotation read back in order, page across it and stream through it', async () => {
  const marker = join(markers, 'go')
  const res = await server.api('submit_workflow', {
    workspaceId: ws,
    module: 'log_rotation',
    target: 'chatty',
    arguments: [marker, BEFORE, AFTER].map((a) => ['json', JSON.stringify(a)]),
  })
  expect(res.status).toBe(200)
  const { runId } = res.body
  await until(async () => (await page(runId, 10_000)).logs.length === BEFORE, { timeoutMs: 30_000, message: 'the first lines' })

  const stream = follow(runId)
  await until(() => stream.entries().length === BEFORE, { timeoutMs: 30_000, message: 'the stream catching up' })
  // cursors issued by the active store before the rotation, in both forms
  const before = await page(runId, 1000)
  expect(before.cursor).toMatch(/^:\d+:\d+$/)
  const older = before.cursor!.slice(1)

  expect(archives()).toEqual([])
  const rotated = await server.api('rotate_logs', {}, { authorization: `Bearer ${SUPER}` })
  expect(rotated.status).toBe(204)
  const [archive] = archives()
  expect(archive).toMatch(/^\d{8}_\d{4}\.sqlite$/)
  const archiveId = archive!.replace('.sqlite', '')

  writeFileSync(marker, '')
  await waitForRun(server, ws, runId)
  const all = await until(
    async () => {
      const r = await coflux(['logs', runId, '-o', 'json'], { host: server.host, workspace: WORKSPACE })
      expect(r.code).toBe(0)
      return r.json.logs.length === BEFORE + AFTER ? r.json : null
    },
    { timeoutMs: 30_000, message: 'every line through the CLI' },
  )
  expect(lines(all.logs)).toEqual([...expected('before', BEFORE), ...expected('after', AFTER)])
  expect(all.cursor).toMatch(/^:\d+:\d+$/)

  // pages of 1000: the archive's, one straddling the boundary, the active store's
  const first = await page(runId, 1000)
  const second = await page(runId, 1000, first.cursor!)
  const third = await page(runId, 1000, second.cursor!)
  expect(first.cursor!.startsWith(`${archiveId}:`)).toBe(true)
  expect(second.cursor).toMatch(/^:\d+:\d+$/)
  expect(lines([...first.logs, ...second.logs, ...third.logs])).toEqual(lines(all.logs))
  expect(await page(runId, 1000, third.cursor!)).toEqual({ logs: [], cursor: null })
  // the cursors from before the rotation continue after the same line
  const rest = [...expected('before', BEFORE).slice(1000), ...expected('after', AFTER)]
  expect(lines((await page(runId, 10_000, before.cursor!)).logs)).toEqual(rest)
  expect(lines((await page(runId, 10_000, older)).logs)).toEqual(rest)

  // the stream opened before the rotation got every line once, in order
  await until(() => stream.entries().length >= BEFORE + AFTER, { timeoutMs: 30_000, message: 'the stream after the rotation' })
  await stream.stop()
  expect(lines(stream.entries())).toEqual(lines(all.logs))
})
