import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  clearPreparedAdapters,
  extractAdapterFiles,
  extractEmbeddedAdapter,
  prepareAdapter,
  sanitizedEnv,
  SOURCE_ADAPTER_DIR,
} from '../../../internal/adapter/index.ts'
import { VERSION } from '../../../internal/protocol/version.ts'

let root: string
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'coflux-extract-'))
})
afterEach(() => rmSync(root, { recursive: true, force: true }))

const enc = new TextEncoder()
const files = [
  { name: 'coflux/__init__.py', bytes: enc.encode('x = 1\n') },
  { name: 'coflux/sub/mod.py', bytes: enc.encode('y = 2\n') },
]

describe('extractAdapterFiles', () => {
  test('content-addressed, complete, reused', () => {
    const dir = extractAdapterFiles(files, root)
    expect(dir).toStartWith(join(root, `${VERSION}-`))
    expect(dir.slice(-16)).toMatch(/^[0-9a-f]{16}$/)
    expect(readFileSync(join(dir, 'coflux/sub/mod.py'), 'utf8')).toBe('y = 2\n')
    expect(existsSync(join(dir, '.complete'))).toBe(true)
    expect(extractAdapterFiles(files, root)).toBe(dir)
    // no temporary directories left behind
    expect(readdirSync(root)).toEqual([dir.slice(root.length + 1)])
  })

  test('different content, different directory', () => {
    const a = extractAdapterFiles(files, root)
    const b = extractAdapterFiles([{ name: 'coflux/__init__.py', bytes: enc.encode('x = 2\n') }], root)
    expect(a).not.toBe(b)
  })

  test('an incomplete directory (no marker) is replaced', () => {
    const dir = extractAdapterFiles(files, root)
    rmSync(join(dir, '.complete'))
    rmSync(join(dir, 'coflux/sub/mod.py'))
    expect(extractAdapterFiles(files, root)).toBe(dir)
    expect(existsSync(join(dir, 'coflux/sub/mod.py'))).toBe(true)
  })

  test('concurrent extractions agree', async () => {
    const dirs = await Promise.all(Array.from({ length: 5 }, async () => extractAdapterFiles(files, root)))
    expect(new Set(dirs).size).toBe(1)
  })
})

test('not compiled: the source tree is used', async () => {
  expect(await extractEmbeddedAdapter({ XDG_CACHE_HOME: root })).toBe(SOURCE_ADAPTER_DIR)
  expect(existsSync(join(SOURCE_ADAPTER_DIR, 'coflux', '__init__.py'))).toBe(true)
})

test('sanitizedEnv drops secrets only', () => {
  const env = sanitizedEnv({
    PATH: '/bin',
    COFLUX_TOKEN: 't',
    COFLUX_SESSION: 's',
    COFLUX_SUPER_TOKEN: 'x',
    COFLUX_SUPER_TOKEN_HASH: 'h',
    COFLUX_SECRET: 'k',
    COFLUX_HOST: 'h:1',
    UNSET: undefined,
  })
  expect(env).toEqual({ PATH: '/bin', COFLUX_HOST: 'h:1' })
})

describe('prepareAdapter with python3', () => {
  test('bare python3 is resolved to the real interpreter; embedded adapter on PYTHONPATH', async () => {
    clearPreparedAdapters()
    const p = await prepareAdapter(['python3', '-m', 'coflux'], root)
    expect(p.argv[0]).toStartWith('/')
    expect(p.argv.slice(1)).toEqual(['-m', 'coflux'])
    // an empty temp dir cannot import coflux unless the user's site-packages has it
    if (p.env.PYTHONPATH) expect(p.env.PYTHONPATH.split(':')[0]).toBe(SOURCE_ADAPTER_DIR)
    // cached: same object on the second call
    expect(await prepareAdapter(['python3', '-m', 'coflux'], root)).toBe(p)
  })

  test('other adapters are left alone', async () => {
    expect(await prepareAdapter(['node', 'adapter.js'], root)).toEqual({ argv: ['node', 'adapter.js'], env: {} })
  })
})
