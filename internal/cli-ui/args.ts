/**
 * The command line parser. citty 0.2.2 supplies the command definitions (`defineCommand`) but
 * its own parser is too lenient for our contract (cli.md §3): it accepts unknown flags silently,
 * keeps only the last value of a repeated flag, reads `-1` as a flag, and passes flags written
 * before a command word only to the parent. So we resolve the command path and parse flags here:
 *
 * - The root command's args are global: accepted anywhere (before, between, after words).
 * - A group's args are accepted anywhere after the group word, including before the subcommand.
 * - `--flag value` = `--flag=value`, `-w value` = `-w=value`; booleans take `=true|false`;
 *   `--no-x` sets boolean `x` to false unless an arg literally named `no-x` exists.
 * - Every occurrence of a string flag is kept, in order (`ParsedLine.occurrences`); `args[name]`
 *   holds the last one. `listFlag()` splits list flags (CSV rules) across occurrences.
 * - A token that is a JSON number (`-1`, `-2.5`, `-1e3`) is a positional; `--` ends flags.
 * - Unknown flags, missing values or required args, bad enum values and extra positionals throw
 *   `UsageError` (exit 2). A positional arg wrapped with `variadic()` takes all the rest.
 */
import type { ArgDef, ArgsDef, CommandDef } from 'citty'
import { splitList } from '../config/values.ts'
import { UsageError } from './errors.ts'

type AnyCommand = CommandDef<any>

const variadicArgs = new WeakSet<object>()

/**
 * Marks a positional arg as taking every remaining positional (`submit`'s arguments, `worker`'s
 * modules). All positionals are also in `ctx.args._`.
 *
 * @example
 * args: { modules: variadic({ type: 'positional', required: false, description: 'Modules' }) }
 */
export function variadic<T extends ArgDef>(def: T): T {
  variadicArgs.add(def)
  return def
}

export function isVariadic(def: ArgDef): boolean {
  return variadicArgs.has(def)
}

export interface ParsedLine {
  /** command words, e.g. ['runs', 'inspect'] */
  path: string[]
  /** root … leaf */
  chain: AnyCommand[]
  leaf: AnyCommand
  /** citty-style: named values (kebab and camel keys) plus `_` = positionals */
  args: Record<string, unknown>
  positionals: string[]
  /** every value of each string flag, by canonical name, in command-line order */
  occurrences: Record<string, string[]>
  /** every flag in command-line order (`pools update` applies --set/--unset in order) */
  ordered: { name: string; value: string | boolean }[]
  help: boolean
  version: boolean
  /** `coflux help <words…>`: the words after `help` */
  helpFor?: string[]
}

interface FlagDef {
  name: string
  def: ArgDef
}

/** Resolves a `Resolvable<T>` the way citty does. */
export async function resolveValue<T>(v: T | Promise<T> | (() => T | Promise<T>)): Promise<T> {
  return typeof v === 'function' ? await (v as () => T | Promise<T>)() : await v
}

export async function subCommandsOf(cmd: AnyCommand): Promise<Record<string, AnyCommand> | undefined> {
  const subs = cmd.subCommands ? await resolveValue(cmd.subCommands) : undefined
  return subs && Object.keys(subs).length > 0 ? (subs as Record<string, AnyCommand>) : undefined
}

async function findSubCommand(cmd: AnyCommand, name: string): Promise<AnyCommand | undefined> {
  const subs = await subCommandsOf(cmd)
  if (!subs) return undefined
  if (Object.prototype.hasOwnProperty.call(subs, name)) return resolveValue(subs[name]!)
  for (const sub of Object.values(subs)) {
    const resolved = await resolveValue(sub)
    const meta = resolved.meta ? await resolveValue(resolved.meta) : undefined
    const aliases = meta?.alias === undefined ? [] : Array.isArray(meta.alias) ? meta.alias : [meta.alias]
    if (aliases.includes(name)) return resolved
  }
  return undefined
}

export function kebab(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()
}

function camel(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase())
}

const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/

