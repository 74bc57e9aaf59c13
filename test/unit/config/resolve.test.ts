import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, isLoopbackHost, resolveConfig, workerLimits } from '../../../internal/config/index.ts'

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'coflux-config-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function withFile(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

describe('resolveConfig', () => {
  test('defaults without a file', () => {
    const { config, warnings } = resolveConfig({ env: {}, cwd: dir })
    expect(config.host).toBe('localhost:7777')
    expect(config.secure).toBe(false)
    expect(config.workspace).toBe('default')
    expect(config.output).toBe('text')
    expect(config.logLevel).toBe('info')
    expect(config.blobs).toEqual({ threshold: 100, stores: [{ type: 'http' }] })
    expect(config.logs).toEqual({ type: 'http', batchSize: 100, flushInterval: 0.5 })
    expect(config.metrics.flushInterval).toBe(0.2)
    expect(config.worker.concurrency).toBeGreaterThanOrEqual(5)
    expect(config.configPath).toBeUndefined()
    expect(warnings).toEqual([])
    expect(Object.isFrozen(config.worker)).toBe(true)
  })

  test('precedence: flag > env > file > default', () => {
    const path = withFile('prec.toml', 'host = "file:1"\nworkspace = "fromfile"\nproject = "p"\n[worker]\nadapter = ["a"]\n')
    const env = { COFLUX_CONFIG: path, COFLUX_HOST: 'env:2', COFLUX_WORKER_ADAPTER: 'x,-m,y' }
    const { config } = resolveConfig({ env, cwd: dir, flags: { workspace: 'flag' } })
    expect(config.host).toBe('env:2')
    expect(config.workspace).toBe('flag')
    expect(config.project).toBe('p')
    expect(config.worker.adapter).toEqual(['x', '-m', 'y'])
    expect(config.configPath).toBe(path)
    expect(resolveConfig({ env, cwd: dir, flags: { host: 'flag:3' } }).config.host).toBe('flag:3')
  })

  test('./coflux.toml is read by default', () => {
    const sub = mkdtempSync(join(dir, 'cwd-'))
    writeFileSync(join(sub, 'coflux.toml'), 'workspace = "here"\n')
    expect(resolveConfig({ env: {}, cwd: sub }).config.workspace).toBe('here')
  })

  test('an explicit missing file is an error, the default one is not', () => {
    expect(() => resolveConfig({ env: {}, cwd: dir, flags: { config: 'nope.toml' } })).toThrow('config file not found: nope.toml')
    expect(() => resolveConfig({ env: { COFLUX_CONFIG: 'nope.toml' }, cwd: dir })).toThrow(ConfigError)
  })

  test('setup: an explicit missing file is the one about to be created', () => {
    const { config } = resolveConfig({ env: { COFLUX_CONFIG: 'nope.toml' }, cwd: dir, allowMissingFile: true })
    expect(config.host).toBe('localhost:7777')
  })

  test('invalid TOML names file and line', () => {
    const path = withFile('bad.toml', 'host = "a"\nworkspace = \n')
    expect(() => resolveConfig({ env: {}, cwd: dir, flags: { config: path } })).toThrow(
      `invalid config file ${path}: line 2: expected a value`,
    )
  })

  test('wrong types are errors', () => {
    const path = withFile('types.toml', '[worker]\nconcurrency = "many"\n')
    expect(() => resolveConfig({ env: {}, cwd: dir, flags: { config: path } })).toThrow("'worker.concurrency' must be an integer")
    const p2 = withFile('types2.toml', 'worker = 3\n')
    expect(() => resolveConfig({ env: {}, cwd: dir, flags: { config: p2 } })).toThrow("'worker' must be a table")
  })

  test('unknown keys warn with suggestions; modules alias', () => {
    const path = withFile('unknown.toml', 'hots = "x"\nmodules = ["a"]\n[worker]\nconcurency = 3\nzzzzzz = 1\n[[blobs.stores]]\nurll = "u"\n')
    const { config, warnings } = resolveConfig({ env: {}, cwd: dir, flags: { config: path } })
    expect(config.worker.modules).toEqual(['a'])
    expect(warnings).toContain(`unknown key 'hots' in ${path} (did you mean 'host'?)`)
    expect(warnings).toContain(`unknown key 'worker.concurency' in ${path} (did you mean 'worker.concurrency'?)`)
    expect(warnings).toContain(`unknown key 'worker.zzzzzz' in ${path}`)
    expect(warnings).toContain(`unknown key 'blobs.stores[0].urll' in ${path} (did you mean 'url'?)`)
    expect(warnings.some((w) => w.includes("'modules'") && w.includes('deprecated'))).toBe(true)
  })

  test('unknown COFLUX_* variables are ignored', () => {
    expect(() => resolveConfig({ env: { COFLUX_LOGS_STORE_FLUSH_INTERVAL: 'x', COFLUX_WHATEVER: '1' }, cwd: dir })).not.toThrow()
  })

  test('boolean environment values', () => {
    for (const t of ['1', 't', 'T', 'TRUE', 'true', 'True']) {
      expect(resolveConfig({ env: { COFLUX_SECURE: t }, cwd: dir }).config.secure).toBe(true)
    }
    for (const f of ['0', 'f', 'F', 'FALSE', 'false', 'False']) {
      expect(resolveConfig({ env: { COFLUX_SECURE: f, COFLUX_HOST: 'example.com' }, cwd: dir }).config.secure).toBe(false)
    }
    expect(() => resolveConfig({ env: { COFLUX_SECURE: 'yes' }, cwd: dir })).toThrow('invalid boolean value for COFLUX_SECURE: "yes"')
  })

  test('integer and list environment values', () => {
    const { config } = resolveConfig({
      env: { COFLUX_WORKER_CONCURRENCY: '3', COFLUX_WORKER_PROVIDES: 'gpu:A100,region:eu', COFLUX_BLOBS_THRESHOLD: '0', COFLUX_LOGS_FLUSH_INTERVAL: '0' },
      cwd: dir,
    })
    expect(config.worker.concurrency).toBe(3)
    expect(config.worker.provides).toEqual(['gpu:A100', 'region:eu'])
    expect(config.blobs.threshold).toBe(0)
    expect(config.logs.flushInterval).toBe(0)
    expect(() => resolveConfig({ env: { COFLUX_WORKER_CONCURRENCY: 'x' }, cwd: dir })).toThrow('COFLUX_WORKER_CONCURRENCY')
  })

  test('max_waiting: flag > env > file > twice the concurrency in effect', () => {
    const path = withFile('waiting.toml', '[worker]\nconcurrency = 3\nmax_waiting = 5\n')
    const fromFile = resolveConfig({ env: {}, cwd: dir, flags: { config: path } }).config.worker
    expect(fromFile.maxWaiting).toBe(5)
    expect(workerLimits(fromFile)).toEqual({ concurrency: 3, maxWaiting: 5 })
    const fromEnv = resolveConfig({ env: { COFLUX_WORKER_MAX_WAITING: '7' }, cwd: dir, flags: { config: path } }).config.worker
    expect(workerLimits(fromEnv)).toEqual({ concurrency: 3, maxWaiting: 7 })
    expect(workerLimits(fromEnv, { maxWaiting: 9 })).toEqual({ concurrency: 3, maxWaiting: 9 })
    // 0 from a flag means "as configured", as for --concurrency
    expect(workerLimits(fromEnv, { concurrency: 0, maxWaiting: 0 })).toEqual({ concurrency: 3, maxWaiting: 7 })

    // unset: twice the concurrency that applies, whichever source set it
    const unset = resolveConfig({ env: {}, cwd: dir }).config.worker
    expect(unset.maxWaiting).toBeUndefined()
    expect(workerLimits(unset).maxWaiting).toBe(2 * unset.concurrency)
    const onlyConcurrency = withFile('only-concurrency.toml', '[worker]\nconcurrency = 4\n')
    expect(workerLimits(resolveConfig({ env: {}, cwd: dir, flags: { config: onlyConcurrency } }).config.worker)).toEqual({ concurrency: 4, maxWaiting: 8 })
    expect(workerLimits(resolveConfig({ env: { COFLUX_WORKER_CONCURRENCY: '6' }, cwd: dir }).config.worker)).toEqual({ concurrency: 6, maxWaiting: 12 })
    expect(workerLimits(unset, { concurrency: 2 })).toEqual({ concurrency: 2, maxWaiting: 4 })
    // not positive: ignored, like concurrency
    expect(resolveConfig({ env: { COFLUX_WORKER_MAX_WAITING: '0' }, cwd: dir }).config.worker.maxWaiting).toBeUndefined()
  })

  test('max_waiting must be an integer', () => {
    const path = withFile('waiting-type.toml', '[worker]\nmax_waiting = "lots"\n')
    expect(() => resolveConfig({ env: {}, cwd: dir, flags: { config: path } })).toThrow("'worker.max_waiting' must be an integer")
    expect(() => resolveConfig({ env: { COFLUX_WORKER_MAX_WAITING: 'x' }, cwd: dir })).toThrow(
      'invalid integer value for COFLUX_WORKER_MAX_WAITING: "x"',
    )
    const { warnings } = resolveConfig({ env: {}, cwd: dir, flags: { config: withFile('waiting-typo.toml', '[worker]\nmax_wating = 3\n') } })
    expect(warnings[0]).toContain("(did you mean 'worker.max_waiting'?)")
  })

  test('metrics intervals are clamped', () => {
    const { config } = resolveConfig({ env: { COFLUX_METRICS_FLUSH_INTERVAL: '0', COFLUX_METRICS_BATCH_SIZE: '-1' }, cwd: dir })
    expect(config.metrics).toEqual({ type: 'http', batchSize: 100, flushInterval: 0.5 })
  })

  test('secure: explicit, scheme, loopback rule', () => {
    const secure = (host: string, env: Record<string, string> = {}) => {
      const { config } = resolveConfig({ env, cwd: dir, flags: { host } })
      return [config.host, config.secure]
    }
    expect(secure('localhost:7777')).toEqual(['localhost:7777', false])
    expect(secure('proj.localhost:7777')).toEqual(['proj.localhost:7777', false])
    expect(secure('127.0.0.1')).toEqual(['127.0.0.1', false])
    expect(secure('[::1]:7777')).toEqual(['[::1]:7777', false])
    expect(secure('coflux.example.com')).toEqual(['coflux.example.com', true])
    expect(secure('http://coflux.example.com/')).toEqual(['coflux.example.com', false])
    expect(secure('https://localhost:8443')).toEqual(['localhost:8443', true])
    expect(secure('https://localhost:8443', { COFLUX_SECURE: 'false' })).toEqual(['localhost:8443', false])
  })

  test('output and log level', () => {
    expect(resolveConfig({ env: { COFLUX_OUTPUT: 'json' }, cwd: dir }).config.output).toBe('json')
    const err = (() => {
      try {
        resolveConfig({ env: {}, cwd: dir, flags: { output: 'yaml' } })
      } catch (e) {
        return e as ConfigError
      }
    })()
    expect(err?.exitCode).toBe(2)
    const compat = resolveConfig({ env: {}, cwd: dir, flags: { output: 'out.bin' }, outputFileCompat: true })
    expect(compat.outputFile).toBe('out.bin')
    expect(compat.config.output).toBe('text')
    expect(resolveConfig({ env: {}, cwd: dir, flags: { logLevel: 'warning' } }).config.logLevel).toBe('warn')
    expect(resolveConfig({ env: {}, cwd: dir, flags: { logLevel: 'chatty' } }).config.logLevel).toBe('warn')
    expect(resolveConfig({ env: { COFLUX_LOG_LEVEL: 'debug' }, cwd: dir }).config.logLevel).toBe('debug')
  })

  test('colour switch', () => {
    expect(resolveConfig({ env: {}, cwd: dir }).config.color).toBe(true)
    expect(resolveConfig({ env: { NO_COLOR: '1' }, cwd: dir }).config.color).toBe(false)
    expect(resolveConfig({ env: { NO_COLOR: '' }, cwd: dir }).config.color).toBe(true)
    expect(resolveConfig({ env: {}, cwd: dir, flags: { noColor: true } }).config.color).toBe(false)
  })

  test('blob stores from the file', () => {
    const path = withFile('stores.toml', '[[blobs.stores]]\ntype = "s3"\nbucket = "b"\nprefix = "p"\n[[blobs.stores]]\nurl = "http://x/blobs/"\n')
    const { config } = resolveConfig({ env: {}, cwd: dir, flags: { config: path } })
    expect(config.blobs.stores).toEqual([
      { type: 's3', bucket: 'b', prefix: 'p' },
      { type: 'http', url: 'http://x/blobs' },
    ])
    const bad = withFile('stores-bad.toml', '[[blobs.stores]]\ntype = "ftp"\n')
    expect(() => resolveConfig({ env: {}, cwd: dir, flags: { config: bad } })).toThrow('"http" or "s3"')
  })

  test('[server] is passed through raw, type-checked', () => {
    const path = withFile('server.toml', '[server]\nport = 9000\nimage = "x"\n')
    expect(resolveConfig({ env: {}, cwd: dir, flags: { config: path } }).config.server).toEqual({ port: 9000, image: 'x' })
    const bad = withFile('server-bad.toml', '[server]\nport = "9000"\n')
    expect(() => resolveConfig({ env: {}, cwd: dir, flags: { config: bad } })).toThrow("'server.port' must be an integer")
  })
})

test('isLoopbackHost', () => {
  expect(isLoopbackHost('localhost')).toBe(true)
  expect(isLoopbackHost('LOCALHOST:1')).toBe(true)
  expect(isLoopbackHost('a.b.localhost:7777')).toBe(true)
  expect(isLoopbackHost('[::1]')).toBe(true)
  expect(isLoopbackHost('localhost.example.com')).toBe(false)
  expect(isLoopbackHost('10.0.0.1:7777')).toBe(false)
})
