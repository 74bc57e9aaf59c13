/**
 * Shell completion scripts (`coflux completion bash|zsh|fish`), generated from the citty command
 * tree itself: the commands, their flags and descriptions are read from the same definitions
 * that parse the command line, so a new command or flag completes without touching this file.
 *
 * Each script holds the tree as data (one entry per command path) and the same small walk: the
 * words typed so far that name subcommands make the path; a flag that takes a value skips the
 * next word. Global flags (the root's) complete everywhere, as the parser accepts them anywhere.
 */
import type { ArgDef, ArgsDef, CommandDef, CommandMeta } from 'citty'
import { kebab, resolveValue, subCommandsOf } from './args.ts'

type AnyCommand = CommandDef<any>

export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const
export type CompletionShell = (typeof COMPLETION_SHELLS)[number]

export interface CompletionFlag {
  long: string
  short?: string
  takesValue: boolean
  description: string
  /** an enum flag's values */
  choices?: string[]
}

export interface CompletionCommand {
  /** command words from the root: [] for `coflux` itself */
  path: string[]
  subcommands: { name: string; description: string }[]
  /** this command's own flags (the root's are the global ones) */
  flags: CompletionFlag[]
}

function flagsOf(args: ArgsDef): CompletionFlag[] {
  const flags: CompletionFlag[] = []
  for (const [name, def] of Object.entries(args) as [string, ArgDef][]) {
    if (def.type === 'positional') continue
    const aliases = 'alias' in def && def.alias !== undefined ? (Array.isArray(def.alias) ? def.alias : [def.alias]) : []
    const short = aliases.find((a) => a.length === 1)
    flags.push({
      long: kebab(name),
      ...(short ? { short } : {}),
      takesValue: def.type !== 'boolean',
      description: def.description ?? '',
      ...(def.type === 'enum' && def.options ? { choices: def.options.map(String) } : {}),
    })
  }
  return flags
}

/** Every command of the tree, depth first, root first (lazy subcommands are loaded). */
export async function completionTree(root: AnyCommand): Promise<CompletionCommand[]> {
  const out: CompletionCommand[] = []
  const visit = async (cmd: AnyCommand, path: string[]) => {
    const args = (cmd.args ? await resolveValue(cmd.args) : {}) as ArgsDef
    const entry: CompletionCommand = { path, subcommands: [], flags: flagsOf(args) }
    out.push(entry)
    const subs = await subCommandsOf(cmd)
    for (const [name, loader] of Object.entries(subs ?? {})) {
      const sub = await resolveValue(loader)
      const meta = (sub.meta ? await resolveValue(sub.meta) : {}) as CommandMeta
      entry.subcommands.push({ name, description: meta.description ?? '' })
      await visit(sub, [...path, name])
    }
  }
  await visit(root, [])
  return out
}

/**
 * The completion script for `shell`.
 *
 * @example
 * renderCompletion('bash', await completionTree(rootCommand), 'coflux')
 */
export function renderCompletion(shell: CompletionShell, tree: CompletionCommand[], program: string): string {
  switch (shell) {
    case 'bash':
      return renderBash(tree, program)
    case 'zsh':
      return renderZsh(tree, program)
    case 'fish':
      return renderFish(tree, program)
    default: {
      const never: never = shell
      throw new Error(`unknown shell ${String(never)}`)
    }
  }
}

