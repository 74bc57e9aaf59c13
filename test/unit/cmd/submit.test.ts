/**
 * `coflux submit`'s flags, run in-process against a scripted fake server: the request body is
 * what the flags and the workflow's registered configuration make it.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { rootCommand } from '../../../cmd/coflux/root.ts'
import { memoryIO, run } from '../../../internal/cli-ui/index.ts'

let server: ReturnType<typeof Bun.serve>
let dir: string
let configuration: Record<string, unknown> | null = null
let submitted: Record<string, unknown>[] = []

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'coflux-submit-'))
  server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const path = new URL(req.url).pathname
      if (path === '/topics/workspaces') return Response.json({ W1: { name: 'default', state: 'active' } })
      if (path === '/topics/workspaces/W1/workflows/app.flows/main') {
        return Response.json({ parameters: [], instruction: null, configuration, runs: {} })
      }
      if (path === '/api/submit_workflow') {
        submitted.push((await req.json()) as Record<string, unknown>)
        return Response.json({ runId: 'R1', stepId: 'R1:1', executionId: 'R1:1:1' })
      }
      return Response.json({ error: 'not_found' }, { status: 404 })
    },
  })
})
afterAll(() => {
  server.stop(true)
  rmSync(dir, { recursive: true, force: true })
})

async function submit(...flags: string[]) {
  submitted = []
  const io = memoryIO({ env: { NO_COLOR: '1', HOME: dir, COFLUX_HOST: `127.0.0.1:${server.port}`, COFLUX_WORKSPACE: 'default' }, cwd: dir })
  const code = await run(rootCommand, ['submit', 'app.flows/main', '--no-wait', '-o', 'json', ...flags], io)
  return { code, err: io.err(), body: submitted[0] }
}

const BASE = { waitFor: [], cache: null, defer: null, delay: 0, retries: null, recurrent: false, timeout: 0, requires: null, memo: false, resumes: null, priority: null, concurrency: null }

describe('--resumes', () => {
  test('N ≥ 0 is sent as `resumes`, overriding the workflow', async () => {
    configuration = { ...BASE, resumes: 5 }
    expect((await submit()).body!.resumes).toBe(5)
    const zero = await submit('--resumes', '0')
    expect(zero.code).toBe(0)
    expect(zero.body!.resumes).toBe(0)
    expect((await submit('--resumes=12')).body!.resumes).toBe(12)
  })

  test('absent from the flags and the workflow: absent from the request (the server defaults it)', async () => {
    configuration = null
    const r = await submit()
    expect(r.code).toBe(0)
    expect(r.body).not.toHaveProperty('resumes')
  })

  test.each(['-1', '1.5', 'many', '', '99999999999999999999'])('%p is a usage error (exit 2), nothing submitted', async (value) => {
    const r = await submit('--resumes', value)
    expect(r.code).toBe(2)
    expect(r.err).toContain(`invalid value for --resumes: "${value}" (expected an integer ≥ 0)`)
    expect(r.body).toBeUndefined()
  })

  test('documented in the help', async () => {
    const io = memoryIO()
    expect(await run(rootCommand, ['submit', '--help'], io)).toBe(0)
    expect(io.out()).toContain('--resumes')
  })
})

describe('--priority', () => {
  test('an integer, negative included, is sent as `priority`, overriding the workflow; its limit passes as declared', async () => {
    configuration = { ...BASE, priority: 4, concurrency: { limit: 2, key: '{customer_id}' } }
    const declared = await submit()
    expect(declared.body).toMatchObject({ priority: 4, concurrency: { limit: 2, key: '{customer_id}' } })
    expect((await submit('--priority', '10')).body!.priority).toBe(10)
    expect((await submit('--priority=-5')).body!.priority).toBe(-5)
    expect((await submit('--priority', '-5')).body!.priority).toBe(-5)
    expect((await submit('--priority', '0')).body!.priority).toBe(0)
  })

  test('absent from the flags and the workflow: absent from the request (the server uses 0)', async () => {
    configuration = { ...BASE }
    const r = await submit()
    expect(r.code).toBe(0)
    expect(r.body).not.toHaveProperty('priority')
    expect(r.body).not.toHaveProperty('concurrency')
  })

  test.each(['1.5', 'high', '', '99999999999999999999', '1e3'])('%p is a usage error (exit 2), nothing submitted', async (value) => {
    const r = await submit(`--priority=${value}`)
    expect(r.code).toBe(2)
    expect(r.err).toContain(`invalid value for --priority: "${value}" (expected an integer)`)
    expect(r.body).toBeUndefined()
  })

  test('documented in the help', async () => {
    const io = memoryIO()
    expect(await run(rootCommand, ['submit', '--help'], io)).toBe(0)
    expect(io.out()).toMatch(/--priority.*higher runs first/)
  })
})
