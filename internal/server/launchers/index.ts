/**
 * The worker launchers of this server, behind the orchestrator's `WorkerLauncher` interface (one
 * binding per project, which the worker environment names). Only the types enabled with
 * `COFLUX_LAUNCHER_TYPES` launch. The process launcher is complete; this build has no Docker or
 * Kubernetes client, so those pools are stored and validated but their launches fail with a
 * start error that says so.
 */
import type { LaunchedWorker, LaunchRequest, PollResult, WorkerLauncher } from '../../orchestrator/index.ts'
import type { LaunchHandle } from '../../store/index.ts'
import type { SecretBox } from '../secrets.ts'
import type { ServerSettings } from '../settings.ts'
import { inheritedEnvironment, workerEnvironment, workerHost, type ServerEndpoint } from './environment.ts'
import { ProcessWorkerLauncher } from './process.ts'

export { type ServerEndpoint } from './environment.ts'

export class WorkerLaunchers {
  readonly #settings: ServerSettings
  readonly #secrets: SecretBox
  readonly #endpoint: ServerEndpoint
  readonly #process: ProcessWorkerLauncher

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

  /** Server shutdown: stop the worker processes this server started. */
  close(): void {
    this.#process.close()
  }

  #launch(projectId: string, request: LaunchRequest): LaunchHandle {
    const { type } = request.launcher
    if (!this.#settings.launcherTypes.includes(type)) {
      throw new Error(`launcher type '${type}' is not enabled on this server (COFLUX_LAUNCHER_TYPES)`)
    }
    if (type !== 'process') {
      throw new Error(`the ${type} launcher is not available in this server build (no ${type === 'docker' ? 'Docker engine' : 'Kubernetes'} client); use a process pool`)
    }
    const env = {
      ...inheritedEnvironment(),
      ...workerEnvironment(request, {
        host: workerHost(request.launcher.serverHost, this.#endpoint, projectId),
        projectId,
        secretEnv: this.#revealSecretEnv(request.launcher.secretEnv),
      }),
    }
    return this.#process.launch(request.workerId, String(request.launcher.directory), request.modules, env)
  }

  #revealSecretEnv(sealed: unknown): Record<string, string> {
    if (typeof sealed !== 'object' || sealed === null) return {}
    return Object.fromEntries(Object.entries(sealed as Record<string, string>).map(([k, v]) => [k, this.#secrets.decrypt(v)]))
  }

  #poll(worker: LaunchedWorker): Promise<PollResult> | PollResult {
    return worker.handle.type === 'process' ? this.#process.poll(worker.workerId) : { status: 'lost' }
  }

  async #stop(worker: LaunchedWorker): Promise<void> {
    if (worker.handle.type === 'process') await this.#process.stop(worker.workerId)
  }
}
