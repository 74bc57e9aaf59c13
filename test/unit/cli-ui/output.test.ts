import { describe, expect, test } from 'bun:test'
import { createColors, createLogger, memoryIO, Output, renderTable, shouldUseColor } from '../../../internal/cli-ui/index.ts'
import { JsonNumber, parseJson } from '../../../internal/protocol/json.ts'

describe('shouldUseColor', () => {
  test('TTY only, NO_COLOR, --no-color, TERM=dumb, JSON, FORCE_COLOR', () => {
    expect(shouldUseColor({ isTTY: true, env: {} })).toBe(true)
    expect(shouldUseColor({ isTTY: false, env: {} })).toBe(false)
    expect(shouldUseColor({ isTTY: true, env: { NO_COLOR: '1' } })).toBe(false)
    expect(shouldUseColor({ isTTY: true, env: { NO_COLOR: '' } })).toBe(true)
    expect(shouldUseColor({ isTTY: true, env: {}, noColor: true })).toBe(false)
    expect(shouldUseColor({ isTTY: true, env: { TERM: 'dumb' } })).toBe(false)
    expect(shouldUseColor({ isTTY: true, env: {}, json: true })).toBe(false)
    expect(shouldUseColor({ isTTY: false, env: { FORCE_COLOR: '1' } })).toBe(true)
    expect(shouldUseColor({ isTTY: false, env: { FORCE_COLOR: '0' } })).toBe(false)
    expect(shouldUseColor({ isTTY: false, env: { FORCE_COLOR: '1', NO_COLOR: '1' } })).toBe(false)
  })
})

describe('Output', () => {
  const c = createColors(false)

  test('result: JSON (lossless numbers, 2-space indent) or text', () => {
    const io = memoryIO()
    new Output(io, 'json', c, c).result(parseJson('{"a": 1.0, "b": [18446744073709551616]}'), () => 'text')
    expect(io.out()).toBe('{\n  "a": 1.0,\n  "b": [\n    18446744073709551616\n  ]\n}\n')
    const io2 = memoryIO()
    new Output(io2, 'text', c, c).result({ a: new JsonNumber('1.0') }, () => ['x', 'y'])
    expect(io2.out()).toBe('x\ny\n')
  })

  test('note goes to stderr, and not in JSON mode', () => {
    const io = memoryIO()
    new Output(io, 'text', c, c).note('working')
    expect(io.err()).toBe('working\n')
    const io2 = memoryIO()
    new Output(io2, 'json', c, c).note('working')
    expect(io2.err()).toBe('')
  })
})

describe('logger', () => {
  test('text lines on the given stream, never stdout', () => {
    const io = memoryIO()
    const log = createLogger({ level: 'info', json: false, stream: io.stderr, colors: createColors(false) })
    log.info('hello', { n: 1 })
    log.debug('hidden')
    log.withTag('worker').warn('careful')
    const lines = io.err().trimEnd().split('\n')
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO  hello n=1$/)
    expect(lines[1]).toMatch(/WARN  \[worker\] careful$/)
    expect(io.out()).toBe('')
  })

  test('JSON Lines with fields', () => {
    const io = memoryIO()
    const log = createLogger({ level: 'debug', json: true, stream: io.stderr, colors: createColors(false) })
    log.withTag('pool').debug('spawned', { pid: 42 })
    const line = JSON.parse(io.err())
    expect(line).toMatchObject({ level: 'debug', msg: 'spawned', tag: 'pool', pid: 42 })
    expect(typeof line.ts).toBe('number')
  })

  test('identical lines are not throttled', () => {
    const io = memoryIO()
    const log = createLogger({ level: 'info', json: true, stream: io.stderr, colors: createColors(false) })
    for (let i = 0; i < 10; i++) log.info('same')
    expect(io.err().trimEnd().split('\n')).toHaveLength(10)
  })

  test('lines are dropped, not queued forever, when nobody reads the stream', () => {
    let written = ''
    const stream = { write: (s: string) => (written += s), writableLength: 2 << 20 }
    const log = createLogger({ level: 'info', json: false, stream, colors: createColors(false) })
    log.info('lost')
    stream.writableLength = 0
    log.info('kept')
    expect(written).toContain('1 log line dropped')
    expect(written).toContain('kept')
    expect(written).not.toContain('lost')
  })
})

test('renderTable', () => {
  expect(renderTable(['Name', 'State'], [['default', 'active'], ['a', 'paused']], createColors(false))).toEqual([
    'Name     State',
    'default  active',
    'a        paused',
  ])
})
