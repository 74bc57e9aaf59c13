import { expect, test } from 'bun:test'
import { formatTomlValue, parseBoolean, parseDuration, parseInteger, parseToml, setTomlKeys, splitList } from '../../../internal/config/index.ts'

test('splitList: CSV quoting', () => {
  expect(splitList('a,b, c')).toEqual(['a', 'b', 'c'])
  expect(splitList('"x,y",z')).toEqual(['x,y', 'z'])
  expect(splitList('"say ""hi""",,')).toEqual(['say "hi"'])
  expect(splitList('')).toEqual([])
})

test('parseDuration: Go syntax', () => {
  expect(parseDuration('0')).toBe(0)
  expect(parseDuration('90s')).toBe(90_000)
  expect(parseDuration('2m')).toBe(120_000)
  expect(parseDuration('1h30m')).toBe(5_400_000)
  expect(parseDuration('250ms')).toBe(250)
  expect(parseDuration('1.5s')).toBe(1500)
  expect(parseDuration('10')).toBeUndefined()
  expect(parseDuration('1d')).toBeUndefined()
  expect(parseDuration('')).toBeUndefined()
})

test('parseBoolean and parseInteger', () => {
  expect(parseBoolean('True')).toBe(true)
  expect(parseBoolean('no')).toBeUndefined()
  expect(parseInteger('-3')).toBe(-3)
  expect(parseInteger('3.5')).toBeUndefined()
})

test('setTomlKeys keeps everything else', () => {
  const before = `# my config
host = "old:1"   # comment
custom = 1

[worker]
adapter = [
  "a",
  "b",
]
modules = ["m"]

[logs]
batch_size = 5
`
  const after = setTomlKeys(before, [
    { table: null, key: 'host', value: 'new:2' },
    { table: null, key: 'workspace', value: 'ws' },
    { table: 'worker', key: 'adapter', value: ['.venv/bin/python', '-m', 'coflux'] },
  ])
  expect(after).toBe(`# my config
host = "new:2"
custom = 1
workspace = "ws"

[worker]
adapter = [".venv/bin/python", "-m", "coflux"]
modules = ["m"]

[logs]
batch_size = 5
`)
  expect(parseToml(after)).toEqual({
    host: 'new:2',
    custom: 1,
    workspace: 'ws',
    worker: { adapter: ['.venv/bin/python', '-m', 'coflux'], modules: ['m'] },
    logs: { batch_size: 5 },
  })
})

test('setTomlKeys on an empty file and a missing table', () => {
  const text = setTomlKeys('', [
    { table: null, key: 'host', value: 'h' },
    { table: 'worker', key: 'adapter', value: ['x', 'y "q"'] },
  ])
  expect(text).toBe('host = "h"\n\n[worker]\nadapter = ["x", "y \\"q\\""]\n')
  expect(parseToml(text)).toEqual({ host: 'h', worker: { adapter: ['x', 'y "q"'] } })
  expect(formatTomlValue(3)).toBe('3')
})

test('setTomlKeys adds top-level keys before the first table', () => {
  const text = setTomlKeys('# c\n[worker]\nmodules = []\n', [{ table: null, key: 'host', value: 'h' }])
  expect(text).toBe('# c\nhost = "h"\n[worker]\nmodules = []\n')
})

test('setTomlKeys refuses an edit that would not read back as asked', () => {
  // `worker` is a number here: adding a [worker] table would make the file invalid
  expect(() => setTomlKeys('worker = 3\n', [{ table: 'worker', key: 'adapter', value: ['x'] }])).toThrow(
    "could not set 'worker.adapter' without rewriting the file",
  )
  expect(formatTomlValue(Infinity)).toBe('inf')
  expect(formatTomlValue('tab\there\u007f')).toBe('"tab\\there\\u007f"')
})
