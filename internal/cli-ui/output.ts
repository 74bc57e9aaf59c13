import { stringifyJson } from '../protocol/json.ts'
import type { Colors } from './colors.ts'
import type { CliIO } from './io.ts'

/**
 * Where a command's output goes (STYLE §7): `result` prints JSON in JSON mode, else the text
 * rendering, on stdout; `note` is progress for people, on stderr, silent in JSON mode.
 */
export class Output {
  constructor(
    readonly io: CliIO,
    readonly format: 'text' | 'json',
    /** colours for stdout */
    readonly colors: Colors,
    /** colours for stderr */
    readonly errColors: Colors,
  ) {}

  get isJson(): boolean {
    return this.format === 'json'
  }

  /** stdout is a terminal (live views, static trees) */
  get isTTY(): boolean {
    return this.io.stdout.isTTY === true
  }

  /** both stdin and stdout are terminals: prompts are allowed */
  get isInteractive(): boolean {
    return this.io.stdin.isTTY === true && this.io.stdout.isTTY === true
  }

  /**
   * Prints `data` as pretty JSON (lossless numbers) in JSON mode, else `render(data)`.
   *
   * @example
   * out.result(workspaces, (ws, c) => renderTable(['Name', 'State'], rows(ws), c))
   */
  result<T>(data: T, render: (data: T, colors: Colors) => string | string[]): void {
    if (this.isJson) this.json(data)
    else this.text(render(data, this.colors))
  }

  /** One JSON document, 2-space indent, newline-terminated. */
  json(data: unknown): void {
    this.io.stdout.write(stringifyJson(data, { indent: 2 }) + '\n')
  }

  /** One compact JSON line (`logs --follow`, JSON Lines). */
  jsonLine(data: unknown): void {
    this.io.stdout.write(stringifyJson(data) + '\n')
  }

  /** Text lines on stdout (a trailing newline is added when missing). */
  text(text: string | string[]): void {
    const s = Array.isArray(text) ? text.join('\n') : text
    if (s === '') return
    this.io.stdout.write(s.endsWith('\n') ? s : s + '\n')
  }

  /** Raw bytes or text on stdout, unchanged (`blobs get`). */
  raw(data: string | Uint8Array): void {
    ;(this.io.stdout as { write(d: string | Uint8Array): unknown }).write(data)
  }

  /** A message for people on stderr; nothing in JSON mode. */
  note(message: string): void {
    if (!this.isJson) this.io.stderr.write(message.endsWith('\n') ? message : message + '\n')
  }
}
