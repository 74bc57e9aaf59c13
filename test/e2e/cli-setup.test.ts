/**
 * `coflux setup` without a terminal (cli.md §8.18): no prompts; flags, then existing values,
 * then defaults; other keys in the file are kept.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { coflux } from './support/cli.ts'

let dir: string
beforeAll(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'coflux-setup-')))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

test('writes defaults and a detected adapter (JSON output)', async () => {
  const project = join(dir, 'My App')
  mkdirSync(join(project, '.venv/bin'), { recursive: true })
  writeFileSync(join(project, '.venv/bin/python'), '')
  const r = await coflux(['setup', '-o', 'json'], { cwd: project })
  expect(r.code).toBe(0)
  expect(r.json).toEqual({
    path: join(project, 'coflux.toml'),
    host: 'localhost:7777',
    workspace: 'my-app',
    adapter: ['.venv/bin/python', '-m', 'coflux'],
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
  const r = await coflux(['setup', '-c', path, '-H', 'new:2', '-w', 'team/dev', '--adapter', 'uv run python -m coflux'], { cwd: project })
  expect(r.code).toBe(0)
  expect(r.stdout).toBe(`Configuration written to '${path}'.\nRun 'coflux worker <modules...>' to start.\n`)
  expect(readFileSync(path, 'utf8')).toBe(
    '# mine\nhost = "new:2"\ncustom = 5\nworkspace = "team/dev"\n\n[worker]\nmodules = ["app"]\nadapter = ["uv", "run", "python", "-m", "coflux"]\n',
  )
})
