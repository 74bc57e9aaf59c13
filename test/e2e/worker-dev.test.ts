/**
 * `coflux worker --dev`: registers the workflows, and reloads (drain, rediscover, re-register,
 * fresh warm processes) when a .py file changes.
 */
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { until } from './support/binary.ts'
import { coflux } from './support/cli.ts'
import { startTestServer, type TestServer } from './support/server.ts'
import { startTestWorker, type TestWorker } from './support/worker.ts'

let server: TestServer | undefined
let worker: TestWorker | undefined
const dir = mkdtempSync(join(tmpdir(), 'coflux-dev-'))
afterAll(async () => {
  await worker?.kill()
  await server?.cleanup()
  rmSync(dir, { recursive: true, force: true })
})

const VERSION_1 = `import coflux as cf

@cf.workflow()
def greet(name: str) -> str:
    return f"hello {name}"
`

test('a change to a module reloads the worker with the new code', async () => {
  server = await startTestServer()
  writeFileSync(join(dir, 'live.py'), VERSION_1)
  worker = await startTestWorker(server, { workspace: 'dev', modules: ['live'], args: ['--dev'], cwd: dir })
  const cli = (args: string[]) => coflux(args, { host: server!.host, workspace: 'dev' })
  expect((await cli(['submit', 'live/greet', '"ada"', '-o', 'json'])).code).toBe(0)
  const first = await cli(['runs', 'result', (await cli(['submit', 'live/greet', '"ada"'])).stdout.trim(), '-o', 'json'])
  expect(first.json.value.data).toBe('hello ada')

  writeFileSync(join(dir, 'live.py'), VERSION_1.replace('hello', 'goodbye') + `

@cf.workflow()
def added() -> int:
    return 42
`)
  await until(() => worker!.output().includes('change detected, reloading'), { timeoutMs: 20_000 })
  const manifests = await until(async () => {
    const m = (await cli(['manifests', 'inspect', '-o', 'json'])).json
    return m?.live?.added ? m : null
  })
  expect(Object.keys(manifests.live).sort()).toEqual(['added', 'greet'])
  const result = await until(async () => {
    const res = await cli(['submit', 'live/greet', '"ada"'])
    const value = (await cli(['runs', 'result', res.stdout.trim(), '-o', 'json'])).json?.value?.data
    return value === 'goodbye ada' ? value : null
  })
  expect(result).toBe('goodbye ada')
})
