/**
 * The worker supervisor (`coflux worker`): a WebSocket session with the server, an executor pool
 * of executor processes (plain or forked from a template), and one runner per execution.
 */
export { DEFAULT_DRAIN_TIMEOUT_MS, runWorker, type WorkerRunOptions } from './supervisor.ts'
export { ShutdownSignals } from './signals.ts'
export { WorkerFatalError } from './connection.ts'
export { ExecutorStartError } from './executor.ts'
export { WorkerSession, type WorkerSessionOptions } from './worker-session.ts'
