/**
 * Starts `<adapter…> execute` as a process (executor-protocol.md §1.2): the leader of its own
 * process group so a kill reaches its subprocesses, stdin/stdout carrying the protocol, stderr
 * read continuously so a chatty process can never block on a full pipe (§9.2).
 */
import type { ConsolaInstance } from 'consola'
import { constants as osConstants } from 'node:os'
import { Executor, ExecutorStartError, type ExecutorTransport, type ReadyParams } from './executor.ts'
import type { ExecutorLauncher } from './executor-pool.ts'

export interface SpawnOptions {
  /** adapter argv prefix; `execute` is appended */
  argv: string[]
  cwd: string
  env: Record<string, string | undefined>
}

export function spawnExecutor(options: SpawnOptions, log: ConsolaInstance): Executor {
  const proc = Bun.spawn([...options.argv, 'execute'], {
    cwd: options.cwd,
    env: options.env,
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    detached: true,
  })
  const executor = new Executor(new ProcessTransport(proc), log)
  void pump(proc.stdout, (chunk) => executor.pushStdout(chunk)).finally(() => executor.endStdout())
  void pump(proc.stderr, (chunk) => executor.pushStderr(chunk)).finally(() => executor.endStderr())
  void proc.exited.then(() => executor.processExited({ code: proc.exitCode, signal: signalName(proc.signalCode) }))
  return executor
}

class ProcessTransport implements ExecutorTransport {
  #isInputClosed = false

  constructor(readonly proc: Bun.Subprocess<'pipe', 'pipe', 'pipe'>) {}

  get pid(): number {
    return this.proc.pid
  }

  async write(text: string): Promise<void> {
    if (this.#isInputClosed) throw new Error('input closed')
    this.proc.stdin.write(text)
    await this.proc.stdin.flush()
  }

  closeInput(): void {
    if (this.#isInputClosed) return
    this.#isInputClosed = true
    try {
      void Promise.resolve(this.proc.stdin.end()).catch(() => {})
    } catch {
      // already closed by the other side
    }
  }

  kill(): void {
    killGroup(this.proc.pid)
  }
}

/** SIGKILL to the whole process group; falls back to the process when the group is gone. */
export function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL')
  } catch {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
}

export function signalName(signal: string | number | null | undefined): string | null {
  if (signal == null) return null
  if (typeof signal === 'string') return signal
  const entry = Object.entries(osConstants.signals).find(([, n]) => n === signal)
  return entry ? entry[0] : `signal ${signal}`
}

async function pump(stream: ReadableStream<Uint8Array>, onChunk: (chunk: Uint8Array) => void): Promise<void> {
  try {
    for await (const chunk of stream) onChunk(chunk)
  } catch {
    // the pipe broke: treated as end of stream
  }
}

export const READY_TIMEOUT_MS = 60_000

/**
 * Waits for an executor's `ready`; one that stays silent past the timeout is killed and counts as
 * a failed spawn (§12). Resolves with the ready params.
 */
export async function awaitReady(executor: Executor, timeoutMs = READY_TIMEOUT_MS): Promise<ReadyParams> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      executor.kill()
      reject(new ExecutorStartError(`executor did not send ready within ${+(timeoutMs / 1000).toFixed(1)}s`))
    }, timeoutMs)
  })
  try {
    return await Promise.race([executor.ready, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Plain spawning: every executor is a fresh `<adapter…> execute` process (cli.md §8.1 step 8). */
export class SpawnExecutorLauncher implements ExecutorLauncher {
  constructor(
    readonly options: SpawnOptions,
    readonly log: ConsolaInstance,
    readonly readyTimeoutMs = READY_TIMEOUT_MS,
  ) {}

  async launch(): Promise<Executor> {
    const executor = spawnExecutor(this.options, this.log)
    await awaitReady(executor, this.readyTimeoutMs)
    return executor
  }

  async close(): Promise<void> {}
}
