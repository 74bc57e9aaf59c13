/**
 * One executor as the rest of the worker sees it, whatever carries its bytes (a spawned process's
 * pipes, or a forked child's unix-socket connections): the `ready` handshake and version check
 * (executor-protocol.md §13), line classification (§3), the stderr tail (§9.2) and the moment
 * it has exited with all of its output read.
 *
 * States: spawned → ready (handshake passed) → bound (a listener is attached by the runner) →
 * exited. While unbound, messages and stderr go to the worker's debug log.
 */
import type { ConsolaInstance } from 'consola'
import { classifyExecutorLine, type ExecutorLine } from '../protocol/executor.ts'
import { NonFiniteNumberError, parseJson, stringifyJson, type Json } from '../protocol/json.ts'
import { API_VERSION, isCompatibleProtocolVersion } from '../protocol/version.ts'
import { LineReader } from './line-reader.ts'

export interface ExitStatus {
  code: number | null
  signal: string | null
}

/** What carries an executor's protocol: write a line, close its input, kill its process group. */
export interface ExecutorTransport {
  readonly pid: number
  /** rejects when the line could not be delivered */
  write(text: string): Promise<void>
  closeInput(): void
  kill(): void
}

/** A protocol line of a bound executor; `lenient` marks one that only parsed with NaN → null. */
export type ExecutorEvent =
  | (Exclude<ExecutorLine, { kind: 'other' }> & { lenient?: boolean })
  | { kind: 'other'; text: string }

export interface ExecutorListener {
  event(event: ExecutorEvent): void
  stderr(line: string): void
}

export interface ReadyParams {
  version: string
  fork?: boolean
  [key: string]: Json | undefined
}

/** Why an executor could not become ready; `isVersionMismatch` makes the worker give up (§13). */
export class ExecutorStartError extends Error {
  override readonly name = 'ExecutorStartError'
  constructor(
    message: string,
    readonly isVersionMismatch = false,
  ) {
    super(message)
  }
}

const STDERR_TAIL = 20
const MAX_TAIL_LINE = 1000
/**
 * A frame of the adapter's entry point (and of `runpy`) in the Python stack `faulthandler` prints
 * on a fatal signal, most recent call first: up to 16 lines in a forked child, which would push the
 * error's name and the user's frames out of the tail. Kept in the execution's logs.
 */
const ADAPTER_ENTRY_FRAME = /^ {2}File "(?:.*[\\/]coflux[\\/](?:__main__|executor|fork)\.py|<frozen runpy>)", line \d+ in /
/** how long output may trail the process's exit (a grandchild can hold the pipes open) */
const OUTPUT_GRACE_MS = 1000

export class Executor {
  readonly ready: Promise<ReadyParams>
  readonly exited: Promise<ExitStatus>
  listener: ExecutorListener | null = null
  #isAlive = true
  /** the process is gone (its output may still be draining) */
  #isGone = false
  #isReady = false
  #resolveReady!: (params: ReadyParams) => void
  #rejectReady!: (err: ExecutorStartError) => void
  #resolveExited!: (status: ExitStatus) => void
  readonly #stdout: LineReader
  readonly #stderr = new LineReader()
  readonly #tail: string[] = []
  #isStdoutDone = false
  #isStderrDone = false
  /** set once the process is gone; `exited` resolves when its output has been read too */
  #exitStatus: ExitStatus | null = null
  #graceTimer: ReturnType<typeof setTimeout> | undefined

