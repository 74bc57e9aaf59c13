/**
 * Help text (`-h`, `--help`, `coflux help …`, a group without subcommand): plain text on stdout,
 * coloured only under the usual rules (citty's renderUsage colours regardless of TTY).
 */
import type { ArgDef, ArgsDef, CommandDef, CommandMeta } from 'citty'
import { isVariadic, kebab, resolveValue, subCommandsOf } from './args.ts'
import type { Colors } from './colors.ts'
import { UsageError } from './errors.ts'

type AnyCommand = CommandDef<any>

async function metaOf(cmd: AnyCommand): Promise<CommandMeta> {
  return (cmd.meta ? await resolveValue(cmd.meta) : {}) as CommandMeta
}

async function argsOf(cmd: AnyCommand): Promise<ArgsDef> {
  return (cmd.args ? await resolveValue(cmd.args) : {}) as ArgsDef
}

/** Walks `words` from the root; unknown words are a usage error. */
export async function resolveCommandPath(root: AnyCommand, words: string[]): Promise<AnyCommand[]> {
  const chain = [root]
  let cur = root
  for (const w of words) {
    const subs = await subCommandsOf(cur)
    const next = subs && Object.prototype.hasOwnProperty.call(subs, w) ? await resolveValue(subs[w]!) : undefined
    if (!next) throw new UsageError(`unknown command "${words.join(' ')}"`)
    chain.push(next)
    cur = next
  }
  return chain
}

function flagLabel(name: string, def: ArgDef): string {
  const aliases = 'alias' in def && def.alias !== undefined ? (Array.isArray(def.alias) ? def.alias : [def.alias]) : []
  const shorts = aliases.filter((a) => a.length === 1).map((a) => `-${a}, `)
  const hint = def.type === 'boolean' ? '' : ` ${def.valueHint ?? (def.type === 'enum' && def.options ? def.options.join('|') : kebab(name).toUpperCase().replace(/-/g, '_'))}`
  return `${shorts.join('')}--${kebab(name)}${hint}`
}

function columns(rows: [string, string][], indent = '  '): string[] {
  const width = Math.max(0, ...rows.map(([a]) => a.length))
  return rows.map(([a, b]) => (b ? `${indent}${a.padEnd(width)}   ${b}` : `${indent}${a}`).trimEnd())
}

/**
 * The help text for the command at `chain` (root first).
 *
 * @example
 * renderHelp(await resolveCommandPath(root, ['runs', 'inspect']), colors)
 */
export async function renderHelp(chain: AnyCommand[], c: Colors): Promise<string> {
  const root = chain[0]!
  const leaf = chain[chain.length - 1]!
  const names: string[] = []
  for (const cmd of chain) names.push((await metaOf(cmd)).name ?? '')
  const commandName = names.filter(Boolean).join(' ')
  const meta = await metaOf(leaf)
  const lines: string[] = []
  if (meta.description) lines.push(meta.description, '')

  const leafArgs = await argsOf(leaf)
  const positionals = Object.entries(leafArgs).filter(([, d]) => d.type === 'positional')
  const subs = await subCommandsOf(leaf)
  const usage = [commandName]
  if (subs) usage.push('<command>')
  usage.push('[flags]')
  for (const [name, def] of positionals) {
    const n = kebab(name) + (isVariadic(def) ? '...' : '')
    usage.push(def.required === false || def.default !== undefined ? `[${n}]` : `<${n}>`)
  }
  lines.push(`${c.bold('Usage:')} ${usage.join(' ')}`)

  if (subs) {
    const rows: [string, string][] = []
    for (const [name, sub] of Object.entries(subs)) {
      const m = await metaOf(await resolveValue(sub))
      if (!m.hidden) rows.push([name, m.description ?? ''])
    }
    lines.push('', c.bold('Commands:'), ...columns(rows))
  }
  if (positionals.length > 0) {
    lines.push('', c.bold('Arguments:'), ...columns(positionals.map(([n, d]) => [kebab(n), d.description ?? ''])))
  }

  const globalArgs = await argsOf(root)
  const globalNames = new Set(Object.keys(globalArgs).map(kebab))
  const own: [string, string][] = []
  for (const cmd of chain.slice(1)) {
    for (const [name, def] of Object.entries(await argsOf(cmd))) {
      if (def.type === 'positional' || globalNames.has(kebab(name))) continue
      own.push([flagLabel(name, def), describeFlag(def)])
    }
  }
  if (own.length > 0) lines.push('', c.bold('Flags:'), ...columns(own))
  const global = Object.entries(globalArgs).map(([n, d]): [string, string] => [flagLabel(n, d), describeFlag(d)])
  global.push(['-h, --help', 'Show help'])
  if (chain.length === 1) global.push(['--version', 'Print the version'])
  lines.push('', c.bold(chain.length === 1 ? 'Global flags (accepted anywhere):' : 'Global flags:'), ...columns(global))
  if (subs) lines.push('', `Run '${commandName} <command> --help' for more about a command.`)
  return lines.join('\n') + '\n'
}

function describeFlag(def: ArgDef): string {
  const d = def.description ?? ''
  return def.default !== undefined && def.type !== 'boolean' ? `${d} (default: ${def.default})`.trim() : d
}
