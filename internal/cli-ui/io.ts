/** The streams and environment a command runs with; tests pass their own. */
export interface OutStream {
  write(text: string): unknown
  isTTY?: boolean
  columns?: number
  rows?: number
  /** bytes queued but not yet written (Node streams); used to drop log lines rather than stall */
  writableLength?: number
}

export interface CliIO {
  stdout: OutStream
  stderr: OutStream
  stdin: { isTTY?: boolean }
  env: Record<string, string | undefined>
  cwd: string
}

/**
 * stdout/stderr for the real process, written through Bun's FileSink. `process.stdout.write`
 * followed by `process.exit` loses everything past the pipe buffer (64 KiB) when the reader is
 * slower than us, and Bun's write callbacks fire too early to wait on; one-shot `Bun.write`
 * calls may duplicate bytes on a socket pair when the reader lags (Bun 1.4.5). A FileSink's
 * `flush()` resolves once the bytes are in the pipe. `writableLength` counts bytes not yet
 * flushed, so the logger can drop lines rather than pile them up when nobody reads stderr.
 */
export class QueuedStream implements OutStream {
  readonly #sink: ReturnType<ReturnType<typeof Bun.file>['writer']>
  #pending = 0
  #flushing: Promise<void> | undefined

  constructor(
    file: ReturnType<typeof Bun.file>,
    readonly tty: { isTTY?: boolean; columns?: number; rows?: number },
  ) {
    this.#sink = file.writer()
  }

  get isTTY(): boolean {
    return this.tty.isTTY === true
  }

  get columns(): number | undefined {
    return this.tty.columns
  }

  get rows(): number | undefined {
    return this.tty.rows
  }

  get writableLength(): number {
    return this.#pending
  }

  write(data: string | Uint8Array): boolean {
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength
    if (size === 0) return true
    try {
      this.#sink.write(data)
    } catch {
      return false // closed (EPIPE): nothing more will get through
    }
    this.#pending += size
    this.#kick()
    return true
  }

  #kick(): void {
    if (this.#flushing) return
    this.#flushing = (async () => {
      while (this.#pending > 0) {
        const batch = this.#pending
        try {
          await this.#sink.flush()
        } catch {
          // a closed pipe must not stop flush() from resolving
        }
        this.#pending = Math.max(0, this.#pending - batch)
      }
    })().finally(() => {
      this.#flushing = undefined
    })
  }

  /** Resolves when everything written so far is out. */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing
  }
}

let standard: { stdout: QueuedStream; stderr: QueuedStream } | undefined

export function processIO(): CliIO {
  standard ??= {
    stdout: new QueuedStream(Bun.stdout, process.stdout),
    stderr: new QueuedStream(Bun.stderr, process.stderr),
  }
  return {
    stdout: standard.stdout,
    stderr: standard.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
  }
}

/**
 * Waits until everything written through `processIO()` is out: all of stdout, and stderr for at
 * most `stderrTimeoutMs` (a worker whose stderr nobody reads must still be able to exit).
 */
export async function flushProcessIO(stderrTimeoutMs = 2000): Promise<void> {
  if (!standard) return
  const { stdout, stderr } = standard
  await Promise.all([
    stdout.flush(),
    Promise.race([stderr.flush(), new Promise((resolve) => setTimeout(resolve, stderrTimeoutMs).unref?.())]),
  ])
}

/** An in-memory IO for tests: `io.out()` / `io.err()` return what was written. */
export function memoryIO(options: { env?: Record<string, string | undefined>; cwd?: string; tty?: boolean } = {}): CliIO & {
  out(): string
  err(): string
} {
  let out = ''
  let err = ''
  return {
    stdout: { write: (s: string) => (out += s), isTTY: options.tty ?? false, columns: 100, rows: 30 },
    stderr: { write: (s: string) => (err += s), isTTY: options.tty ?? false },
    stdin: { isTTY: options.tty ?? false },
    env: options.env ?? { NO_COLOR: '1' },
    cwd: options.cwd ?? process.cwd(),
    out: () => out,
    err: () => err,
  }
}