/** POSIX single quotes: the only quoting all three shells read the same way. */
function quote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`
}

function flagWords(flags: CompletionFlag[], onlyValues = false): string {
  return flags
    .filter((f) => !onlyValues || f.takesValue)
    .flatMap((f) => [`--${f.long}`, ...(f.short ? [`-${f.short}`] : [])])
    .join(' ')
}

/** `case` arms keyed on the command path ("" for the root), one per command with something to say. */
function caseArms(tree: CompletionCommand[], body: (c: CompletionCommand) => string | null): string {
  const arms: string[] = []
  for (const c of tree) {
    const text = body(c)
    if (text !== null) arms.push(`    ${quote(c.path.join(' '))}) ${text} ;;`)
  }
  return arms.join('\n')
}

/**
 * The path walk, shared by bash and zsh (the same syntax): sets `cpath` (not `path`: zsh ties
 * that to PATH) and `skip` from `words`.
 */
function pathWalk(fn: string, first: string, last: string): string {
  return `  local cpath='' w skip=0 i
  for ((i = ${first}; i < ${last}; i++)); do
    w=\${words[i]}
    if ((skip)); then skip=0; continue; fi
    case $w in
      --*=*) ;;
      -*) case " $(${fn}_value_flags "$cpath") " in *" $w "*) skip=1 ;; esac ;;
      *) case " $(${fn}_subcommands "$cpath") " in *" $w "*) cpath=\${cpath:+$cpath }$w ;; esac ;;
    esac
  done`
}

/** One line per call: the walk matches words between spaces. */
function lineFunction(name: string, always: string, arms: string): string {
  return `${name}() {
  local more=''
  case $1 in
${arms}
  esac
  echo ${always ? `${quote(always)}` : ''}"\${more:+ $more}"
}`
}

/** The tree as shell functions of the path, for bash and zsh. */
function dataFunctions(tree: CompletionCommand[], fn: string): string {
  const globals = tree[0]!.flags
  const own = tree.filter((c) => c.path.length > 0)
  const choiceArms: string[] = []
  const choiceArm = (pattern: string, choices: string[]) => `    ${pattern}) echo ${quote(choices.join(' '))} ;;`
  for (const c of own) {
    for (const f of c.flags.filter((x) => x.choices)) {
      for (const name of [`--${f.long}`, ...(f.short ? [`-${f.short}`] : [])]) choiceArms.push(choiceArm(quote(`${c.path.join(' ')}|${name}`), f.choices!))
    }
  }
  for (const f of globals.filter((x) => x.choices)) {
    for (const name of [`--${f.long}`, ...(f.short ? [`-${f.short}`] : [])]) choiceArms.push(choiceArm(`*${quote(`|${name}`)}`, f.choices!))
  }
  return [
    lineFunction(`${fn}_subcommands`, '', caseArms(tree, (c) => (c.subcommands.length ? `more=${quote(c.subcommands.map((x) => x.name).join(' '))}` : null))),
    lineFunction(`${fn}_flags`, flagWords(globals), caseArms(own, (c) => (c.flags.length ? `more=${quote(flagWords(c.flags))}` : null))),
    lineFunction(`${fn}_value_flags`, flagWords(globals, true), caseArms(own, (c) => (c.flags.some((f) => f.takesValue) ? `more=${quote(flagWords(c.flags, true))}` : null))),
    `${fn}_choices() {\n  case "$1|$2" in\n${choiceArms.join('\n')}\n  esac\n}`,
  ].join('\n\n')
}

function renderBash(tree: CompletionCommand[], program: string): string {
  const fn = `_${program.replace(/\W/g, '_')}`
  return `# ${program} completion for bash, generated by \`${program} completion bash\`.
# Load it with: source <(${program} completion bash)
${dataFunctions(tree, fn)}

${fn}() {
  local words=("\${COMP_WORDS[@]}") cur=\${COMP_WORDS[COMP_CWORD]}
${pathWalk(fn, '1', 'COMP_CWORD')}
  COMPREPLY=()
  if ((skip)); then
    # a flag's value: its choices, else the shell's default (file names)
    COMPREPLY=($(compgen -W "$(${fn}_choices "$cpath" "\${words[COMP_CWORD-1]}")" -- "$cur"))
    return
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(${fn}_flags "$cpath")" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$(${fn}_subcommands "$cpath")" -- "$cur"))
  fi
}
complete -o default -F ${fn} ${program}
`
}

/** zsh's `_describe` entries: `name:description`, colons in the name escaped. */
function described(items: { name: string; description: string }[]): string {
  return items.map((i) => `${i.name.replaceAll(':', '\\:')}:${i.description}`).join('\n')
}

function renderZsh(tree: CompletionCommand[], program: string): string {
  const fn = `_${program.replace(/\W/g, '_')}`
  const globals = tree[0]!.flags
  const flagItems = (flags: CompletionFlag[]) => flags.flatMap((f) => [{ name: `--${f.long}`, description: f.description }, ...(f.short ? [{ name: `-${f.short}`, description: f.description }] : [])])
  return `#compdef ${program}
# ${program} completion for zsh, generated by \`${program} completion zsh\`.
# Load it with: source <(${program} completion zsh)  (after compinit), or save it as _${program} in $fpath.
${dataFunctions(tree, fn)}

