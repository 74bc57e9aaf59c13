/**
 * The process worker launcher (semantics.md §21.4): a worker is a child process of the server,
 * `/bin/sh -c "exec '<cli>' 'worker' '<module>' …"` in the pool's directory. Its output
 * (stdout and stderr together) is drained continuously — a full pipe would stall the worker —
 * and only its tail is kept for the logs of a failed worker.
 */
import { constants } from 'node:os'
import { statSync } from 'node:fs'
import type { Subprocess } from 'bun'
import type { PollResult } from '../../orchestrator/index.ts'
import type { LaunchHandle } from '../../store/index.ts'
import { OutputTail } from './output-tail.ts'

interface Child {
  proc: Subprocess<'ignore', 'pipe', 'pipe'>
  tail: OutputTail
  /** both output streams read to the end */
  drained: Promise<unknown>
}

/** How long a poll waits for the last output of a process that has exited. */
const DRAIN_WAIT_MS = 1_000

/** POSIX single quotes; a `'` inside becomes `'\''`. */
export function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`
}

export function workerCommand(cliPath: string, modules: string[]): string {
  return `exec ${[cliPath, 'worker', ...modules].map(shellQuote).join(' ')}`
}

export class ProcessWorkerLauncher {
  readonly #cliPath: string
  /** worker UUID → its process; forgotten once a poll reported the exit */
  readonly #children = new Map<string, Child>()

  constructor(cliPath: string) {
    this.#cliPath = cliPath
  }

  launch(workerId: string, directory: string, modules: string[], env: Record<string, string>): LaunchHandle {
    let isDirectory = false
    try {
      isDirectory = statSync(directory).isDirectory()
    } catch {
      // reported below
    }
    if (!isDirectory) throw new Error(`directory not found: ${directory}`)
    const proc = Bun.spawn(['/bin/sh', '-c', workerCommand(this.#cliPath, modules)], {
      cwd: directory,
      env,
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const tail = new OutputTail()
    const drain = async (stream: ReadableStream<Uint8Array>) => {
      for await (const chunk of stream) tail.push(chunk)
    }
    const drained = Promise.allSettled([drain(proc.stdout), drain(proc.stderr)])
    this.#children.set(workerId, { proc, tail, drained })
    return { type: 'process', pid: proc.pid }
  }

  async poll(workerId: string): Promise<PollResult> {
    const child = this.#children.get(workerId)
    if (!child) return { status: 'lost' }
    const { proc } = child
    if (proc.exitCode === null && proc.signalCode === null) return { status: 'running' }
    await Promise.race([child.drained, Bun.sleep(DRAIN_WAIT_MS)])
    this.#children.delete(workerId)
    return { status: 'exited', exitCode: exitCodeOf(proc), logs: child.tail.text() }
  }

  /** SIGTERM: the worker drains its executions, then exits. */
  async stop(workerId: string): Promise<void> {
    const child = this.#children.get(workerId)
    if (!child) throw new Error('process_lost')
    if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGTERM')
  }

  /** Server shutdown: a worker launched by this process would only reconnect to nothing. */
  close(): void {
    for (const { proc } of this.#children.values()) if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM')
  }
}

/** A process killed by a signal reports 128 + its number, as shells do. */
function exitCodeOf(proc: Subprocess): number {
  if (proc.exitCode !== null) return proc.exitCode
  const signal = proc.signalCode ? constants.signals[proc.signalCode as keyof typeof constants.signals] : undefined
  return 128 + (signal ?? 0)
}
