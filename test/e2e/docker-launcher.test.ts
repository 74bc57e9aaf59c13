/**
 * Pools with the docker launcher (semantics.md §21, http-api.md §9.3) against a real Docker
 * daemon: queued work makes the server start a container worker (an image built here from the
 * host's files: `coflux`, python3 and the fixtures), which connects over the host network, runs
 * the work, goes idle, drains and is stopped; its container is removed. An image that cannot be
 * had is a start error, not a queue that waits forever.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { REPO, until } from './support/binary.ts'
import { coflux } from './support/cli.ts'
import { buildWorkerImage, containersLabelled, docker, engine, requireDocker } from './support/docker.ts'
import { startTestServer, type TestServer } from './support/server.ts'
import { ensureWorkspace, FIXTURES, finalResult } from './support/worker.ts'

const BUILT = join(REPO, 'dist', 'coflux')
const IMAGE = `coflux-e2e-worker:${process.pid}`
// names of this test process only: another run on the machine has its own containers
const LAUNCH_WS = `docker-launch-${process.pid}`
const MISSING_WS = `docker-missing-${process.pid}`
await requireDocker()
let server: TestServer

beforeAll(async () => {
  if (!existsSync(BUILT)) {
    const build = Bun.spawnSync(['bun', 'scripts/build.ts'], { cwd: REPO, stderr: 'pipe' })
    if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr.toString()}`)
  }
  buildWorkerImage(IMAGE, BUILT, FIXTURES)
  server = await startTestServer({ env: { COFLUX_LAUNCHER_TYPES: 'docker' } })
})

afterAll(async () => {
  await server.cleanup()
  for (const ws of [LAUNCH_WS, MISSING_WS]) for (const id of containersLabelled(`coflux.workspace=${ws}`)) await engine.removeContainer(id)
  docker(['image', 'rm', '--force', IMAGE])
})

function cli(workspace: string, args: string[]) {
  return coflux(args, { host: server.host, workspace, timeoutMs: 90_000, cwd: FIXTURES })
}

async function launches(workspace: string, pool: string): Promise<Record<string, any>> {
  const res = await cli(workspace, ['pools', 'launches', pool, '-o', 'json'])
  if (res.code !== 0) throw new Error(res.stderr)
  return res.json
}

test('queued work starts a container worker, which runs it and is stopped when idle', async () => {
  const ws = LAUNCH_WS
  expect((await cli(ws, ['manifests', 'register', 'flows'])).code).toBe(0)
  const wsId = await ensureWorkspace(server, ws)
  const created = await cli(ws, ['pools', 'create', 'boxes', '--type', 'docker', '--modules', 'flows', '--set', `image=${IMAGE}`])
  expect(created).toMatchObject({ code: 0, stdout: "Created pool 'boxes'.\n" })

  const submitted = await cli(ws, ['submit', 'flows/fan_out', '3', '-o', 'json'])
  const runId = Object.keys(submitted.json.steps)[0]!.split(':')[0]!
  expect(finalResult(submitted.json, runId)).toMatchObject({ type: 'value', value: { data: 3 } })

  // the worker ran in a container of the pool's image, labelled with its worker id
  const [workerId, worker] = Object.entries(await launches(ws, 'boxes'))[0]!
  expect(worker).toMatchObject({ startError: null, error: null, executions: 4 })
  const [containerId] = containersLabelled(`coflux.worker=${workerId}`)
  expect(containerId).toBeDefined()
  const labels = JSON.parse(docker(['inspect', '--format', '{{json .Config.Labels}}', containerId!]))
  expect(labels).toMatchObject({ 'coflux.pool': 'boxes', 'coflux.workspace': ws, 'coflux.project': 'default' })
  expect(docker(['inspect', '--format', '{{.Config.Image}} {{.HostConfig.NetworkMode}}', containerId!])).toBe(`${IMAGE} host`)
  const sessions = (await server.get(`/topics/workspaces/${wsId}/sessions`)).body
  expect(Object.values<any>(sessions).map((s) => s.poolName)).toContain('boxes')

  // idle 5 s → draining → stopped (docker stop: SIGTERM) → the next poll sees the exit, removes the container
  const stopped = await until(
    async () => {
      const w = (await launches(ws, 'boxes'))[workerId]
      return w.deactivatedAt !== null ? w : null
    },
    { timeoutMs: 60_000, intervalMs: 500, message: 'the idle container worker to be stopped' },
  )
  expect(stopped).toMatchObject({ error: null, stopError: null, connected: false, sessionId: null })
  expect(stopped.stoppedAt).not.toBeNull()
  expect((await cli(ws, ['pools', 'launches', 'boxes'])).stdout).toContain(`${workerId}  Stopped`)
  expect(await engine.inspectContainer(containerId!)).toBeNull()
  expect((await server.get(`/topics/workspaces/${wsId}/sessions`)).body).toEqual({})
})

test('an image that cannot be had is a start error on the launch', async () => {
  const ws = MISSING_WS
  expect((await cli(ws, ['manifests', 'register', 'flows'])).code).toBe(0)
  // a registry on a closed loopback port: the pull fails at once, and stays on this machine
  const image = 'localhost:1/coflux-missing:none'
  expect((await cli(ws, ['pools', 'create', 'nowhere', '--type', 'docker', '--modules', 'flows', '--set', `image=${image}`])).code).toBe(0)
  const queued = await cli(ws, ['submit', 'flows/fan_out', '1', '--no-wait', '-o', 'json'])
  expect(queued.code).toBe(0)

  const worker = await until(async () => Object.values(await launches(ws, 'nowhere')).find((w: any) => w.startError !== null), {
    timeoutMs: 30_000,
    message: 'the launch to fail',
  })
  expect(worker.startError).toContain(`pull image '${image}'`)
  expect(worker.deactivatedAt).not.toBeNull()
  expect((await cli(ws, ['pools', 'launches', 'nowhere'])).stdout).toContain('Failed')
})
