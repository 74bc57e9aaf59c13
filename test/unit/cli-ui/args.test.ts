import { describe, expect, test } from 'bun:test'
import { defineCommand } from 'citty'
import { listFlag, parseCommandLine, UsageError, variadic } from '../../../internal/cli-ui/index.ts'

const leaf = defineCommand({
  meta: { name: 'result' },
  args: {
    target: { type: 'positional', description: 'target' },
    'no-wait': { type: 'boolean' },
    memo: { type: 'boolean' },
    requires: { type: 'string' },
    mode: { type: 'enum', options: ['a', 'b'] },
  },
  run() {},
})
const submit = defineCommand({
  meta: { name: 'submit' },
  args: { target: { type: 'positional' }, arguments: variadic({ type: 'positional', required: false }), count: { type: 'string', required: true } },
  run() {},
})
const group = defineCommand({
  meta: { name: 'runs' },
  args: { adapter: { type: 'string' } },
  subCommands: { result: leaf },
})
const root = defineCommand({
  meta: { name: 'coflux' },
  args: {
    host: { type: 'string' },
    workspace: { type: 'string', alias: 'w' },
    output: { type: 'string', alias: 'o' },
    'log-level': { type: 'string' },
    'no-color': { type: 'boolean' },
  },
  subCommands: { runs: group, submit },
})

const parse = (...argv: string[]) => parseCommandLine(root, argv)

async function usageError(argv: string[]): Promise<string> {
  try {
    await parse(...argv)
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError)
    return (err as Error).message
  }
  throw new Error('expected a usage error')
}

describe('parseCommandLine', () => {
  test('global flags anywhere: before, between and after command words', async () => {
    const line = await parse('--host', 'h', '-w', 'ws', 'runs', '--output', 'json', 'result', 'R1', '--log-level=debug')
    expect(line.path).toEqual(['runs', 'result'])
    expect(line.args).toMatchObject({ host: 'h', workspace: 'ws', output: 'json', 'log-level': 'debug', logLevel: 'debug', target: 'R1' })
    expect(line.positionals).toEqual(['R1'])
  })

  test('short flags with = and group flags before the subcommand', async () => {
    const line = await parse('runs', '--adapter', 'python3,-m,coflux', 'result', '-o=json', '-w=x', 'R1')
    expect(line.args).toMatchObject({ adapter: 'python3,-m,coflux', output: 'json', workspace: 'x' })
  })

  test('booleans: plain, =true/=false, --no-x, and args literally named no-x', async () => {
    expect((await parse('runs', 'result', 'R', '--no-wait')).args['no-wait']).toBe(true)
    expect((await parse('runs', 'result', 'R', '--memo')).args.memo).toBe(true)
    expect((await parse('runs', 'result', 'R', '--no-memo')).args.memo).toBe(false)
    expect((await parse('runs', 'result', 'R', '--memo=false')).args.memo).toBe(false)
    expect((await parse('runs', 'result', 'R')).args.memo).toBeUndefined()
    expect((await parse('--no-color', 'runs', 'result', 'R')).args['no-color']).toBe(true)
    expect(await usageError(['runs', 'result', 'R', '--memo=maybe'])).toContain('expected true or false')
  })

  test('JSON numbers are positionals; -- ends flags', async () => {
    const line = await parse('submit', 'app/main', '-1', '-2.5', '-1e3', '--count', '3', '--', '--not-a-flag')
    expect(line.positionals).toEqual(['app/main', '-1', '-2.5', '-1e3', '--not-a-flag'])
    expect(line.args._).toEqual(line.positionals)
    expect(line.args.arguments).toBe('-1')
  })

  test('repeated flags keep every occurrence in order; listFlag splits with CSV rules', async () => {
    const line = await parse('runs', 'result', 'R', '--requires', 'gpu:A100,region:eu', '--requires', '"x:a,b"')
    expect(line.args.requires).toBe('"x:a,b"')
    expect(line.occurrences.requires).toEqual(['gpu:A100,region:eu', '"x:a,b"'])
    expect(listFlag(line, 'requires')).toEqual(['gpu:A100', 'region:eu', 'x:a,b'])
    expect(line.ordered.map((o) => o.name)).toEqual(['requires', 'requires'])
  })

  test('help, version and the help command', async () => {
    expect((await parse('runs', 'result', '--help')).help).toBe(true)
    expect((await parse('-h')).help).toBe(true)
    expect((await parse('--version')).version).toBe(true)
    const h = await parse('help', 'runs', 'result')
    expect(h.help).toBe(true)
    expect(h.helpFor).toEqual(['runs', 'result'])
  })

  test('usage errors', async () => {
    expect(await usageError(['nope'])).toBe('unknown command "nope"')
    expect(await usageError(['runs', 'nope'])).toBe('unknown command "nope" for "coflux runs"')
    expect(await usageError(['runs', 'result', 'R', '--bogus'])).toBe('unknown flag: --bogus')
    expect(await usageError(['runs', 'result', 'R', '--no-bogus'])).toBe('unknown flag: --no-bogus')
    expect(await usageError(['runs', 'result', 'R', '-x'])).toBe('unknown flag: -x')
    expect(await usageError(['runs', 'result'])).toBe('missing required argument: <target>')
    expect(await usageError(['runs', 'result', 'R', 'extra'])).toBe('unexpected argument "extra" for "coflux runs result"')
    expect(await usageError(['runs', 'result', 'R', '--host'])).toBe('flag needs a value: --host')
    expect(await usageError(['runs', 'result', 'R', '--mode', 'c'])).toContain('expected one of: a, b')
    expect(await usageError(['submit', 'a/b'])).toBe('missing required flag: --count')
  })

  test('the usage error knows the command path', async () => {
    try {
      await parse('runs', 'result', 'R', '--bogus')
    } catch (err) {
      expect((err as UsageError).commandPath).toEqual(['runs', 'result'])
    }
  })

  test('a group without subcommand resolves to the group', async () => {
    const line = await parse('runs')
    expect(line.leaf).toBe(group)
  })
})
