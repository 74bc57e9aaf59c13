/**
 * The one consola instance (STYLE §7). Everything goes to stderr: consola's default would put
 * info on stdout and break JSON output. Text mode prints `HH:MM:SS.mmm LEVEL [tag] message k=v`;
 * JSON mode prints JSON Lines `{"ts","level","msg","tag"?,…fields}` (cli.md §8.1). A trailing
 * plain object argument is treated as structured fields.
 *
 * Writes never block: when the stream already has more than `MAX_QUEUED_BYTES` queued (nobody
 * reads the pipe), lines are dropped and counted, and a `… N log lines dropped` line follows once
 * the stream drains.
 */
import { createConsola, type ConsolaInstance, type LogObject } from 'consola/core'
import { stringifyJson } from '../protocol/json.ts'
import type { Colors } from './colors.ts'
import type { OutStream } from './io.ts'

export type Logger = ConsolaInstance
export type LogLevelName = 'debug' | 'info' | 'warn' | 'error'

const CONSOLA_LEVEL: Record<LogLevelName, number> = { error: 0, warn: 1, info: 3, debug: 4 }
const MAX_QUEUED_BYTES = 1 << 20

export interface LoggerOptions {
  level: LogLevelName
  json: boolean
  stream: OutStream
  colors: Colors
}

/**
 * @example
 * const log = createLogger({ level: 'info', json: false, stream: process.stderr, colors })
 * log.withTag('worker').info('connected', { sessionId })
 */
export function createLogger(options: LoggerOptions): Logger {
  const write = boundedWriter(options.stream)
  const reporter = {
    log(obj: LogObject) {
      const { msg, fields } = splitArgs(obj.args)
      const level = levelName(obj.level)
      if (options.json) {
        const line: Record<string, unknown> = { ts: obj.date.getTime(), level, msg }
        if (obj.tag) line.tag = obj.tag
        write(stringifyJson({ ...line, ...fields }) + '\n')
      } else {
        write(formatText(obj.date, level, obj.tag, msg, fields, options.colors) + '\n')
      }
    },
  }
  return createConsola({
    level: CONSOLA_LEVEL[options.level],
    reporters: [reporter],
    throttle: 0,
    formatOptions: { date: false, colors: false, compact: true },
  })
}

function levelName(level: number): LogLevelName {
  if (level <= 0) return 'error'
  if (level === 1) return 'warn'
  if (level <= 3) return 'info'
  return 'debug'
}

function splitArgs(args: unknown[]): { msg: string; fields: Record<string, unknown> } {
  let fields: Record<string, unknown> = {}
  let rest = args
  const last = args[args.length - 1]
  if (args.length > 1 && last !== null && typeof last === 'object' && !Array.isArray(last) && !(last instanceof Error)) {
    fields = last as Record<string, unknown>
    rest = args.slice(0, -1)
  }
  const msg = rest
    .map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : stringifyJson(a)))
    .join(' ')
  return { msg, fields }
}

const LEVEL_LABEL: Record<LogLevelName, string> = { debug: 'DEBUG', info: 'INFO ', warn: 'WARN ', error: 'ERROR' }

function formatText(
  date: Date,
  level: LogLevelName,
  tag: string,
  msg: string,
  fields: Record<string, unknown>,
  c: Colors,
): string {
  const time = date.toISOString().slice(11, 23)
  const paint = { debug: c.dim, info: c.cyan, warn: c.yellow, error: c.red }[level]
  const extra = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : stringifyJson(v)}`)
    .join(' ')
  return `${c.dim(time)} ${paint(LEVEL_LABEL[level])} ${tag ? c.dim(`[${tag}] `) : ''}${msg}${extra ? ' ' + c.dim(extra) : ''}`
}

function boundedWriter(stream: OutStream): (line: string) => void {
  let dropped = 0
  return (line) => {
    const queued = stream.writableLength ?? 0
    if (queued > MAX_QUEUED_BYTES) {
      dropped++
      return
    }
    if (dropped > 0) {
      stream.write(`… ${dropped} log line${dropped === 1 ? '' : 's'} dropped (stderr was not being read)\n`)
      dropped = 0
    }
    stream.write(line)
  }
}
