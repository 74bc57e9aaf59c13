/**
 * What users see from the CLI without a server: help, version, usage errors (exit 2), local
 * argument validation, config file errors and an unreachable server (exit 3).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { coflux } from './support/cli.ts'

/** Nothing listens on port 1 of loopback. */
const DEAD = 'localhost:1'
let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'coflux-cli-e2e-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const ANSI = /\x1b\[/

describe('help and version', () => {
  test('--help lists the commands on stdout, plain text, exit 0', async () => {
    const r = await coflux(['--help'], { cwd: dir })
    expect(r.code).toBe(0)
    for (const cmd of ['submit', 'runs', 'workspaces', 'manifests', 'pools', 'logs', 'queue', 'inputs', 'server', 'worker']) {
      expect(r.stdout).toContain(`  ${cmd}`)
    }
    expect(r.stdout).not.toMatch(ANSI)
    expect(r.stderr).toBe('')
  })

  test('help <command>, -h after the command, and a group without subcommand', async () => {
    const help = await coflux(['help', 'runs', 'inspect'], { cwd: dir })
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('Usage: coflux runs inspect')
    expect(help.stdout).toContain('--no-wait')
    const h = await coflux(['runs', 'inspect', 'R1', '-h'], { cwd: dir })
    expect(h.stdout).toBe(help.stdout)
    const group = await coflux(['pools'], { cwd: dir })
    expect(group.code).toBe(0)
    expect(group.stdout).toContain('Commands:')
    expect(group.stdout).toContain('launches')
  })

  test('--version in text and JSON', async () => {
    const text = await coflux(['--version'], { cwd: dir })
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/^coflux version 0\.12\.\d+\S*\n$/)
    const json = await coflux(['--output', 'json', '--version'], { cwd: dir })
    expect(json.code).toBe(0)
    expect(json.json.apiVersion).toBe('0.12')
    expect(json.json.version).toMatch(/^0\.12\./)
    const env = await coflux(['--version'], { cwd: dir, env: { COFLUX_OUTPUT: 'json' } })
    expect(env.json.apiVersion).toBe('0.12')
  })
})

describe('usage errors exit 2', () => {
  const cases: [string[], string][] = [
    [['frobnicate'], 'Error: unknown command "frobnicate"'],
    [['runs', 'frobnicate'], 'Error: unknown command "frobnicate"'],
    [['runs', 'result', 'R1', '--bogus'], 'Error: unknown flag: --bogus'],
    [['runs', 'result'], 'Error: missing required argument'],
    [['runs', 'result', 'R1', 'R2'], 'Error: unexpected argument "R2"'],
    [['workspaces', 'list', '--workspace'], 'Error: flag needs a value: --workspace'],
    [['workspaces', 'update'], 'Error: nothing to update'],
    [['submit', 'app/main', '--requires', 'a:b', '--no-requires'], 'Error: --requires and --no-requires cannot be used together'],
    [['workspaces', 'list', '-o', 'yaml'], 'Error: invalid output format "yaml"'],
    [['pools', 'create', 'p1'], 'Error: missing required flag: --type'],
    [['worker', 'app', '--concurrency', '-1'], 'Error: invalid value for --concurrency: "-1" (expected a non-negative integer)'],
    [['worker', 'app', '--max-waiting', 'many'], 'Error: invalid value for --max-waiting: "many" (expected a non-negative integer)'],
  ]
  for (const [args, message] of cases) {
    test(args.join(' '), async () => {
      const r = await coflux(['--host', DEAD, ...args], { cwd: dir })
      expect(r.code).toBe(2)
      expect(r.stderr).toStartWith(message)
      expect(r.stderr).toContain("--help' for usage.")
      expect(r.stdout).toBe('')
    })
  }
})

