/**
 * Everything a command needs before talking to a server: the resolved configuration, the output
 * printer and the logger, built once from the parsed command line (flags > env > file > defaults).
 */
import type { CommandContext } from 'citty'
import { resolveConfig, type Config } from '../config/index.ts'
import type { ParsedLine } from './args.ts'
import { createColors, shouldUseColor } from './colors.ts'
import type { CliIO } from './io.ts'
import { createLogger, type Logger } from './logger.ts'
import { Output } from './output.ts'
import { commandData } from './run.ts'

export interface CommandEnv {
  config: Config
  out: Output
  log: Logger
  io: CliIO
  line: ParsedLine
  /** `blobs get` / `pools export`: 0.12's `-o FILE` */
  outputFile?: string
}

/**
 * @example
 * const { config, out, log } = commandEnv(ctx)
 */
export function commandEnv(ctx: CommandContext<any>, options: { outputFileCompat?: boolean; allowMissingConfig?: boolean } = {}): CommandEnv {
  const data = commandData(ctx)
  const { io, line } = data
  const a = line.args as Record<string, string | boolean | undefined>
  const str = (k: string) => (typeof a[k] === 'string' ? (a[k] as string) : undefined)
  const { config, warnings, outputFile } = resolveConfig({
    flags: {
      config: str('config'),
      host: str('host'),
      project: str('project'),
      token: str('token'),
      team: str('team'),
      workspace: str('workspace'),
      logLevel: str('log-level'),
      output: str('output'),
      noColor: a['no-color'] === true,
    },
    env: io.env,
    cwd: io.cwd,
    outputFileCompat: options.outputFileCompat,
    allowMissingFile: options.allowMissingConfig,
  })
  data.state.output = config.output
  const json = config.output === 'json'
  const colorFor = (isTTY?: boolean) =>
    createColors(config.color && shouldUseColor({ isTTY, json, noColor: !config.color, env: io.env }))
  const out = new Output(io, config.output, colorFor(io.stdout.isTTY), colorFor(io.stderr.isTTY))
  const log = createLogger({ level: config.logLevel, json, stream: io.stderr, colors: out.errColors })
  for (const w of warnings) log.warn(w)
  return { config, out, log, io, line, outputFile }
}
