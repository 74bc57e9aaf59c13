/**
 * The worker launcher: what the orchestrator asks of launchers (semantics.md §21). The server
 * implements it: the orchestrator decides *when* a worker is launched, polled and stopped, never
 * *how* (no processes, containers or environment variables here).
 */
import type { LauncherConfig } from '../protocol/api.ts'
import type { LaunchHandle } from '../store/index.ts'

/** The facts of one launch; the implementation turns them into the worker environment (§21.3). */
export interface LaunchRequest {
  /** the worker's UUID */
  workerId: string
  poolName: string
  workspaceName: string
  /** the session created for the worker: handed to it once, never stored in plaintext */
  sessionToken: string
  /** the pool's module patterns: the worker's positional arguments */
  modules: string[]
  /** the pool's launcher configuration as stored (secret fields are ciphertext) */
  launcher: LauncherConfig
}

/** A launched worker as the launcher left it. */
export interface LaunchedWorker {
  workerId: string
  handle: LaunchHandle
}

export type PollResult =
  /** still running: nothing to do */
  | { status: 'running' }
  /** ended; `logs` is the tail of its output (≤ 20 lines / 1 KiB) */
  | { status: 'exited'; exitCode: number; logs: string | null }
  /** the launcher no longer knows this worker (e.g. after a server restart) */
  | { status: 'lost' }

export interface WorkerLauncher {
  /** Starts a worker; resolves with the handle to poll and stop it, rejects with the start error. */
  launch(request: LaunchRequest): Promise<LaunchHandle>
  poll(worker: LaunchedWorker): Promise<PollResult>
  /** Asks the worker to stop (it drains first); a rejection is recorded but treated as stopped. */
  stop(worker: LaunchedWorker): Promise<void>
}