function isFlagToken(tok: string): boolean {
  return tok.startsWith('-') && tok !== '-' && !JSON_NUMBER.test(tok)
}

/** Flag lookup table for a set of arg definitions (later definitions win). */
class FlagTable {
  readonly long = new Map<string, FlagDef>()
  readonly short = new Map<string, FlagDef>()

  add(args: ArgsDef): void {
    for (const [name, def] of Object.entries(args)) {
      if (def.type === 'positional') continue
      const flag = { name: kebab(name), def }
      this.long.set(kebab(name), flag)
      const aliases = 'alias' in def && def.alias !== undefined ? (Array.isArray(def.alias) ? def.alias : [def.alias]) : []
      for (const a of aliases) (a.length === 1 ? this.short : this.long).set(a.length === 1 ? a : kebab(a), flag)
    }
  }

  lookup(tok: string): { flag?: FlagDef; inline?: string; negated?: boolean; text: string } {
    const eq = tok.indexOf('=')
    const head = eq === -1 ? tok : tok.slice(0, eq)
    const inline = eq === -1 ? undefined : tok.slice(eq + 1)
    if (head.startsWith('--')) {
      const name = kebab(head.slice(2))
      const direct = this.long.get(name)
      if (direct) return { flag: direct, inline, text: head }
      if (name.startsWith('no-')) {
        const base = this.long.get(name.slice(3))
        if (base && isBoolean(base.def)) return { flag: base, inline, negated: true, text: head }
      }
      return { inline, text: head }
    }
    const short = head.slice(1)
    return { flag: short.length === 1 ? this.short.get(short) : undefined, inline, text: head }
  }

  takesValue(tok: string): boolean {
    if (tok.includes('=')) return false
    const { flag, negated } = this.lookup(tok)
    return !!flag && !negated && !isBoolean(flag.def)
  }
}

function isBoolean(def: ArgDef): boolean {
  return def.type === 'boolean'
}

async function argsOf(cmd: AnyCommand): Promise<ArgsDef> {
  return (cmd.args ? await resolveValue(cmd.args) : {}) as ArgsDef
}

/**
 * Parses `argv` against the command tree rooted at `root` (whose args are the global flags).
 *
 * @example
 * const line = await parseCommandLine(rootCommand, ['--host', 'h', 'runs', 'result', 'R1', '-o', 'json'])
 * line.path // ['runs', 'result']; line.args.host === 'h'; line.args.output === 'json'
 */
export async function parseCommandLine(root: AnyCommand, argv: string[]): Promise<ParsedLine> {
  const path: string[] = []
  try {
    return await parse(root, argv, path)
  } catch (err) {
    if (err instanceof UsageError) err.commandPath ??= [...path]
    throw err
  }
}