describe('arguments', () => {
  test('invalid JSON argument to submit fails before contacting the server (exit 1)', async () => {
    const r = await coflux(['submit', 'app.flows/main', '1', '{oops', '--host', DEAD], { cwd: dir })
    expect(r.code).toBe(1)
    expect(r.stderr).toStartWith('Error: invalid JSON in argument 2: ')
  })

  test('a target without a slash is rejected', async () => {
    const r = await coflux(['submit', 'main', '--host', DEAD], { cwd: dir })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain("invalid target format: expected 'module/target', got 'main'")
  })

  test('JSON-number positionals are not flags; global flags work after positionals', async () => {
    const r = await coflux(['submit', 'app.flows/main', '-1', '-2.5', '-1e3', '--host', DEAD, '-w', 'x'], { cwd: dir })
    expect(r.code).toBe(3) // parsed fine, then the server is unreachable
  })

  test('an invalid blob key is refused locally', async () => {
    const r = await coflux(['blobs', 'get', 'abc', '--host', DEAD], { cwd: dir })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('invalid blob key')
  })
})

describe('configuration files', () => {
  test('invalid TOML names the file and line (exit 1)', async () => {
    const path = join(dir, 'bad.toml')
    writeFileSync(path, 'host = "localhost:1"\nworkspace = \n')
    const r = await coflux(['workspaces', 'list', '-c', path], { cwd: dir })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`invalid config file ${path}: line 2`)
  })

  test('./coflux.toml that is invalid is an error too', async () => {
    const sub = mkdtempSync(join(dir, 'cwd-'))
    writeFileSync(join(sub, 'coflux.toml'), '[worker\n')
    const r = await coflux(['workspaces', 'list'], { cwd: sub })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('coflux.toml: line 1')
  })

  test('an explicitly named missing file is an error (flag and env)', async () => {
    const flag = await coflux(['workspaces', 'list', '--config', 'missing.toml'], { cwd: dir })
    expect(flag.code).toBe(1)
    expect(flag.stderr).toContain('config file not found: missing.toml')
    const env = await coflux(['workspaces', 'list'], { cwd: dir, env: { COFLUX_CONFIG: 'missing.toml' } })
    expect(env.code).toBe(1)
  })

  test('unknown keys warn with a suggestion and are ignored; the file is used', async () => {
    const path = join(dir, 'typo.toml')
    writeFileSync(path, `host = "${DEAD}"\nworkspce = "x"\n`)
    const r = await coflux(['workspaces', 'list', '-c', path], { cwd: dir })
    expect(r.stderr).toContain("unknown key 'workspce'")
    expect(r.stderr).toContain("(did you mean 'workspace'?)")
    expect(r.code).toBe(3) // host from the file: unreachable
  })

  test('output = "json" in the file makes errors JSON too', async () => {
    const path = join(dir, 'json.toml')
    writeFileSync(path, `host = "${DEAD}"\noutput = "json"\n`)
    const r = await coflux(['workspaces', 'list', '-c', path], { cwd: dir })
    expect(r.code).toBe(3)
    const last = JSON.parse(r.stderr.trimEnd().split('\n').at(-1)!)
    expect(last.error).toBe('connection_failed')
  })

  test('an invalid boolean in the environment is an error', async () => {
    const r = await coflux(['workspaces', 'list'], { cwd: dir, env: { COFLUX_SECURE: 'yes' } })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('invalid boolean value for COFLUX_SECURE: "yes"')
  })
})

describe('unreachable server', () => {
  test('connection refused exits 3 with a clear message', async () => {
    const r = await coflux(['workspaces', 'list', '--host', DEAD], { cwd: dir })
    expect(r.code).toBe(3)
    expect(r.stderr).toStartWith('Error: ')
    expect(r.stderr).toContain('could not connect to the server at localhost:1')
    expect(r.stderr).toContain('connection refused')
    expect(r.stdout).toBe('')
  })

  test('in JSON mode an extra JSON error line follows on stderr; stdout stays empty', async () => {
    const r = await coflux(['runs', 'inspect', 'R1', '--no-wait', '-o', 'json'], { cwd: dir, host: DEAD })
    expect(r.code).toBe(3)
    const lines = r.stderr.trimEnd().split('\n')
    expect(lines[0]).toStartWith('Error: ')
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ error: 'connection_failed' })
    expect(r.stdout).toBe('')
  })
})
