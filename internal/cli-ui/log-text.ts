/**
 * Log lines for people (cli.md §8.15): a `-- YYYY-MM-DD UTC --` line when the date changes, a
 * `module/target step:attempt` header when the execution changes, then
 * `HH:MM:SS.mmm LEVEL  message` (TTY: a coloured `•` instead of the level name).
 */
import type { LogEntry } from '../protocol/api.ts'
import type { Colors } from './colors.ts'
import { formatDate, formatTime } from './format.ts'
import { valueColors } from './result-text.ts'
import { renderLogMessage } from '../client/value-text.ts'

const LEVEL_NAMES = ['DEBUG', 'STDOUT', 'INFO', 'STDERR', 'WARN', 'ERROR']

export interface LogExecutionInfo {
  module: string
  target: string
  stepNumber: number
  attempt: number
}

/** Stateful: remembers the last date and execution across calls (for `--follow`). */
export class LogPrinter {
  #date?: string
  #execution?: string

  constructor(
    readonly c: Colors,
    readonly tty: boolean,
    readonly lookup: (executionId: string) => LogExecutionInfo | undefined,
  ) {}

  lines(entry: LogEntry): string[] {
    const out: string[] = []
    const c = this.c
    const date = formatDate(entry.timestamp)
    if (date !== this.#date) {
      this.#date = date
      out.push(c.dim(`-- ${date} UTC --`))
    }
    if (entry.executionId !== this.#execution) {
      this.#execution = entry.executionId
      const info = this.lookup(entry.executionId)
      out.push(c.bold(info ? `${info.module}/${info.target} ${info.stepNumber}:${info.attempt}` : entry.executionId))
    }
    const message = renderLogMessage(entry.template, entry.values, valueColors(c))
    const paint = levelColor(entry.level, c)
    const level = this.tty ? paint('•') : (LEVEL_NAMES[entry.level] ?? String(entry.level)).padEnd(6)
    out.push(`${c.dim(formatTime(entry.timestamp))} ${level} ${message}`)
    return out
  }
}

function levelColor(level: number, c: Colors): (s: string) => string {
  switch (level) {
    case 0:
      return c.dim
    case 1:
      return c.white
    case 2:
      return c.blue
    case 3:
      return c.magenta
    case 4:
      return c.yellow
    default:
      return c.red
  }
}
