/**
 * The worker launchers of this server, behind the orchestrator's `WorkerLauncher` interface (one
 * binding per project, which the worker environment names). Only the types enabled with
 * `COFLUX_LAUNCHER_TYPES` launch: process workers (process.ts) and docker containers
 * (docker.ts). This build has no Kubernetes client, so kubernetes pools are stored and
 * validated but their launches fail with a start error that says so.
 */
import type { LaunchedWorker, LaunchRequest, PollResult, WorkerLauncher } from '../../orchestrator/index.ts'
import type { LaunchHandle } from '../../store/index.ts'
import type { SecretBox } from '../secrets.ts'
import type { ServerSettings } from '../settings.ts'
import { dockerHostOf, DockerWorkerLauncher } from './docker.ts'
import { inheritedEnvironment, workerEnvironment, workerHost, type ServerEndpoint } from './environment.ts'
import { ProcessWorkerLauncher } from './process.ts'

export { type ServerEndpoint } from './environment.ts'

export class WorkerLaunchers {
  readonly #settings: ServerSettings
  readonly #secrets: SecretBox
  readonly #endpoint: ServerEndpoint
  readonly #process: ProcessWorkerLauncher
  readonly #docker = new DockerWorkerLauncher()

  constructor(settings: ServerSettings, secrets: SecretBox, endpoint: ServerEndpoint) {
    this.#settings = settings
    this.#secrets = secrets
    this.#endpoint = endpoint
    this.#process = new ProcessWorkerLauncher(settings.cliPath)
  }

  /** The launcher the project's orchestrator calls. */
  forProject(projectId: string): WorkerLauncher {
    return {
      launch: async (request) => this.#launch(projectId, request),
      poll: async (worker) => this.#poll(worker),
      stop: async (worker) => this.#stop(worker),
    }
  }

  /** Server shutdown: stop the workers this server started. */
  async close(): Promise<void> {
    this.#process.close()
    await this.#docker.close()
  }

  async #launch(projectId: string, request: LaunchRequest): Promise<LaunchHandle> {
    const { type } = request.launcher
    if (!this.#settings.launcherTypes.includes(type)) {
      throw new Error(`launcher type '${type}' is not enabled on this server (COFLUX_LAUNCHER_TYPES)`)
    }
    const contract = workerEnvironment(request, {
      host: workerHost(request.launcher.serverHost, this.#endpoint, projectId),
      projectId,
      secretEnv: this.#revealSecretEnv(request.launcher.secretEnv),
    })
    switch (type) {
      case 'process':
        return this.#process.launch(request.workerId, String(request.launcher.directory), request.modules, { ...inheritedEnvironment(), ...contract })
      case 'docker':
        // a container gets the contract only: the server's PATH and the rest mean nothing inside the image
        return this.#docker.launch({
          workerId: request.workerId,
          image: String(request.launcher.image),
          dockerHost: dockerHostOf(request.launcher.dockerHost),
          modules: request.modules,
          env: contract,
          labels: { 'coflux.project': projectId, 'coflux.workspace': request.workspaceName, 'coflux.pool': request.poolName },
        })
      case 'kubernetes':
        throw new Error('the kubernetes launcher is not available in this server build (no Kubernetes client); use a process or docker pool')
      default: {
        const never: never = type
        throw new Error(`unknown launcher type '${String(never)}'`)
      }
    }
  }

  #revealSecretEnv(sealed: unknown): Record<string, string> {
    if (typeof sealed !== 'object' || sealed === null) return {}
    return Object.fromEntries(Object.entries(sealed as Record<string, string>).map(([k, v]) => [k, this.#secrets.decrypt(v)]))
  }

  #poll(worker: LaunchedWorker): Promise<PollResult> | PollResult {
    if (worker.handle.type === 'process') return this.#process.poll(worker.workerId)
    if (worker.handle.type === 'docker') return this.#docker.poll(worker.workerId, worker.handle)
    return { status: 'lost' }
  }

  async #stop(worker: LaunchedWorker): Promise<void> {
    if (worker.handle.type === 'process') await this.#process.stop(worker.workerId)
    else if (worker.handle.type === 'docker') await this.#docker.stop(worker.handle)
  }
}
