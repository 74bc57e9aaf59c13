/**
 * The end of a worker's output, kept as it streams: what `logs` shows when a launched worker
 * fails (semantics.md §21.4: the last 20 lines, at most 1024 bytes). Only the last bytes are
 * ever held, however much the worker writes.
 */
export const TAIL_LINES = 20
export const TAIL_BYTES = 1024

export class OutputTail {
  #buffer = Buffer.alloc(0)

  push(chunk: Uint8Array): void {
    // one byte more than the limit: a trailing newline is dropped before cutting
    const keep = TAIL_BYTES + 1
    const joined = Buffer.concat([this.#buffer, chunk])
    this.#buffer = joined.length > keep ? joined.subarray(joined.length - keep) : joined
  }

  /** The last lines, or null when the worker printed nothing. */
  text(): string | null {
    return tailText(this.#buffer)
  }
}

/** The last `TAIL_LINES` lines of `bytes` within `TAIL_BYTES`, cut at a character boundary. */
export function tailText(bytes: Uint8Array, lines = TAIL_LINES, maxBytes = TAIL_BYTES): string | null {
  let buf = Buffer.from(bytes)
  if (buf.length > 0 && buf[buf.length - 1] === 0x0a) buf = buf.subarray(0, buf.length - 1)
  if (buf.length > maxBytes) {
    let start = buf.length - maxBytes
    // skip UTF-8 continuation bytes so the text starts on a whole character
    while (start < buf.length && (buf[start]! & 0xc0) === 0x80) start++
    buf = buf.subarray(start)
  }
  const text = buf.toString('utf8').split('\n').slice(-lines).join('\n')
  return text.trim() === '' ? null : text
}
