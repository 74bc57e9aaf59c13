/**
 * `coflux setup` without a terminal (cli.md §8.18): no prompts; flags, then existing values,
 * then defaults; other keys in the file are kept; a missing `-c`/`COFLUX_CONFIG` file is
 * created. Then it checks the server, lists the modules with workflows and, with
 * `--register`, registers them.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { VERSION } from '../../internal/protocol/version.ts'
import { coflux } from './support/cli.ts'
import { startTestServer, type TestServer } from './support/server.ts'

let dir: string
let server: TestServer
beforeAll(async () => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'coflux-setup-')))
  server = await startTestServer()
})
afterAll(async () => {
  await server.cleanup()
  rmSync(dir, { recursive: true, force: true })
})

/** A project with two modules that have workflows (one in a package) and one that has none. */
function makeProject(name: string): string {
  const project = join(dir, name)
  mkdirSync(join(project, 'app'), { recursive: true })
  writeFileSync(join(project, 'app', '__init__.py'), '')
  writeFileSync(join(project, 'app', 'jobs.py'), 'import coflux as cf\n\n\n@cf.workflow()\ndef nightly(day: str) -> str:\n    return day\n')
  writeFileSync(join(project, 'greet.py'), 'from coflux import workflow\n\n\n@workflow()\ndef hello(name: str) -> str:\n    return name\n\n\n@workflow()\ndef bye() -> None:\n    pass\n')
  writeFileSync(join(project, 'helpers.py'), 'def util() -> int:\n    return 1\n')
  return project
}

test('writes defaults and a detected adapter (JSON output)', async () => {
  const project = join(dir, 'My App')
  mkdirSync(join(project, '.venv/bin'), { recursive: true })
  writeFileSync(join(project, '.venv/bin/python'), '')
  const r = await coflux(['setup', '-o', 'json', '--no-check'], { cwd: project })
  expect(r.code).toBe(0)
  expect(r.json).toEqual({
    path: join(project, 'coflux.toml'),
    host: 'localhost:7777',
    workspace: 'my-app',
    adapter: ['.venv/bin/python', '-m', 'coflux'],
    server: null,
    modules: {},
    registered: false,
  })
  expect(readFileSync(join(project, 'coflux.toml'), 'utf8')).toBe(
    'host = "localhost:7777"\nworkspace = "my-app"\n\n[worker]\nadapter = [".venv/bin/python", "-m", "coflux"]\n',
  )
})

test('flags win, existing keys are kept, the -c path is written; text output', async () => {
  const project = join(dir, 'p2')
  mkdirSync(project)
  const path = join(project, 'other.toml')
  writeFileSync(path, '# mine\nhost = "old:1"\ncustom = 5\n\n[worker]\nmodules = ["app"]\nadapter = ["python3", "-m", "coflux"]\n')
  const r = await coflux(['setup', '-c', path, '-H', 'new:2', '-w', 'team/dev', '--adapter', 'uv run python -m coflux', '--no-check'], { cwd: project })
  expect(r.code).toBe(0)
  expect(r.stdout).toBe(`Configuration written to '${path}'.\nRun 'coflux worker <modules...>' to start.\n`)
  expect(readFileSync(path, 'utf8')).toBe(
    '# mine\nhost = "new:2"\ncustom = 5\nworkspace = "team/dev"\n\n[worker]\nmodules = ["app"]\nadapter = ["uv", "run", "python", "-m", "coflux"]\n',
  )
})

test('a missing -c file is created (with its directory); the server is checked, the modules listed and registered', async () => {
  const project = makeProject('registered')
  const path = join(dir, 'configs', 'new', 'coflux.toml')
  const r = await coflux(['setup', '-c', path, '--host', server.host, '-w', 'reg', '--adapter', 'python3 -m coflux', '--register'], { cwd: project })
  expect(r.code).toBe(0)
  expect(r.stdout).toBe(
    [
      `Configuration written to '${path}'.`,
      `✓ Server at ${server.host} answers (version ${VERSION}).`,
      'Modules with workflows:',
      '  app.jobs  nightly',
      '  greet  bye, hello',
      "✓ Registered 2 modules in workspace 'reg'.",
      "Run 'coflux worker app.jobs greet' to start.",
      '',
    ].join('\n'),
  )
  expect(readFileSync(path, 'utf8')).toBe(`host = "${server.host}"\nworkspace = "reg"\n\n[worker]\nadapter = ["python3", "-m", "coflux"]\n`)
  const manifests = await coflux(['manifests', 'inspect', '-o', 'json'], { host: server.host, workspace: 'reg' })
  expect(Object.keys(manifests.json).sort()).toEqual(['app.jobs', 'greet'])
  expect(Object.keys(manifests.json.greet).sort()).toEqual(['bye', 'hello'])
})

test('COFLUX_CONFIG names a file to create; without --register nothing is registered; no server is reported, not fatal', async () => {
  const project = makeProject('unregistered')
  const path = join(project, 'conf', 'coflux.toml')
  const listed = await coflux(['setup', '--host', server.host, '-w', 'unreg', '--adapter', 'python3 -m coflux', '-o', 'json'], { cwd: project, env: { COFLUX_CONFIG: path } })
  expect(listed.code).toBe(0)
  expect(listed.json).toMatchObject({ path, server: { ok: true }, modules: { 'app.jobs': ['nightly'], greet: ['bye', 'hello'] }, registered: false })
  expect(readFileSync(path, 'utf8')).toContain('workspace = "unreg"')
  const workspaces = await coflux(['workspaces', 'list', '-o', 'json'], { host: server.host })
  expect(JSON.stringify(workspaces.json)).not.toContain('unreg')

  // a closed loopback port: the check fails fast and says so; the file is still written
  const down = await coflux(['setup', '--host', 'localhost:1', '--adapter', 'python3 -m coflux'], { cwd: project, env: { COFLUX_CONFIG: path } })
  expect(down.code).toBe(0)
  expect(down.stdout).toContain('✗ No answer from a server at localhost:1: could not connect to the server at localhost:1')
  expect(down.stdout).toContain("Register them with 'coflux manifests register app.jobs greet' (or 'coflux setup --register').")
  expect(readFileSync(path, 'utf8')).toContain('host = "localhost:1"')
})
