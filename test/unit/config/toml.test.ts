import { describe, expect, test } from 'bun:test'
import { parseToml, TomlError } from '../../../internal/config/index.ts'

describe('parseToml', () => {
  test('a realistic coflux.toml', () => {
    const text = `# Coflux configuration
host = "localhost:7777"   # the server
workspace = 'dev/alice'
secure = false

[worker]
adapter = [".venv/bin/python", "-m", "coflux"]
modules = [
  "app.flows",  # main
  "app.tasks",
]
concurrency = 8

[[blobs.stores]]
type = "http"
url = "http://localhost:7777/blobs"

[[blobs.stores]]
type = "s3"
bucket = "b"

[logs]
flush_interval = 0.5
`
    expect(parseToml(text)).toEqual({
      host: 'localhost:7777',
      workspace: 'dev/alice',
      secure: false,
      worker: { adapter: ['.venv/bin/python', '-m', 'coflux'], modules: ['app.flows', 'app.tasks'], concurrency: 8 },
      blobs: { stores: [{ type: 'http', url: 'http://localhost:7777/blobs' }, { type: 's3', bucket: 'b' }] },
      logs: { flush_interval: 0.5 },
    })
  })

  test('strings: escapes, literal, multi-line', () => {
    const t = parseToml(
      [
        'a = "tab\\there \\"q\\" \\u00e9 \\U0001F600"',
        "b = 'C:\\path\\no escapes'",
        'c = """',
        'line one',
        'line two"""',
        'd = """one \\',
        '    two"""',
        "e = '''",
        "raw \\n text'''",
        'f = """""quoted"""""',
        'g = ""',
      ].join('\n'),
    )
    expect(t).toEqual({
      a: 'tab\there "q" é 😀',
      b: 'C:\\path\\no escapes',
      c: 'line one\nline two',
      d: 'one two',
      e: 'raw \\n text',
      f: '""quoted""',
      g: '',
    })
  })

  test('numbers and booleans', () => {
    expect(
      parseToml('a = 1_000\nb = -17\nc = 0xff\nd = 0o17\ne = 0b101\nf = 3.14\ng = -1e3\nh = 6.02E+23\ni = inf\nj = true\nk = +5'),
    ).toEqual({ a: 1000, b: -17, c: 255, d: 15, e: 5, f: 3.14, g: -1000, h: 6.02e23, i: Infinity, j: true, k: 5 })
    expect(Number.isNaN(parseToml('x = nan').x)).toBe(true)
  })

  test('dotted and quoted keys, inline tables, nested arrays', () => {
    expect(parseToml('a.b.c = 1\n"quoted key" = 2\nsite."x.y" = 3\nt = { x = 1, y.z = "w" }\narr = [[1, 2], ["a"], []]')).toEqual({
      a: { b: { c: 1 } },
      'quoted key': 2,
      site: { 'x.y': 3 },
      t: { x: 1, y: { z: 'w' } },
      arr: [[1, 2], ['a'], []],
    })
  })

  test('subtables under arrays of tables; implicit tables defined later', () => {
    expect(parseToml('[a.b]\nx = 1\n[a]\ny = 2\n[[p]]\nn = 1\n[p.sub]\nm = 2\n[[p]]\nn = 3')).toEqual({
      a: { b: { x: 1 }, y: 2 },
      p: [{ n: 1, sub: { m: 2 } }, { n: 3 }],
    })
  })

  test('CRLF line endings and a BOM', () => {
    expect(parseToml('\ufeffa = 1\r\n[t]\r\nb = "x"\r\n')).toEqual({ a: 1, t: { b: 'x' } })
  })

  test('__proto__ is an ordinary key', () => {
    const t = parseToml('__proto__ = 1')
    expect(Object.keys(t)).toEqual(['__proto__'])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  test('TOML 1.1: inline tables may span lines', () => {
    expect(parseToml('a = { x = 1,\n y = 2 }')).toEqual({ a: { x: 1, y: 2 } })
  })

  // reasons are smol-toml's, except the two coflux words itself ("expected a value", "strings must be quoted")
  const bad: [string, number, string][] = [
    ['a = ', 1, 'expected a value'],
    ['a = # nothing', 1, 'expected a value'],
    ['a = 1\nb = 2\nc', 3, 'cannot find end of key'],
    ['a = "open', 1, 'unfinished string'],
    ['a = 1\na = 2', 2, 'redefine'],
    ['[t]\n[t]', 2, 'redefine'],
    ['a = 1 b = 2', 1, 'end-of-line'],
    ['a = hello', 1, 'invalid value (strings must be quoted)'],
    ['a = [1, 2', 1, 'end of structure'],
    ['a = "\\q"', 1, 'escape'],
    ['a = 012', 1, 'leading zero'],
    ['t = { x = 1 }\n[t]', 2, 'redefine'],
    ['a = [1]\n[[a]]', 2, 'redefine'],
    ['[x]\n\n\ny = """\nno end', 4, 'unfinished string'],
    ['a = 99999999999999999999', 1, 'losslessly'],
    ['[worker\n', 1, 'key'],
  ]
  for (const [text, line, reason] of bad) {
    test(`error: ${JSON.stringify(text)}`, () => {
      let err: unknown
      try {
        parseToml(text)
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(TomlError)
      expect((err as TomlError).line).toBe(line)
      expect((err as TomlError).message).toStartWith(`line ${line}: `)
      expect((err as TomlError).message).toContain(reason)
      expect((err as TomlError).message).not.toContain('\n')
    })
  }

  test('dates and times are refused by key: no setting takes one', () => {
    expect(() => parseToml('[worker]\nstarted = 1979-05-27')).toThrow("'worker.started' is a date or time")
    expect(() => parseToml('a = [1, 07:32:00]')).toThrow("'a[1]' is a date or time")
  })
})
