import type { OutStream } from './io.ts'

/**
 * A block of lines redrawn in place on a TTY (the live step tree, watch tables). Each `update`
 * moves the cursor back to the block's first line and rewrites it; `done` leaves the final
 * content on screen. Only ever used when stdout is a TTY (cli.md §6): off a TTY, callers print
 * once instead and no cursor control is emitted.
 */
export class LiveRegion {
  #height = 0
  #cursorHidden = false

  constructor(readonly stream: OutStream) {}

  /** Terminal height (lines), with a sane default. */
  get rows(): number {
    return this.stream.rows && this.stream.rows > 0 ? this.stream.rows : 24
  }

  get columns(): number {
    return this.stream.columns && this.stream.columns > 0 ? this.stream.columns : 80
  }

  update(lines: string[]): void {
    if (!this.#cursorHidden) {
      this.stream.write('\x1b[?25l')
      this.#cursorHidden = true
    }
    let out = this.#height > 0 ? `\x1b[${this.#height}F` : ''
    out += lines.map((l) => `\x1b[2K${l}`).join('\n') + '\n'
    out += '\x1b[0J'
    this.stream.write(out)
    this.#height = lines.length
  }

  /** Replaces the block with `lines` (e.g. the uncapped final tree) and restores the cursor. */
  done(lines?: string[]): void {
    if (lines) this.update(lines)
    this.restoreCursor()
  }

  restoreCursor(): void {
    if (this.#cursorHidden) {
      this.stream.write('\x1b[?25h')
      this.#cursorHidden = false
    }
  }
}
