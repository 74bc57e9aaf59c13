import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  AdapterNotConfiguredError,
  detectAdapters,
  parseAdapterFlag,
  resolveAdapterArgv,
} from '../../../internal/adapter/index.ts'
import { defaultConfig } from '../../../internal/config/index.ts'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'coflux-detect-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

const noPath = () => null
const touch = (path: string) => {
  mkdirSync(join(dir, path, '..'), { recursive: true })
  writeFileSync(join(dir, path), '')
}

describe('detectAdapters', () => {
  test('nothing found in an empty directory with nothing on PATH', () => {
    expect(detectAdapters(dir, noPath)).toEqual([])
  })

  test('.venv beats everything, candidates best first', () => {
    touch('.venv/bin/python')
    touch('venv/bin/python')
    touch('poetry.lock')
    const found = detectAdapters(dir, (cmd) => (cmd === 'python3' ? '/usr/bin/python3' : null))
    expect(found.map((a) => a.confidence)).toEqual([100, 90, 80, 20])
    expect(found[0]).toEqual({ argv: ['.venv/bin/python', '-m', 'coflux'], confidence: 100, label: 'Python (.venv/)' })
  })

  test('ties keep table order (poetry before uv)', () => {
    touch('uv.lock')
    touch('poetry.lock')
    const found = detectAdapters(dir, noPath)
    expect(found.map((a) => a.argv[0])).toEqual(['poetry', 'uv'])
  })

  test('uv and python on PATH', () => {
    const found = detectAdapters(dir, (cmd) => (cmd === 'uv' || cmd === 'python' ? `/bin/${cmd}` : null))
    expect(found.map((a) => a.argv)).toEqual([
      ['uv', 'run', '--with', 'coflux', 'python', '-m', 'coflux'],
      ['python', '-m', 'coflux'],
    ])
  })
})

describe('resolveAdapterArgv', () => {
  const config = (adapter: string[]) => ({ ...defaultConfig(), worker: { ...defaultConfig().worker, adapter } })

  test('flag beats config', () => {
    expect(resolveAdapterArgv({ flag: ['a', 'b'], config: config(['c']), cwd: dir })).toEqual({ argv: ['a', 'b'] })
  })

  test('config beats detection', () => {
    touch('.venv/bin/python')
    expect(resolveAdapterArgv({ config: config(['c']), cwd: dir })).toEqual({ argv: ['c'] })
  })

  test('detection is reported', () => {
    touch('.venv/bin/python')
    const r = resolveAdapterArgv({ flag: [], config: config([]), cwd: dir })
    expect(r.argv).toEqual(['.venv/bin/python', '-m', 'coflux'])
    expect(r.detected?.label).toBe('Python (.venv/)')
  })

  test('nothing configured or detected', () => {
    const saved = process.env.PATH
    process.env.PATH = dir
    try {
      expect(() => resolveAdapterArgv({ config: config([]), cwd: dir })).toThrow(AdapterNotConfiguredError)
      expect(() => resolveAdapterArgv({ config: config([]), cwd: dir })).toThrow(
        "no adapter configured; run 'coflux setup' or add 'worker.adapter' to coflux.toml",
      )
    } finally {
      process.env.PATH = saved
    }
  })
})

describe('parseAdapterFlag', () => {
  test('comma-separated', () => {
    expect(parseAdapterFlag('python3,-m,coflux')).toEqual(['python3', '-m', 'coflux'])
  })
  test('JSON array keeps commas', () => {
    expect(parseAdapterFlag('["/opt/a,b/python", "-m", "coflux"]')).toEqual(['/opt/a,b/python', '-m', 'coflux'])
  })
  test('bad JSON array', () => {
    expect(() => parseAdapterFlag('[1, 2]')).toThrow('JSON array of strings')
    expect(() => parseAdapterFlag('[oops')).toThrow('invalid --adapter value')
  })
})