${fn}_described_subcommands() {
  case $1 in
${caseArms(tree, (c) => (c.subcommands.length ? `print -r -- ${quote(described(c.subcommands))}` : null))}
  esac
}

${fn}_described_flags() {
  print -r -- ${quote(described(flagItems(globals)))}
  case $1 in
${caseArms(tree, (c) => (c.path.length && c.flags.length ? `print -r -- ${quote(described(flagItems(c.flags)))}` : null))}
  esac
}

${fn}() {
  setopt localoptions noshwordsplit
${pathWalk(fn, '2', 'CURRENT')}
  local -a items
  if ((skip)); then
    items=(\${=\$(${fn}_choices "$cpath" "\${words[CURRENT-1]}")})
    if ((\${#items})); then compadd -a items; else _files; fi
    return
  fi
  if [[ \${words[CURRENT]} == -* ]]; then
    items=("\${(@f)\$(${fn}_described_flags "$cpath")}")
    _describe -t flags 'flag' items
  else
    items=("\${(@f)\$(${fn}_described_subcommands "$cpath")}")
    if ((\${#items})) && [[ -n \${items[1]} ]]; then _describe -t commands 'command' items; else _files; fi
  fi
}

if [[ \${funcstack[1]} == ${fn} ]]; then ${fn} "$@"; else compdef ${fn} ${program}; fi
`
}

function renderFish(tree: CompletionCommand[], program: string): string {
  const fn = `__${program.replace(/\W/g, '_')}`
  const lines = [
    `# ${program} completion for fish, generated by \`${program} completion fish\`.`,
    `# Load it with: ${program} completion fish | source  (or save it in ~/.config/fish/completions/${program}.fish)`,
    '',
    `function ${fn}_subcommands`,
    '    switch $argv[1]',
    ...tree.filter((c) => c.subcommands.length).map((c) => `        case ${quote(c.path.join(' '))}\n            echo ${quote(c.subcommands.map((s) => s.name).join(' '))}`),
    '    end',
    'end',
    '',
    `function ${fn}_value_flags`,
    `    echo ${quote(flagWords(tree[0]!.flags, true))}`,
    '    switch $argv[1]',
    ...tree.filter((c) => c.path.length && c.flags.some((f) => f.takesValue)).map((c) => `        case ${quote(c.path.join(' '))}\n            echo ${quote(flagWords(c.flags, true))}`),
    '    end',
    'end',
    '',
    '# the command path typed so far: words that name subcommands, past flags and their values',
    `function ${fn}_path`,
    '    set -l cpath ""',
    '    set -l skip 0',
    '    for w in (commandline -opc)[2..-1]',
    '        if test $skip = 1',
    '            set skip 0',
    '            continue',
    '        end',
    '        switch $w',
    "            case '--*=*'",
    "            case '-*'",
    `                contains -- $w (string split ' ' -- (${fn}_value_flags "$cpath")); and set skip 1`,
    "            case '*'",
    `                if contains -- $w (string split ' ' -- (${fn}_subcommands "$cpath"))`,
    '                    set cpath (string trim -- "$cpath $w")',
    '                end',
    '        end',
    '    end',
    '    echo $cpath',
    'end',
    '',
    `function ${fn}_at`,
    `    set -l current (${fn}_path)`,
    '    test "$current" = "$argv[1]"',
    'end',
    '',
  ]
  const flagLine = (f: CompletionFlag, condition: string | null) =>
    [
      `complete -c ${program}`,
      condition,
      `-l ${f.long}`,
      f.short ? `-s ${f.short}` : null,
      f.takesValue ? '-r' : null,
      f.choices ? `-f -a ${quote(f.choices.join(' '))}` : null,
      f.description ? `-d ${quote(f.description)}` : null,
    ]
      .filter(Boolean)
      .join(' ')
  for (const f of tree[0]!.flags) lines.push(flagLine(f, null))
  for (const c of tree) {
    const condition = `-n ${quote(`${fn}_at ${quote(c.path.join(' '))}`)}`
    for (const s of c.subcommands) lines.push(`complete -c ${program} ${condition} -f -a ${quote(s.name)}${s.description ? ` -d ${quote(s.description)}` : ''}`)
    if (c.path.length) for (const f of c.flags) lines.push(flagLine(f, condition))
  }
  return lines.join('\n') + '\n'
}