  constructor(
    readonly transport: ExecutorTransport,
    readonly log: ConsolaInstance,
  ) {
    this.ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve
      this.#rejectReady = reject
    })
    this.ready.catch(() => {})
    this.exited = new Promise((resolve) => (this.#resolveExited = resolve))
    this.#stdout = new LineReader((bytes) => this.log.warn(`executor ${this.pid}: dropped a ${bytes}-byte line`))
  }

  get pid(): number {
    return this.transport.pid
  }

  get isAlive(): boolean {
    return this.#isAlive
  }

  /** The last stderr lines, for crash messages (§10.4). */
  stderrTail(): string[] {
    return [...this.#tail]
  }

  /**
   * A line the execution wrote to `sys.stderr`: the adapter captures those into `log` messages
   * (§9.1), so they never reach file descriptor 2, yet they are what a crash message should quote.
   */
  addToStderrTail(line: string): void {
    this.#remember(line)
  }

  /** Writes one protocol message as an ASCII-only line; false when it could not be delivered. */
  async send(message: unknown): Promise<boolean> {
    if (!this.#isAlive) return false
    try {
      await this.transport.write(stringifyJson(message, { ascii: true }) + '\n')
      return true
    } catch {
      return false
    }
  }

  closeInput(): void {
    if (!this.#isGone) this.transport.closeInput()
  }

  kill(): void {
    // after the exit the process group id may be reused by an unrelated process
    if (!this.#isGone) this.transport.kill()
  }

  // -- fed by the transport ---------------------------------------------------------------------

  pushStdout(chunk: Uint8Array): void {
    for (const line of this.#stdout.push(chunk)) this.#line(line)
  }

  endStdout(): void {
    const last = this.#stdout.end()
    if (last !== null) this.#line(last)
    this.#isStdoutDone = true
    this.#settleIfDrained()
  }

  pushStderr(chunk: Uint8Array): void {
    for (const line of this.#stderr.push(chunk)) this.#stderrLine(line)
  }

  endStderr(): void {
    const last = this.#stderr.end()
    if (last !== null) this.#stderrLine(last)
    this.#isStderrDone = true
    this.#settleIfDrained()
  }

  /** The process is gone; `exited` resolves once its output has been read (or the grace passed). */
  processExited(status: ExitStatus): void {
    this.#isGone = true
    this.#exitStatus = status
    // usually both streams have ended by now: no timer then
    if (!this.#settleIfDrained()) this.#graceTimer = setTimeout(() => this.#settle(), OUTPUT_GRACE_MS)
  }

  #settleIfDrained(): boolean {
    if (!this.#exitStatus || !this.#isStdoutDone || !this.#isStderrDone) return false
    clearTimeout(this.#graceTimer)
    this.#settle()
    return true
  }

  #settle(): void {
    if (!this.#isAlive) return
    this.#isAlive = false
    if (!this.#isReady) this.#rejectReady(new ExecutorStartError('executor closed before ready'))
    this.#resolveExited(this.#exitStatus!)
  }

  // -- lines ------------------------------------------------------------------------------------

  #line(text: string): void {
    if (!this.#isAlive || text.trim() === '') return
    const event = parseLine(text)
    if (!this.#isReady) return this.#handshake(event)
    if (this.listener) this.listener.event(event)
    else if (event.kind === 'other') this.log.debug(`executor ${this.pid}: ${truncate(text)}`)
    else this.log.debug(`executor ${this.pid}: ignoring ${event.method} while idle`)
  }

  #stderrLine(line: string): void {
    this.#remember(line)
    if (this.listener) this.listener.stderr(line)
    else this.log.debug(`executor ${this.pid} stderr: ${truncate(line)}`)
  }

  #remember(line: string): void {
    if (ADAPTER_ENTRY_FRAME.test(line)) return
    // a single line may be up to 1 MiB (§3): the error message only needs its start
    this.#tail.push(truncate(line, MAX_TAIL_LINE))
    if (this.#tail.length > STDERR_TAIL) this.#tail.shift()
  }

  #handshake(event: ExecutorEvent): void {
    if (event.kind === 'other') {
      this.log.debug(`executor ${this.pid}: ${truncate(event.text)}`)
      return
    }
    const error = checkReady(event)
    if (error) {
      this.#rejectReady(error)
      this.kill()
      return
    }
    this.#isReady = true
    this.log.debug(`executor ${this.pid} ready`, event.params)
    this.#resolveReady(event.params as ReadyParams)
  }
}

function checkReady(event: Exclude<ExecutorEvent, { kind: 'other' }>): ExecutorStartError | null {
  if (event.method !== 'ready') return new ExecutorStartError(`expected ready message, got ${event.method}`)
  const version = event.params.version
  if (typeof version !== 'string') {
    return new ExecutorStartError(
      'adapter did not send a protocol version in the ready message — update the coflux Python package',
      true,
    )
  }
  if (!isCompatibleProtocolVersion(version)) {
    return new ExecutorStartError(
      `adapter version mismatch: CLI expects protocol version ${API_VERSION}, but the adapter reports ${version} — update the coflux Python package`,
      true,
    )
  }
  return null
}

/** Parses one line; NaN/Infinity tokens are retried as null so the message can still be routed (§3). */
export function parseLine(text: string): ExecutorEvent {
  let parsed: Json
  let lenient = false
  try {
    parsed = parseJson(text)
  } catch (err) {
    if (!(err instanceof NonFiniteNumberError)) return { kind: 'other', text }
    try {
      parsed = parseJson(replaceNonFinite(text))
      lenient = true
    } catch {
      return { kind: 'other', text }
    }
  }
  try {
    const line = classifyExecutorLine(parsed, text)
    return lenient && line.kind !== 'other' ? { ...line, lenient } : line
  } catch {
    // a JSON object with a method but malformed params/id: nothing we can act on
    return { kind: 'other', text }
  }
}

/** Replaces bare `NaN`, `Infinity` and `-Infinity` tokens outside strings by `null`. */
export function replaceNonFinite(text: string): string {
  let out = ''
  let i = 0
  let from = 0
  while (i < text.length) {
    const c = text[i]
    if (c === '"') {
      i++
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1
      i++
      continue
    }
    const token = text.startsWith('NaN', i) ? 3 : text.startsWith('Infinity', i) ? 8 : text.startsWith('-Infinity', i) ? 9 : 0
    if (token) {
      out += text.slice(from, i) + 'null'
      i += token
      from = i
      continue
    }
    i++
  }
  return out + text.slice(from)
}

function truncate(text: string, max = 500): string {
  return text.length > max ? `${text.slice(0, max)}…` : text
}
