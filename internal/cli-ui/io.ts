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

export function processIO(): CliIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
  }
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
