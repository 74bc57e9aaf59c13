/**
 * Splits a byte stream into UTF-8 lines. Executors may write single lines of 64 MiB and more
 * (executor-protocol.md §3), so partial lines are kept as a list of chunks and joined once, when
 * their newline arrives, instead of being re-concatenated on every chunk.
 */
const NEWLINE = 10

/** Lines longer than this are dropped (reported through `onOverflow`) rather than exhausting memory. */
export const MAX_LINE_BYTES = 512 * 1024 * 1024

/** stateless between calls (no `stream: true`): one for every reader */
const decoder = new TextDecoder()

export class LineReader {
  #parts: Uint8Array[] = []
  #partBytes = 0
  #overflowed = false

  constructor(readonly onOverflow: (bytes: number) => void = () => {}) {}

  /** Feeds a chunk; returns the complete lines it finished (without their `\n`). */
  push(chunk: Uint8Array): string[] {
    const lines: string[] = []
    let start = 0
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start)
      if (nl === -1) break
      const line = this.#finish(chunk.subarray(start, nl))
      if (line !== null) lines.push(line)
      start = nl + 1
    }
    if (start < chunk.length) this.#keep(chunk.subarray(start))
    return lines
  }

  /** End of stream: the unterminated last line, if any. */
  end(): string | null {
    if (this.#partBytes === 0 && !this.#overflowed) return null
    return this.#finish(new Uint8Array(0))
  }

  #keep(part: Uint8Array): void {
    if (this.#overflowed) {
      this.#partBytes += part.length
      return
    }
    // copy: the caller may reuse its buffer
    this.#parts.push(part.slice())
    this.#partBytes += part.length
    if (this.#partBytes > MAX_LINE_BYTES) {
      this.#overflowed = true
      this.#parts = []
    }
  }

  #finish(tail: Uint8Array): string | null {
    if (this.#overflowed) {
      this.onOverflow(this.#partBytes + tail.length)
      this.#overflowed = false
      this.#partBytes = 0
      return null
    }
    if (this.#parts.length === 0) return stripCr(decoder.decode(tail))
    this.#parts.push(tail)
    const whole = new Uint8Array(this.#partBytes + tail.length)
    let offset = 0
    for (const part of this.#parts) {
      whole.set(part, offset)
      offset += part.length
    }
    this.#parts = []
    this.#partBytes = 0
    return stripCr(decoder.decode(whole))
  }
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line
}
