/**
 * The docker worker launcher (semantics.md §21, http-api.md §9.3): a worker is a container of the
 * pool's `image`, run as `coflux worker <module> …` (the image provides `coflux` on its PATH,
 * Python and the code, in its working directory) with the worker environment and nothing of the
 * server's own. Containers share the host's network, so `localhost:<port>` reaches the server
 * as it does for a process worker.
 *
 * A container's lifecycle, as polls see it:
 *   created/running → `running`
 *   exited/dead     → `exited` with its exit code and the tail of its output; then removed
 *   unknown         → `lost` (removed by someone else, or another daemon)
 * The handle names the container and its daemon, so a restarted server still polls and stops
 * the containers it launched before.
 */
import type { PollResult } from '../../orchestrator/index.ts'
import type { LaunchHandle } from '../../store/index.ts'
import { DEFAULT_DOCKER_HOST, DockerEngine, type ContainerSpec } from './docker-engine.ts'
import { TAIL_LINES, tailText } from './output-tail.ts'

/** How long a stopped worker may drain before the daemon kills it. */
const STOP_GRACE_SECONDS = 30
/** Server shutdown waits this long for the daemon to take the stop signals. */
const CLOSE_WAIT_MS = 3_000

export interface DockerLaunch {
  workerId: string
  image: string
  /** the pool's `dockerHost`, else the server's `DOCKER_HOST`, else the local socket */
  dockerHost: string
  modules: string[]
  env: Record<string, string>
  labels: Record<string, string>
}

/** The container the launcher asks for. */
export function containerSpec(launch: DockerLaunch): ContainerSpec {
  return {
    Image: launch.image,
    Entrypoint: ['coflux', 'worker'],
    Cmd: launch.modules,
    Env: Object.entries(launch.env).map(([key, value]) => `${key}=${value}`),
    Labels: { ...launch.labels, 'coflux.worker': launch.workerId },
    // Init: an init process as PID 1 forwards SIGTERM to the worker and reaps its executors
    HostConfig: { NetworkMode: 'host', Init: true },
  }
}

interface DockerHandle {
  type: 'docker'
  containerId: string
  dockerHost: string
}

function dockerHandle(handle: LaunchHandle): DockerHandle {
  const { containerId, dockerHost } = handle
  if (typeof containerId !== 'string' || typeof dockerHost !== 'string') throw new Error('invalid docker launch handle')
  return { type: 'docker', containerId, dockerHost }
}

export class DockerWorkerLauncher {
  readonly #engines = new Map<string, DockerEngine>()
  /** containers started by this server process, stopped with it */
  readonly #started = new Map<string, DockerHandle>()

  async launch(launch: DockerLaunch): Promise<LaunchHandle> {
    const engine = this.#engine(launch.dockerHost)
    const name = `coflux-worker-${launch.workerId}`
    const spec = containerSpec(launch)
    let containerId = await engine.createContainer(name, spec)
    if (containerId === null) {
      await engine.pullImage(launch.image)
      containerId = await engine.createContainer(name, spec)
      if (containerId === null) throw new Error(`image not found after pulling: ${launch.image}`)
    }
    try {
      await engine.startContainer(containerId)
    } catch (err) {
      await engine.removeContainer(containerId).catch(() => {})
      throw err
    }
    const handle: DockerHandle = { type: 'docker', containerId, dockerHost: launch.dockerHost }
    this.#started.set(launch.workerId, handle)
    return { ...handle }
  }

  async poll(workerId: string, launchHandle: LaunchHandle): Promise<PollResult> {
    const handle = dockerHandle(launchHandle)
    const engine = this.#engine(handle.dockerHost)
    const state = await engine.inspectContainer(handle.containerId)
    if (state === null) {
      this.#started.delete(workerId)
      return { status: 'lost' }
    }
    if (state.status !== 'exited' && state.status !== 'dead') return { status: 'running' }
    const logs = tailText(await engine.containerLogs(handle.containerId, TAIL_LINES).catch(() => new Uint8Array()))
    await engine.removeContainer(handle.containerId)
    this.#started.delete(workerId)
    return { status: 'exited', exitCode: state.exitCode, logs }
  }

  /** SIGTERM (the worker drains, then exits); killed if it has not within the grace period. */
  async stop(launchHandle: LaunchHandle): Promise<void> {
    const handle = dockerHandle(launchHandle)
    const engine = this.#engine(handle.dockerHost)
    if ((await engine.inspectContainer(handle.containerId)) === null) throw new Error('container_lost')
    await engine.stopContainer(handle.containerId, STOP_GRACE_SECONDS)
  }

  /** Server shutdown: SIGTERM to the containers this process started; a later poll removes them. */
  async close(): Promise<void> {
    const signals = [...this.#started.values()].map((h) => this.#engine(h.dockerHost).signalContainer(h.containerId, 'SIGTERM').catch(() => {}))
    this.#started.clear()
    await Promise.race([Promise.all(signals), Bun.sleep(CLOSE_WAIT_MS)])
  }

  #engine(host: string): DockerEngine {
    let engine = this.#engines.get(host)
    if (!engine) this.#engines.set(host, (engine = new DockerEngine(host)))
    return engine
  }
}

/** The daemon a pool's workers run on. */
export function dockerHostOf(configured: unknown, env: Record<string, string | undefined> = process.env): string {
  if (typeof configured === 'string' && configured !== '') return configured
  return env.DOCKER_HOST || DEFAULT_DOCKER_HOST
}
