import { describe, expect, test } from 'bun:test'
import { defineCommand } from 'citty'
import { commandEnv, ExitError, memoryIO, run, UsageError, withContext } from '../../../internal/cli-ui/index.ts'
import { ConnectionError } from '../../../internal/client/index.ts'
import { ApiError } from '../../../internal/protocol/errors.ts'

function rootWith(runFn: (ctx: any) => unknown) {
  const leaf = defineCommand({ meta: { name: 'go', description: 'Do it' }, args: { n: { type: 'positional', required: false } }, run: runFn })
  return defineCommand({
    meta: { name: 'coflux', description: 'Test root' },
    args: { output: { type: 'string', alias: 'o' }, 'no-color': { type: 'boolean' }, 'log-level': { type: 'string' } },
    subCommands: { go: leaf, grp: defineCommand({ meta: { name: 'grp', description: 'A group' }, subCommands: { go: leaf } }) },
  })
}

async function exec(argv: string[], runFn: (ctx: any) => unknown = () => {}, env: Record<string, string> = { NO_COLOR: '1' }) {
  const io = memoryIO({ env })
  const code = await run(rootWith(runFn), argv, io)
  return { code, out: io.out(), err: io.err() }
}

describe('run', () => {
  test('success is 0', async () => {
    expect((await exec(['go'])).code).toBe(0)
  })

  test('--version in text and JSON', async () => {
    expect((await exec(['--version'])).out).toBe('coflux version 0.12.0\n')
    expect(JSON.parse((await exec(['--version', '-o', 'json'])).out)).toEqual({ version: '0.12.0', apiVersion: '0.12' })
    expect(JSON.parse((await exec(['--version'], undefined, { COFLUX_OUTPUT: 'json' })).out).apiVersion).toBe('0.12')
  })

  test('help: -h, the help command, and a group without subcommand (exit 0, stdout)', async () => {
    const h = await exec(['go', '-h'])
    expect(h.code).toBe(0)
    expect(h.out).toContain('Usage: coflux go [flags] [n]')
    expect((await exec(['help', 'grp'])).out).toContain('Commands:')
    const g = await exec(['grp'])
    expect(g.code).toBe(0)
    expect(g.out).toContain('A group')
    expect(g.err).toBe('')
  })

  test('help has no ANSI codes off a TTY', async () => {
    // eslint-disable-next-line no-control-regex
    expect((await exec(['--help'], undefined, {})).out).not.toMatch(/\x1b\[/)
  })

  test('usage errors exit 2 with a hint', async () => {
    const r = await exec(['grp', 'go', '--bogus'])
    expect(r.code).toBe(2)
    expect(r.err).toBe("Error: unknown flag: --bogus\nRun 'coflux grp go --help' for usage.\n")
    expect((await exec(['go'], () => { throw new UsageError('bad') })).code).toBe(2)
  })

  test('citty CLIError counts as usage, ANSI stripped', async () => {
    const err = Object.assign(new Error('\x1b[36mbad\x1b[39m thing'), { name: 'CLIError' })
    const r = await exec(['go'], () => { throw err })
    expect(r.code).toBe(2)
    expect(r.err).toStartWith('Error: bad thing\n')
  })

  test('server errors: code verbatim with details; JSON mode adds a JSON line', async () => {
    const apiErr = new ApiError(400, 'bad_request', 'bad_request', { name: 'exists' })
    const r = await exec(['go', '-o', 'json'], () => withContext('failed to create workspace', Promise.reject(apiErr)))
    expect(r.code).toBe(1)
    const [text, json] = r.err.trimEnd().split('\n')
    expect(text).toBe('Error: failed to create workspace: bad_request (details: {"name":"exists"})')
    expect(JSON.parse(json!)).toEqual({
      error: 'bad_request',
      message: 'failed to create workspace: bad_request (details: {"name":"exists"})',
      details: { name: 'exists' },
    })
    expect(r.out).toBe('')
  })

  test('exit codes: unreachable 3, unauthorised 4, ExitError as given', async () => {
    expect((await exec(['go'], () => { throw new ConnectionError('down') })).code).toBe(3)
    expect((await exec(['go'], () => withContext('x', Promise.reject(new ConnectionError('down'))))).code).toBe(3)
    expect((await exec(['go'], () => { throw new ApiError(401, 'unauthorized') })).code).toBe(4)
    expect((await exec(['go'], () => { throw new ApiError(403, 'forbidden') })).code).toBe(4)
    const silent = await exec(['go'], () => { throw new ExitError(1) })
    expect(silent).toEqual({ code: 1, out: '', err: '' })
    expect((await exec(['go'], () => { throw new Error('boom') })).code).toBe(1)
  })

  test('commands resolve config through commandEnv; a bad --output is a usage error', async () => {
    let seen: string | undefined
    await exec(['go', '-o', 'json'], (ctx) => {
      seen = commandEnv(ctx).config.output
    })
    expect(seen).toBe('json')
    const r = await exec(['go', '-o', 'yaml'], (ctx) => commandEnv(ctx))
    expect(r.code).toBe(2)
    expect(r.err).toContain('invalid output format "yaml"')
  })
})
