/**
 * The server image (Dockerfile, `make image` → scripts/image.ts) builds offline from
 * dist/coflux and serves: a container on the host network answers `/api/discover` on the port
 * given by `PORT`, keeps its data in `/data`, and stops cleanly on `docker stop`.
 */
import { afterAll, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildImage, stageServerImage } from '../../scripts/image.ts'
import { REPO, until } from './support/binary.ts'
import { docker, requireDocker } from './support/docker.ts'

const BUILT = join(REPO, 'dist', 'coflux')
const IMAGE = `coflux-e2e-server:${process.pid}`
await requireDocker()
const context = mkdtempSync(join(tmpdir(), 'coflux-server-image-'))
let container: string | null = null

afterAll(() => {
  if (container) docker(['rm', '--force', container])
  docker(['image', 'rm', '--force', IMAGE])
  rmSync(context, { recursive: true, force: true })
})

/** A port nothing listens on now. */
function freePort(): number {
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const { port } = probe
  probe.stop(true)
  return port
}

test('the server image serves the API from a container on the host network', async () => {
  if (!existsSync(BUILT)) {
    const build = Bun.spawnSync(['bun', 'scripts/build.ts'], { cwd: REPO, stderr: 'pipe' })
    if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr.toString()}`)
  }
  buildImage(stageServerImage(BUILT, context), IMAGE)
  const config = JSON.parse(docker(['image', 'inspect', '--format', '{{json .Config}}', IMAGE]))
  expect(config.Entrypoint).toEqual(['coflux', 'server'])
  expect(config.Env).toEqual(expect.arrayContaining(['PORT=7777', 'COFLUX_DATA_DIR=/data', 'COFLUX_BIND=0.0.0.0']))

  // loopback only in the test: the image's default bind (0.0.0.0) is for a published port
  const port = freePort()
  container = docker(['run', '--detach', '--network', 'host', '--env', `PORT=${port}`, '--env', 'COFLUX_BIND=127.0.0.1', IMAGE])
  const discover = await until(
    async () => {
      const res = await fetch(`http://127.0.0.1:${port}/api/discover`)
      return res.ok ? res.json() : null
    },
    { timeoutMs: 20_000, message: 'the server container to answer' },
  )
  expect(discover).toMatchObject({ version: expect.any(String), project: 'default', access: { workspaces: ['*'] } })
  expect(docker(['logs', container])).toBe('')
  const logs = Bun.spawnSync(['docker', 'logs', container], { stderr: 'pipe' }).stderr.toString()
  expect(logs).toContain(`Starting Coflux server on port ${port}...`)
  expect(logs).toContain('Data directory: /data')

  docker(['stop', '--time', '20', container])
  expect(docker(['inspect', '--format', '{{.State.ExitCode}}', container])).toBe('0')
})
