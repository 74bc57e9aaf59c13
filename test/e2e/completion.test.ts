/**
 * `coflux completion bash|zsh|fish` with the real binary: each script is loaded into its real
 * shell and asked what completes, as a user pressing Tab would. Commands and flags come from
 * the command definitions, so the script knows every command `coflux --help` lists.
 * Each shell must be installed (`make test` installs zsh and fish: scripts/test-setup.sh).
 */
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { coflux } from './support/cli.ts'

const dir = mkdtempSync(join(tmpdir(), 'coflux-completion-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function requireShell(name: string): void {
  if (Bun.which(name) === null) throw new Error(`${name} is not installed (scripts/test-setup.sh installs it)`)
}

async function script(shell: string): Promise<string> {
  const res = await coflux(['completion', shell])
  expect(res).toMatchObject({ code: 0, stderr: '' })
  const path = join(dir, `coflux.${shell}`)
  writeFileSync(path, res.stdout)
  return path
}

function run(argv: string[]): string {
  const proc = Bun.spawnSync(argv, { stdout: 'pipe', stderr: 'pipe', env: { PATH: process.env.PATH ?? '', HOME: dir } })
  if (proc.exitCode !== 0) throw new Error(`${argv[0]} failed: ${proc.stderr.toString()}`)
  return proc.stdout.toString()
}

test('bash: commands, subcommands, flags after global flags with values, enum choices', async () => {
  const path = await script('bash')
  const probe = `source ${path}
t() { COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _coflux; echo "\${COMPREPLY[*]}"; }
t coflux ru
t coflux -w dev runs in
t coflux runs inspect --no
t coflux --host localhost:7777 pools create cpu --type ''
t coflux --workspace ''
t coflux pools ''
complete -p coflux`
  const lines = run(['bash', '-c', probe]).split('\n')
  expect(lines[0]).toBe('runs')
  expect(lines[1]).toBe('inspect')
  expect(lines[2]).toBe('--no-color --no-wait')
  expect(lines[3]).toBe('docker process kubernetes')
  // a flag's value: nothing from the tree (bash falls back to file names)
  expect(lines[4]).toBe('')
  expect(lines[5]).toBe('list get launches create update delete disable enable export import')
  expect(lines[6]).toBe('complete -o default -F _coflux coflux')

  // every command of the help text completes
  const help = await coflux(['--help'])
  const commands = [...help.stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]!)
  expect(commands).toContain('completion')
  const all = run(['bash', '-c', `source ${path}; COMP_WORDS=(coflux ''); COMP_CWORD=1; _coflux; echo "\${COMPREPLY[*]}"`]).trim().split(' ')
  expect(all.sort()).toEqual(expect.arrayContaining(commands.sort()))
})

test('zsh: the same answers through _describe and compadd', async () => {
  requireShell('zsh')
  const path = await script('zsh')
  // stand-ins for the completion system's builtins: print what would be offered
  const probe = `compdef() { }
_describe() { local name=\${@[-1]}; print -r -- \${(j: :)\${\${(@P)name}%%:*}} }
compadd() { print -r -- \${(j: :)\${(@P)\${@[-1]}}} }
_files() { print -r -- FILES }
source ${path}
t() { words=("$@"); CURRENT=\${#words}; _coflux }
t coflux runs ''
t coflux runs inspect --no
t coflux pools create cpu --type ''
t coflux blobs get abc --to ''`
  const lines = run(['zsh', '-f', '-c', probe]).split('\n')
  expect(lines[0]).toBe('inspect result rerun cancel')
  expect(lines[1]!.split(' ')).toEqual(expect.arrayContaining(['--no-wait', '--no-color', '--workspace', '-w']))
  expect(lines[2]).toBe('docker process kubernetes')
  expect(lines[3]).toBe('FILES')
})

test('fish: complete -C answers with descriptions', async () => {
  requireShell('fish')
  const path = await script('fish')
  const complete = (line: string) => run(['fish', '--no-config', '-c', `source ${path}; complete -C '${line}'`]).trim().split('\n')
  expect(complete('coflux ru')).toEqual(['runs\tInspect, rerun and cancel runs'])
  expect(complete('coflux -w dev runs inspect --no')).toEqual(['--no-color\tDisable colour', '--no-wait\tReturn immediately instead of waiting'])
  expect(complete('coflux pools create cpu --type ').map((l) => l.split('\t')[0])).toEqual(['docker', 'kubernetes', 'process'])
})

test('an unknown shell is a usage error', async () => {
  const res = await coflux(['completion', 'tcsh'])
  expect(res.code).toBe(2)
  expect(res.stderr).toContain('unknown shell "tcsh": expected bash, zsh, fish')
})