async function parse(root: AnyCommand, argv: string[], path: string[]): Promise<ParsedLine> {
  const table = new FlagTable()
  table.add(await argsOf(root))
  const chain: AnyCommand[] = [root]
  const commandWordIndexes = new Set<number>()
  let helpFor: string[] | undefined

  // Pass 1: find the command words, skipping flag values for the flags known so far.
  let current = root
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i]!
    if (tok === '--') break
    if (isFlagToken(tok)) {
      if (table.takesValue(tok)) i++
      continue
    }
    if (helpFor !== undefined) {
      helpFor.push(tok)
      commandWordIndexes.add(i)
      continue
    }
    const subs = await subCommandsOf(current)
    if (!subs) break
    if (current === root && tok === 'help' && !Object.prototype.hasOwnProperty.call(subs, 'help')) {
      helpFor = []
      commandWordIndexes.add(i)
      continue
    }
    const sub = await findSubCommand(current, tok)
    if (!sub) {
      if (current.run) break // a command with both run and subcommands takes positionals
      throw new UsageError(`unknown command "${tok}"${path.length ? ` for "coflux ${path.join(' ')}"` : ''}`)
    }
    path.push(tok)
    commandWordIndexes.add(i)
    chain.push(sub)
    table.add(await argsOf(sub))
    current = sub
  }

  const result: ParsedLine = {
    path,
    chain,
    leaf: current,
    args: {},
    positionals: [],
    occurrences: {},
    ordered: [],
    help: helpFor !== undefined,
    version: false,
    helpFor,
  }

  // Pass 2: parse every other token with all flags of the chain known.
  let flagsDone = false
  for (let i = 0; i < argv.length; i++) {
    if (commandWordIndexes.has(i)) continue
    const tok = argv[i]!
    if (!flagsDone && tok === '--') {
      flagsDone = true
      continue
    }
    if (flagsDone || !isFlagToken(tok)) {
      result.positionals.push(tok)
      continue
    }
    if (tok === '--help' || tok === '-h') {
      result.help = true
      continue
    }
    if (tok === '--version' && !table.lookup(tok).flag) {
      result.version = true
      continue
    }
    const { flag, inline, negated, text } = table.lookup(tok)
    if (!flag) throw new UsageError(`unknown flag: ${text}`)
    if (isBoolean(flag.def)) {
      let value = !negated
      if (inline !== undefined) {
        if (inline !== 'true' && inline !== 'false') throw new UsageError(`invalid value for ${text}: "${inline}" (expected true or false)`)
        value = negated ? inline === 'false' : inline === 'true'
      }
      setArg(result.args, flag.name, value)
      result.ordered.push({ name: flag.name, value })
      continue
    }
    let value = inline
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`flag needs a value: ${text}`)
      value = argv[++i]!
    }
    if (flag.def.type === 'enum' && flag.def.options && !flag.def.options.includes(value)) {
      throw new UsageError(`invalid value for --${flag.name}: "${value}" (expected one of: ${flag.def.options.join(', ')})`)
    }
    setArg(result.args, flag.name, value)
    ;(result.occurrences[flag.name] ??= []).push(value)
    result.ordered.push({ name: flag.name, value })
  }
  if (result.help || result.version) return result

  // Defaults and required flags, for every command in the chain.
  for (const cmd of chain) {
    for (const [name, def] of Object.entries(await argsOf(cmd))) {
      if (def.type === 'positional') continue
      const key = kebab(name)
      if (result.args[key] === undefined && def.default !== undefined) setArg(result.args, key, def.default)
      if (def.required && result.args[key] === undefined) throw new UsageError(`missing required flag: --${key}`)
    }
  }

  // Positionals of the leaf.
  const positionalDefs = Object.entries(await argsOf(current)).filter(([, d]) => d.type === 'positional')
  const rest = [...result.positionals]
  let takesRest = false
  for (const [name, def] of positionalDefs) {
    if (variadicArgs.has(def)) {
      takesRest = true
      if (rest.length === 0 && def.required === true) throw new UsageError(`missing required argument: <${kebab(name)}>`)
      setArg(result.args, name, rest[0] ?? def.default)
      rest.length = 0
      break
    }
    const value = rest.shift()
    if (value === undefined) {
      if (def.required !== false && def.default === undefined) throw new UsageError(`missing required argument: <${kebab(name)}>`)
      if (def.default !== undefined) setArg(result.args, name, def.default)
      continue
    }
    setArg(result.args, name, value)
  }
  if (!takesRest && rest.length > 0) {
    const words = path.length ? `coflux ${path.join(' ')}` : 'coflux'
    throw new UsageError(`unexpected argument "${rest[0]}" for "${words}"`)
  }
  result.args._ = result.positionals
  return result
}

function setArg(args: Record<string, unknown>, name: string, value: unknown): void {
  args[name] = value
  args[kebab(name)] = value
  args[camel(kebab(name))] = value
}

/**
 * All values of a list flag (cli.md §3.5): every occurrence split on commas (double quotes
 * protect commas), in command-line order. Empty when absent.
 *
 * @example
 * // coflux submit --requires gpu:A100,region:eu --requires "x:a,b"
 * listFlag(line, 'requires') // ['gpu:A100', 'region:eu', 'x:a,b']
 */
export function listFlag(line: Pick<ParsedLine, 'occurrences'>, name: string): string[] {
  return (line.occurrences[kebab(name)] ?? []).flatMap(splitList)
}
