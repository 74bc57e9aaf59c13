/**
 * `coflux queue --no-watch`, run in-process against a scripted fake server: each entry's
 * priority is shown, higher first, oldest first within a priority.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { rootCommand } from '../../../cmd/coflux/root.ts'
import { memoryIO, run } from '../../../internal/cli-ui/index.ts'
import type { QueueEntry } from '../../../internal/protocol/api.ts'

let server: ReturnType<typeof Bun.serve>
let dir: string
let queue: Record<string, QueueEntry> = {}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'coflux-queue-'))
  server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch(req) {
      const path = new URL(req.url).pathname
      if (path === '/topics/workspaces') return Response.json({ W1: { name: 'default', state: 'active' } })
      if (path === '/topics/workspaces/W1/queue') return Response.json(queue)
      return Response.json({ error: 'not_found' }, { status: 404 })
    },
  })
})
afterAll(() => {
  server.stop(true)
  rmSync(dir, { recursive: true, force: true })
})

function entry(target: string, priority: number, createdAt: number): QueueEntry {
  return {
    module: 'app', target, runId: 'R1', stepId: 'R1:1', stepNumber: 1, attempt: 1, executeAfter: null, createdAt,
    assignedAt: null, dependencies: [], requires: {}, priority, status: 'ready', reason: '',
  }
}

async function showQueue(...flags: string[]) {
  const io = memoryIO({ env: { NO_COLOR: '1', HOME: dir, COFLUX_HOST: `127.0.0.1:${server.port}`, COFLUX_WORKSPACE: 'default' }, cwd: dir })
  const code = await run(rootCommand, ['queue', '--no-watch', ...flags], io)
  return { code, out: io.out(), err: io.err() }
}

test('a Priority column; higher priority first, then the oldest', async () => {
  queue = { 'R1:1:1': entry('old_low', 0, 1), 'R1:2:1': entry('urgent', 10, 3), 'R1:3:1': entry('new_low', 0, 2), 'R1:4:1': entry('batch', -5, 0) }
  const r = await showQueue()
  expect(r.code).toBe(0)
  const lines = r.out.trimEnd().split('\n')
  expect(lines[0]).toMatch(/Execution\s+Target\s+Priority\s+Requires/)
  expect(lines.slice(1).map((line) => line.split(/\s+/).slice(1, 3))).toEqual([
    ['app/urgent', '10'],
    ['app/old_low', '0'],
    ['app/new_low', '0'],
    ['app/batch', '-5'],
  ])
})

test('-o json passes the priority through', async () => {
  queue = { 'R1:1:1': entry('t', 3, 1) }
  const r = await showQueue('-o', 'json')
  expect(r.code).toBe(0)
  expect(JSON.parse(r.out)['R1:1:1'].priority).toBe(3)
})
