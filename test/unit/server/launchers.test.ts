/**
 * The process launcher (semantics.md §21.4) against a stand-in CLI script, and the worker
 * environment contract (§21.3).
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { LaunchRequest } from '../../../internal/orchestrator/index.ts'
import { inheritedEnvironment, workerEnvironment, workerHost } from '../../../internal/server/launchers/environment.ts'
import { OutputTail, tailText } from '../../../internal/server/launchers/output-tail.ts'
import { ProcessWorkerLauncher, shellQuote, workerCommand } from '../../../internal/server/launchers/process.ts'

const dir = mkdtempSync(join(tmpdir(), 'coflux-launcher-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Stands in for `coflux`: behaves according to its module argument. */
const cli = join(dir, "fake coflux's cli")
writeFileSync(
  cli,
  `#!/bin/sh
echo "args:$1|$2|$3"
echo "cwd:$(pwd) host:$COFLUX_HOST secret:\${COFLUX_SECRET:-none}"
case "$2" in
  fail) i=0; while [ $i -lt 30 ]; do i=$((i+1)); echo "line $i"; done; echo "boom" >&2; exit 3 ;;
  serve) trap 'echo "terminated"; exit 0' TERM; touch "$READY_FILE"; while true; do sleep 0.02; done ;;
esac
`,
)
chmodSync(cli, 0o755)

/** Polls until `check` holds; the deadline is generous for a loaded machine. */
async function until<T>(check: () => T | Promise<T>, what: string, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value as NonNullable<T>
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(20)
  }
}

async function waitForExit(launcher: ProcessWorkerLauncher, id: string) {
  return until(async () => {
    const result = await launcher.poll(id)
    return result.status !== 'running' && result
  }, `${id} to exit`)
}

describe('process worker launcher', () => {
  test('every argument is single-quoted, quotes escaped', () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`)
    expect(workerCommand('/opt/co flux', ['app.flows', 'b'])).toBe(`exec '/opt/co flux' 'worker' 'app.flows' 'b'`)
  })

  test('a failing worker: exit code and the tail of its merged output', async () => {
    const launcher = new ProcessWorkerLauncher(cli)
    const handle = launcher.launch('w1', dir, ['fail', "x'y"], { PATH: process.env.PATH ?? '' })
    expect(handle).toMatchObject({ type: 'process' })
    const result = await waitForExit(launcher, 'w1')
    expect(result).toMatchObject({ status: 'exited', exitCode: 3 })
    const logs = (result as { logs: string }).logs
    expect(logs.split('\n')).toHaveLength(20)
    expect(logs).toContain('line 30')
    expect(logs).toContain('boom')
    expect(logs).not.toContain('args:')
    // reported once; afterwards the launcher has lost track of it
    expect(await launcher.poll('w1')).toEqual({ status: 'lost' })
  })

  test('runs in the directory with the given environment; stop is SIGTERM', async () => {
    const launcher = new ProcessWorkerLauncher(cli)
    const ready = join(dir, 'ready')
    launcher.launch('w2', dir, ['serve', "it's"], { PATH: process.env.PATH ?? '', COFLUX_HOST: 'h:1', READY_FILE: ready })
    expect(await launcher.poll('w2')).toEqual({ status: 'running' })
    // stop only once the script handles TERM (a real worker drains on it)
    await until(() => existsSync(ready), 'the script to trap TERM')
    await launcher.stop('w2')
    const result = await waitForExit(launcher, 'w2')
    expect(result).toMatchObject({ status: 'exited', exitCode: 0 })
    const logs = (result as { logs: string }).logs
    expect(logs).toContain(`args:worker|serve|it's`)
    expect(logs).toContain(`cwd:${dir} host:h:1 secret:none`)
    expect(logs).toContain('terminated')
  })

  test('a missing directory fails the launch; unknown workers are lost', async () => {
    const launcher = new ProcessWorkerLauncher(cli)
    expect(() => launcher.launch('w3', join(dir, 'missing'), ['x'], {})).toThrow('directory not found')
    expect(await launcher.poll('nope')).toEqual({ status: 'lost' })
    await expect(launcher.stop('nope')).rejects.toThrow('process_lost')
  })
})

describe('output tail', () => {
  test('the last 20 lines within 1 KiB, cut on a character boundary', () => {
    const text = Array.from({ length: 50 }, (_, i) => `l${i}`).join('\n') + '\n'
    expect(tailText(Buffer.from(text))).toBe(Array.from({ length: 20 }, (_, i) => `l${i + 30}`).join('\n'))
    const long = tailText(Buffer.from('é'.repeat(2000)))!
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(1024)
    expect(long).toBe('é'.repeat(512))
    expect(tailText(Buffer.from('\n'))).toBeNull()
  })

  test('streams keep only the end', () => {
    const tail = new OutputTail()
    for (let i = 0; i < 5000; i++) tail.push(Buffer.from(`chunk ${i}\n`))
    expect(tail.text()!.split('\n').at(-1)).toBe('chunk 4999')
  })
})

describe('worker environment (semantics.md §21.3)', () => {
  const request: LaunchRequest = {
    workerId: 'u',
    poolName: 'cpu',
    workspaceName: 'prod/eu',
    sessionToken: 'sess.secret',
    modules: ['app'],
    launcher: { type: 'process', directory: '/x', adapter: ['python3', '-m', 'coflux'], concurrency: 4, serverSecure: false, env: { A: '1' } },
  }

  test('the contract variables, then the pool env and secretEnv', () => {
    expect(workerEnvironment(request, { host: 'h:7', projectId: 'acme', secretEnv: { S: 'plain' } })).toEqual({
      COFLUX_HOST: 'h:7',
      COFLUX_PROJECT: 'acme',
      COFLUX_WORKSPACE: 'prod/eu',
      COFLUX_SESSION: 'sess.secret',
      COFLUX_WORKER_ADAPTER: 'python3,-m,coflux',
      COFLUX_WORKER_CONCURRENCY: '4',
      COFLUX_SECURE: 'false',
      A: '1',
      S: 'plain',
    })
    const bare = workerEnvironment({ ...request, launcher: { type: 'process', directory: '/x' } }, { host: 'h', projectId: 'p', secretEnv: {} })
    expect(Object.keys(bare).sort()).toEqual(['COFLUX_HOST', 'COFLUX_PROJECT', 'COFLUX_SESSION', 'COFLUX_WORKSPACE'])
  })

  test('COFLUX_HOST: serverHost, else the public host with the project, else localhost:<port>', () => {
    expect(workerHost('pool.example:9', { publicHost: '%.example.com', port: () => 7777 }, 'acme')).toBe('pool.example:9')
    expect(workerHost(undefined, { publicHost: '%.example.com', port: () => 7777 }, 'acme')).toBe('acme.example.com')
    expect(workerHost(undefined, { publicHost: null, port: () => 7777 }, 'acme')).toBe('localhost:7777')
    expect(workerHost(undefined, { publicHost: null, port: () => 80 }, 'acme')).toBe('localhost')
  })

  test("the server's secrets are not inherited; everything else is", () => {
    expect(inheritedEnvironment({ PATH: '/bin', COFLUX_SECRET: 's', COFLUX_SUPER_TOKEN: 't', COFLUX_SUPER_TOKEN_HASH: 'h', COFLUX_OTHER: 'o' })).toEqual({
      PATH: '/bin',
      COFLUX_OTHER: 'o',
    })
  })
})
