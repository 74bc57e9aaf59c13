/**
 * argv → exit code. Exit codes are decided here and only here (STYLE §6, cli.md §6):
 * 0 ok · 1 failed · 2 usage · 3 server unreachable · 4 not authorised · 130/143 interrupted.
 * Commands never call process.exit; they throw, or throw `ExitError(code)` after reporting.
 */
import type { CommandContext, CommandDef } from 'citty'
import { API_VERSION, VERSION } from '../protocol/version.ts'
import { resolveConfig } from '../config/index.ts'
import { parseCommandLine, type ParsedLine } from './args.ts'
import { createColors, shouldUseColor, stripAnsi } from './colors.ts'
import { describeError, isApiError, rootCause, UsageError } from './errors.ts'
import { renderHelp, resolveCommandPath } from './help.ts'
import { processIO, type CliIO } from './io.ts'
import { stringifyJson } from '../protocol/json.ts'

/** What `run()` hands every command in `ctx.data`. */
export interface CommandData {
  io: CliIO
  line: ParsedLine
  /** commands record the resolved output format here, so errors are reported in that mode */
  state: { output: 'text' | 'json' }
}

export type RunContext = CommandContext<any> & { data: CommandData }

/** The `CommandData` of a context created by `run()`. */
export function commandData(ctx: CommandContext<any>): CommandData {
  const data = ctx.data as CommandData | undefined
  if (!data?.io) throw new Error('command context was not created by cli-ui run()')
  return data
}

/**
 * Runs the command line and returns the process exit code.
 *
 * @example
 * process.exit(await run(rootCommand, process.argv.slice(2)))
 */
export async function run(root: CommandDef<any>, argv: string[], io: CliIO = processIO()): Promise<number> {
  const state: CommandData['state'] = { output: prescanOutput(argv, io.env) }
  let path: string[] = []
  try {
    const line = await parseCommandLine(root, argv)
    path = line.path
    if (line.version) {
      // `output = "json"` in coflux.toml applies to --version too
      state.output = configuredOutput(line, io) ?? state.output
      if (state.output === 'json') io.stdout.write(stringifyJson({ version: VERSION, apiVersion: API_VERSION }, { indent: 2 }) + '\n')
      else io.stdout.write(`coflux version ${VERSION}\n`)
      return 0
    }
    const leafHasSubs = line.leaf.subCommands !== undefined && !line.leaf.run
    if (line.help || leafHasSubs) {
      const chain = line.helpFor ? await resolveCommandPath(root, line.helpFor) : line.chain
      const colors = createColors(shouldUseColor({ isTTY: io.stdout.isTTY, noColor: argv.includes('--no-color'), env: io.env }))
      io.stdout.write(await renderHelp(chain, colors))
      return 0
    }
    const ctx: RunContext = { rawArgs: argv, args: line.args as RunContext['args'], cmd: line.leaf, data: { io, line, state } }
    const entered: CommandDef<any>[] = []
    let failure: unknown
    try {
      for (const cmd of line.chain) {
        entered.push(cmd)
        if (cmd.setup) await cmd.setup(ctx)
      }
      if (line.leaf.run) await line.leaf.run(ctx)
    } catch (err) {
      failure = err
    }
    for (const cmd of entered.reverse()) {
      try {
        if (cmd.cleanup) await cmd.cleanup(ctx)
      } catch (err) {
        failure ??= err
      }
    }
    if (failure !== undefined) throw failure
    return 0
  } catch (err) {
    if (err instanceof UsageError && err.commandPath) path = err.commandPath
    return reportError(err, { io, json: state.output === 'json', path, debug: prescanFlag(argv, ['--log-level']) === 'debug' || io.env.COFLUX_LOG_LEVEL === 'debug' })
  }
}

/** Exit code for an error (see the table above). */
export function exitCodeFor(err: unknown): number {
  if (err instanceof Error && err.name === 'CLIError') return 2
  const own = (err as { exitCode?: unknown } | null)?.exitCode
  if (typeof own === 'number') return own
  const cause = rootCause(err)
  if (cause !== err) return exitCodeFor(cause)
  if (cause instanceof Error && cause.name === 'ConnectionError') return 3
  if (isApiError(cause) && (cause.status === 401 || cause.status === 403)) return 4
  return 1
}

function errorCode(err: unknown): string {
  const cause = rootCause(err)
  if (isApiError(cause)) return cause.code
  if (cause instanceof Error) {
    if (cause.name === 'UsageError' || cause.name === 'CLIError') return 'usage'
    if (cause.name === 'ConnectionError') return 'connection_failed'
  }
  return 'error'
}

function reportError(err: unknown, opts: { io: CliIO; json: boolean; path: string[]; debug: boolean }): number {
  const code = exitCodeFor(err)
  if (err instanceof Error && err.name === 'ExitError') return code
  const message = stripAnsi(describeError(err))
  const { stderr } = opts.io
  stderr.write(`Error: ${message}\n`)
  if (code === 2) stderr.write(`Run '${['coflux', ...opts.path].join(' ')} --help' for usage.\n`)
  if (code === 4) stderr.write(authHint(rootCause(err)) + '\n')
  if (opts.debug && err instanceof Error && err.stack && !(err instanceof UsageError)) stderr.write(`${err.stack}\n`)
  if (opts.json) {
    const cause = rootCause(err)
    const line: Record<string, unknown> = { error: errorCode(err), message }
    if (isApiError(cause) && cause.details !== undefined) line.details = cause.details
    stderr.write(stringifyJson(line) + '\n')
  }
  return code
}

/** The output format from flags, environment and config file; undefined when they are invalid. */
function configuredOutput(line: ParsedLine, io: CliIO): 'text' | 'json' | undefined {
  const a = line.args as Record<string, unknown>
  try {
    const flags = { config: a.config as string | undefined, output: a.output as string | undefined }
    return resolveConfig({ flags, env: io.env, cwd: io.cwd }).config.output
  } catch {
    return undefined
  }
}

/** Which token or login is needed (STYLE §6: exit 4 says so). */
function authHint(cause: unknown): string {
  if (isApiError(cause) && cause.status === 403) {
    return "Hint: the credentials in use may not do this here (their workspace patterns don't cover it); use a token with a wider scope (--token, COFLUX_TOKEN) or 'coflux login'"
  }
  return "Hint: this server needs credentials: pass --token, set COFLUX_TOKEN or 'token' in coflux.toml, or run 'coflux login'"
}

/** The output format before config is resolved: `-o/--output` anywhere, else COFLUX_OUTPUT. */
function prescanOutput(argv: string[], env: Record<string, string | undefined>): 'text' | 'json' {
  const flag = prescanFlag(argv, ['--output', '-o'])
  if (flag !== undefined) return flag === 'json' ? 'json' : 'text'
  return env.COFLUX_OUTPUT === 'json' ? 'json' : 'text'
}

/** The last value of a value flag, read before parsing (parsing may be what failed). */
function prescanFlag(argv: string[], names: string[]): string | undefined {
  let value: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i]!
    if (tok === '--') break
    for (const name of names) {
      if (tok === name && i + 1 < argv.length) value = argv[i + 1]
      else if (tok.startsWith(name + '=')) value = tok.slice(name.length + 1)
    }
  }
  return value
}
