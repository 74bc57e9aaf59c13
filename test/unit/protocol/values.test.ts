import { describe, expect, test } from 'bun:test'
import { ProtocolError } from '../../../internal/protocol/errors.ts'
import { JsonNumber, parseJson, RawJson, stringifyJson, type Json } from '../../../internal/protocol/json.ts'
import {
  canonicalizeData,
  computeStepKey,
  contentHash,
  convertCliArgument,
  formatTraceback,
  frameToObject,
  isBlobKey,
  mimeTypeFor,
  parseExecutorValue,
  parseLogValue,
  parseLogValues,
  parseServerValue,
  parseTraceback,
  toLogValue,
  toTopicValue,
  type ReferenceLookup,
  type ServerReference,
  type ServerValue,
} from '../../../internal/protocol/values.ts'

const sha256 = (text: string | Uint8Array): string => new Bun.CryptoHasher('sha256').update(text).digest('hex')
const KEY_A = 'a'.repeat(64)
const KEY_00 = '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d'
const canonical = (text: string): string => canonicalizeData(parseJson(text)).text

describe('canonicalizeData', () => {
  test('values.md §2.6 examples', () => {
    expect(canonical('42')).toBe('42')
    expect(canonical('"hi"')).toBe('"hi"')
    expect(canonical('null')).toBe('null')
    expect(canonical('[1, {"type":"tuple","items":[2,3]}]')).toBe('[1,{"items":[2,3],"type":"tuple"}]')
    expect(canonical('{"type":"dict","items":["a",{"type":"set","items":[1,2]},"z",1]}')).toBe(
      '{"items":["a",{"items":[1,2],"type":"set"},"z",1],"type":"dict"}',
    )
    expect(canonical('{"type":"duration","value":90.0}')).toBe('{"type":"duration","value":90.0}')
    expect(canonical('{"type":"ref","index":0}')).toBe('{"index":0,"type":"ref"}')
  })

  test('values.md §10: the journey example is 113 canonical bytes', () => {
    const data =
      '{"type":"dict","items":["raw",{"type":"ref","index":0},"rows",[1,2],"when",{"type":"date","value":"2026-05-16"}]}'
    const text = canonical(data)
    expect(text).toBe(
      '{"items":["raw",{"index":0,"type":"ref"},"rows",[1,2],"when",{"type":"date","value":"2026-05-16"}],"type":"dict"}',
    )
    expect(Buffer.byteLength(text)).toBe(113)
  })

  test('RawJson input, also nested, is re-read and re-canonicalised', () => {
    expect(canonicalizeData(new RawJson('{ "b": 1.0, "a": [ 1e-07 ] }')).text).toBe('{"a":[1e-07],"b":1.0}')
    expect(canonicalizeData({ x: new RawJson('{"b":2,"a":1}') }).text).toBe('{"x":{"a":1,"b":2}}')
  })

  test('data that is not JSON is refused', () => {
    expect(() => canonicalizeData(Number.NaN)).toThrow(ProtocolError)
    expect(() => canonicalizeData([Number.POSITIVE_INFINITY])).toThrow(/non-finite/)
    expect(() => canonicalizeData({ a: undefined } as unknown as Json)).toThrow(ProtocolError)
    expect(() => canonicalizeData(new Date() as unknown as Json)).toThrow(ProtocolError)
    expect(() => canonicalizeData(new JsonNumber('1.2.3'))).toThrow(/bad number/)
    expect(() => canonicalizeData(new RawJson('{'))).toThrow(ProtocolError)
  })
})

describe('parseServerValue', () => {
  test('raw data given as a tree or as RawJson', () => {
    const fromTree = parseServerValue(parseJson('["raw", {"type": "dict", "items": ["n", 1]}, []]'))
    const fromText = parseServerValue(['raw', new RawJson('{"type":"dict","items":["n",1]}'), []])
    expect(fromTree[1]).toBeInstanceOf(RawJson)
    expect(stringifyJson(fromTree)).toBe('["raw",{"items":["n",1],"type":"dict"},[]]')
    expect(fromText).toEqual(fromTree)
  })

  test('blob values (values.md §5.2)', () => {
    const key = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'
    const value = parseServerValue(['blob', key, 40960, [['execution', 'RwD6:2:1', 'app.flows', 'fetch']]])
    expect(value).toEqual(['blob', key, 40960, [['execution', 'RwD6:2:1', 'app.flows', 'fetch']]])
  })

  test('references are normalised; only ids are required', () => {
    const value = parseServerValue(
      parseJson(`["raw", null, [["execution", "RwD6:2:1"], ["input", "RwD6/i1"], ["asset", "Ab3d", null, 3, 10752.0],
        ["asset", "Ab3e", 5, "x"], ["fragment", "pickle", "${KEY_A}", 48, {"type": "Point"}]]]`),
    )
    expect(value[2]).toEqual([
      ['execution', 'RwD6:2:1', null, null],
      ['input', 'RwD6/i1'],
      ['asset', 'Ab3d', null, 3, 10752],
      ['asset', 'Ab3e', null, null, null],
      ['fragment', 'pickle', KEY_A, 48, { type: 'Point' }],
    ])
  })

  test.each([
    ['not an array', { type: 'raw' }],
    ['unknown kind', ['inline', 1, []]],
    ['missing references', ['raw', 1]],
    ['references not an array', ['raw', 1, {}]],
    ['bad blob key', ['blob', 'ABC', 1, []]],
    ['upper-case blob key', ['blob', 'A'.repeat(64), 1, []]],
    ['negative size', ['blob', KEY_A, -1, []]],
    ['fractional size', ['blob', KEY_A, 1.5, []]],
    ['unknown reference kind', ['raw', 1, [['thing', 'x']]]],
    ['reference without id', ['raw', 1, [['execution']]]],
    ['fragment with a path', ['raw', 1, [['fragment', 'bytes', '/tmp/x', 1, {}]]]],
    ['fragment without metadata', ['raw', 1, [['fragment', 'bytes', KEY_A, 1]]]],
    ['non-finite data', ['raw', Number.NaN, []]],
  ])('%s is a ProtocolError', (_, raw) => {
    expect(() => parseServerValue(raw)).toThrow(ProtocolError)
  })
})

describe('parseExecutorValue', () => {
  test('inline and file values (executor-protocol.md §8.1)', () => {
    expect(parseExecutorValue(parseJson('{"type":"inline","format":"json","value":{"type":"dict","items":["n",1]},"references":[]}'))).toEqual({
      type: 'inline',
      format: 'json',
      value: { type: 'dict', items: ['n', 1] },
      references: [],
    })
    const file = parseExecutorValue(
      parseJson('{"type":"file","format":"json","path":"/tmp/x","references":[["fragment","bytes","/tmp/coflux_a1",1,{}]]}'),
    )
    expect(file).toEqual({ type: 'file', format: 'json', path: '/tmp/x', references: [['fragment', 'bytes', '/tmp/coflux_a1', 1, {}]] })
    expect(parseExecutorValue({ type: 'inline', format: 'json' })).toEqual({ type: 'inline', format: 'json', value: null, references: [] })
  })

  test('a value without a format is json, as 0.12 read it', () => {
    const value = parseJson('{"type":"inline","value":{"type":"ref","index":0},"references":[["input","RwD6/i1"]]}')
    expect(parseExecutorValue(value)).toEqual({ type: 'inline', format: 'json', value: { type: 'ref', index: 0 }, references: [['input', 'RwD6/i1']] })
    expect(parseExecutorValue({ type: 'file', format: null, path: '/tmp/x' })).toEqual({ type: 'file', format: 'json', path: '/tmp/x', references: [] })
  })

  test('bad shapes', () => {
    expect(() => parseExecutorValue({ type: 'inline', format: 'pickle', value: '' })).toThrow(ProtocolError)
    expect(() => parseExecutorValue({ type: 'file', format: 'json' })).toThrow(ProtocolError)
    expect(() => parseExecutorValue({ type: 'blob', format: 'json' })).toThrow(ProtocolError)
    expect(() => parseExecutorValue([])).toThrow(ProtocolError)
  })
})

describe('content hashes (values.md §5.3, §6.3)', () => {
  test('raw data hashes its canonical text; a blob value is its key', () => {
    const small = JSON.stringify('x'.repeat(50))
    expect(Buffer.byteLength(small)).toBe(52)
    const big = JSON.stringify('x'.repeat(200))
    expect(Buffer.byteLength(big)).toBe(202)
    expect(contentHash(['raw', canonicalizeData('x'.repeat(200)), []])).toBe(sha256(big))
    expect(contentHash(['blob', sha256(big), 202, []])).toBe(sha256(big))
  })

  test('the same data hashes the same whatever its spelling', () => {
    const a = parseServerValue(parseJson('["raw", {"b": 1, "a": 2}, []]'))
    const b = parseServerValue(['raw', new RawJson('{"a":2,"b":1}'), []])
    expect(contentHash(a)).toBe(contentHash(b))
  })
})

describe('computeStepKey (semantics.md §6.2)', () => {
  const raw = (text: string, refs: ServerReference[] = []): ServerValue => ['raw', canonicalizeData(parseJson(text)), refs]

  test('matches the documented derivation', () => {
    const args = [raw('"hello"'), raw('3')]
    const key = computeStepKey('app.flows:pipeline', null, args, true)
    const expected = `["app.flows:pipeline","",[["${sha256('"hello"')}",[]],["${sha256('3')}",[]]]]`
    expect(key).toBeInstanceOf(Uint8Array)
    expect(key.length).toBe(32)
    expect(Buffer.from(key).toString('hex')).toBe(sha256(expected))
  })

  test('raw and blob forms of the same data give the same key', () => {
    const text = JSON.stringify('x'.repeat(200))
    const asBlob: ServerValue = ['blob', sha256(text), 202, []]
    expect(computeStepKey('m:t', '', [raw(text)], true)).toEqual(computeStepKey('m:t', '', [asBlob], true))
  })

  test('params select and order indexes; indexes beyond the arguments are null', () => {
    const args = [raw('1'), raw('2')]
    const key = computeStepKey('m:t', 'v2', args, [1, 0, 5])
    const expected = `["m:t","v2",[["${sha256('2')}",[]],["${sha256('1')}",[]],null]]`
    expect(Buffer.from(key).toString('hex')).toBe(sha256(expected))
    expect(computeStepKey('m:t', null, args, [0])).not.toEqual(computeStepKey('m:t', null, args, [1]))
    expect(computeStepKey('m:t', null, args, [])).toEqual(computeStepKey('m:t', null, [], true))
  })

  test('reference identities leave out names and sizes', () => {
    const refsA: ServerReference[] = [
      ['execution', 'R:1:1', 'app', 'fetch'],
      ['asset', 'Ab3d', 'plots', 2, 5120],
      ['input', 'R/i1'],
      ['fragment', 'pickle', KEY_A, 48, { type: 'Point' }],
    ]
    const refsB: ServerReference[] = [
      ['execution', 'R:1:1'],
      ['asset', 'Ab3d'],
      ['input', 'R/i1'],
      ['fragment', 'pickle', KEY_A, 99, { type: 'Point' }],
    ]
    const data = '{"type":"ref","index":0}'
    const key = computeStepKey('m:t', null, [raw(data, refsA)], true)
    expect(key).toEqual(computeStepKey('m:t', null, [raw(data, refsB)], true))
    const ids = `[["execution","R:1:1"],["asset","Ab3d"],["input","R/i1"],["fragment","pickle","${KEY_A}",{"type":"Point"}]]`
    const expected = `["m:t","",[["${sha256('{"index":0,"type":"ref"}')}",${ids}]]]`
    expect(Buffer.from(key).toString('hex')).toBe(sha256(expected))
    const other = computeStepKey('m:t', null, [raw(data, [['execution', 'R:1:2']])], true)
    expect(other).not.toEqual(key)
  })
})

describe('convertCliArgument (values.md §8)', () => {
  test('the CLI-submit example', () => {
    expect(convertCliArgument('"hello"').text).toBe('"hello"')
    expect(convertCliArgument('3').text).toBe('3')
    expect(convertCliArgument('{"tags": ["x"], "limit": {"rows": 10}}').text).toBe(
      '{"items":["limit",{"items":["rows",10],"type":"dict"},"tags",["x"]],"type":"dict"}',
    )
  })

  test('items are ordered by the Python repr of the keys (values.md §2.3, §8.4)', () => {
    expect(convertCliArgument('{"b": 1, "a": 2}').text).toBe('{"items":["a",2,"b",1],"type":"dict"}')
    // "a" < "a b" by code point, but repr('a b') < repr('a')
    expect(convertCliArgument('{"a": 1, "a b": 2}').text).toBe('{"items":["a b",2,"a",1],"type":"dict"}')
    expect(convertCliArgument(`{"x": 1, "it's": 2}`).text).toBe(`{"items":["it's",2,"x",1],"type":"dict"}`)
    // a non-printable key sorts by its escape: repr('\xa0') is '\\xa0', before 'z'
    expect(convertCliArgument('{"z": 2, "\\u00a0": 1}').text).toBe('{"items":["\u00a0",1,"z",2],"type":"dict"}')
  })

  test('arrays element-wise, scalars and numbers unchanged, nothing else interpreted', () => {
    expect(convertCliArgument('[{"a": 1.0}, 18446744073709551616, 1e-07, "2026-05-16", null, true]').text).toBe(
      '[{"items":["a",1.0],"type":"dict"},18446744073709551616,1e-07,"2026-05-16",null,true]',
    )
    expect(convertCliArgument('{}').text).toBe('{"items":[],"type":"dict"}')
    expect(convertCliArgument('{"type": "set", "items": []}').text).toBe('{"items":["items",[],"type","set"],"type":"dict"}')
  })

  test('invalid JSON is a SyntaxError', () => {
    expect(() => convertCliArgument('{')).toThrow(SyntaxError)
    expect(() => convertCliArgument('hello')).toThrow(SyntaxError)
    expect(() => convertCliArgument('NaN')).toThrow(SyntaxError)
  })
})

describe('object forms', () => {
  const lookup: ReferenceLookup = {
    execution: (id) => (id === 'RwD6:2:1' ? { module: 'app', target: 'step' } : null),
    asset: (id) =>
      id === 'Ab3d'
        ? { name: 'plots', totalCount: 1, totalSize: 5120, entry: { path: 'a.png', blobKey: KEY_A, size: 5120, metadata: { type: 'image/png' } } }
        : null,
  }
  const value = parseServerValue([
    'raw',
    parseJson('[{"type":"ref","index":0},{"type":"ref","index":1},{"type":"ref","index":2},{"type":"ref","index":3},{"type":"ref","index":4}]'),
    [
      ['execution', 'RwD6:2:1'],
      ['asset', 'Ab3d'],
      ['fragment', 'pickle', KEY_A, 812, { type: 'Foo' }],
      ['input', 'RwD6/i1'],
      ['execution', 'RwD6:9:1', 'stored', 'names'],
    ],
  ])

  test('topic form (cli.md §7.1)', () => {
    const topic = toTopicValue(value, lookup)
    expect(topic.type).toBe('raw')
    expect(topic.references).toEqual([
      { type: 'execution', executionId: 'RwD6:2:1', module: 'app', target: 'step' },
      {
        type: 'asset',
        assetId: 'Ab3d',
        asset: { name: 'plots', totalCount: 1, totalSize: 5120, entry: { path: 'a.png', blobKey: KEY_A, size: 5120, metadata: { type: 'image/png' } } },
      },
      { type: 'fragment', format: 'pickle', blobKey: KEY_A, size: 812, metadata: { type: 'Foo' } },
      { type: 'input', inputId: 'RwD6/i1' },
      { type: 'execution', executionId: 'RwD6:9:1', module: 'stored', target: 'names' },
    ])
    expect(toTopicValue(['blob', KEY_A, 7, []], lookup)).toEqual({ type: 'blob', key: KEY_A, size: 7, references: [] })
  })

  test('log form has flat asset references', () => {
    const log = toLogValue(value, lookup)
    expect(log.references[1]).toEqual({ type: 'asset', assetId: 'Ab3d', name: 'plots', totalCount: 1, totalSize: 5120 })
    expect(stringifyJson(log).startsWith('{"type":"raw","data":[{"index":0,"type":"ref"}')).toBe(true)
  })
})

describe('parseLogValue (http-api.md §12)', () => {
  test('the documented example', () => {
    const values = parseLogValues(parseJson('{"data": {"type": "raw", "data": {"id": 42}, "references": []}}'))
    expect(values.data!.type).toBe('raw')
    expect(stringifyJson(values)).toBe('{"data":{"type":"raw","data":{"id":42},"references":[]}}')
    expect(parseLogValues(undefined)).toEqual({})
  })

  test('blob values and every reference kind', () => {
    const value = parseLogValue(
      parseJson(`{"type": "blob", "key": "${KEY_A}", "size": 202, "references": [
        {"type": "execution", "executionId": "R:1:1", "module": "app", "target": "t"},
        {"type": "asset", "assetId": "Ab3d", "name": null, "totalCount": 2, "totalSize": 10752.0},
        {"type": "fragment", "format": "bytes", "blobKey": "${KEY_00}", "size": 1, "metadata": {}},
        {"type": "input", "inputId": "R/i1"}]}`),
    )
    expect(value).toEqual({
      type: 'blob',
      key: KEY_A,
      size: 202,
      references: [
        { type: 'execution', executionId: 'R:1:1', module: 'app', target: 't' },
        { type: 'asset', assetId: 'Ab3d', name: null, totalCount: 2, totalSize: 10752 },
        { type: 'fragment', format: 'bytes', blobKey: KEY_00, size: 1, metadata: {} },
        { type: 'input', inputId: 'R/i1' },
      ],
    })
  })

  test('numbers in data stay exact', () => {
    const value = parseLogValue(parseJson('{"type":"raw","data":[1.0,18446744073709551616],"references":[]}'))
    expect(value.type === 'raw' && value.data.text).toBe('[1.0,18446744073709551616]')
  })

  test.each([
    ['not an object', [1]],
    ['unknown type', { type: 'inline', value: 1 }],
    ['raw without data', { type: 'raw', references: [] }],
    ['bad blob key', { type: 'blob', key: 'x', size: 1, references: [] }],
    ['blob without size', { type: 'blob', key: KEY_A, references: [] }],
    ['references not an array', { type: 'raw', data: 1, references: {} }],
    ['array reference', { type: 'raw', data: 1, references: [['input', 'x']] }],
    ['reference without id', { type: 'raw', data: 1, references: [{ type: 'input' }] }],
    ['unknown reference', { type: 'raw', data: 1, references: [{ type: 'thing' }] }],
  ])('%s is a ProtocolError', (_, raw) => {
    expect(() => parseLogValue(raw)).toThrow(ProtocolError)
  })

  test('values must be an object of log values', () => {
    expect(() => parseLogValues([])).toThrow(ProtocolError)
    expect(() => parseLogValues({ a: 1 })).toThrow(ProtocolError)
  })
})

describe('tracebacks', () => {
  const example =
    'Traceback (most recent call last):\n  File "/app/app/flows.py", line 10, in fetch\n    return 1 / 0\n           ~~^~~\nZeroDivisionError: division by zero\n'

  test('parses the executor-protocol.md §5.6 example', () => {
    expect(parseTraceback(example)).toEqual([['/app/app/flows.py', 10, 'fetch', 'return 1 / 0']])
  })

  test('frames without a code line, nested names', () => {
    const text = [
      'Traceback (most recent call last):',
      '  File "<string>", line 1, in <module>',
      '  File "/app/t.py", line 3, in Outer.method',
      '    raise ValueError("bad input")',
      'ValueError: bad input',
    ].join('\n')
    expect(parseTraceback(text)).toEqual([
      ['<string>', 1, '<module>', null],
      ['/app/t.py', 3, 'Outer.method', 'raise ValueError("bad input")'],
    ])
  })

  test('empty gives no frames; unparseable text one frame holding all of it', () => {
    expect(parseTraceback('')).toEqual([])
    expect(parseTraceback(undefined)).toEqual([])
    expect(parseTraceback('something odd\nhappened')).toEqual([['', 0, '', 'something odd\nhappened']])
  })

  test('formats as select hands it to an executor (executor-protocol.md §6.2)', () => {
    const frames = parseTraceback('  File "/app/t.py", line 3, in f\n    raise ValueError("bad input")')
    expect(formatTraceback(frames)).toBe('  File "/app/t.py", line 3, in f\n    raise ValueError("bad input")')
    expect(formatTraceback([frameToObject(['a.py', 1, 'g', null]), ['b.py', 2, 'h', 'x()']])).toBe(
      '  File "a.py", line 1, in g\n  File "b.py", line 2, in h\n    x()',
    )
    expect(formatTraceback([])).toBe('')
    expect(parseTraceback(formatTraceback(parseTraceback(example)))).toEqual(parseTraceback(example))
  })
})

describe('mimeTypeFor', () => {
  test.each([
    ['report.csv', 'text/csv'],
    ['data.txt', 'text/plain'],
    ['previous/summary.json', 'application/json'],
    ['/data/plot.PNG', 'image/png'],
    ['photo.jpeg', 'image/jpeg'],
    ['archive.tar.gz', 'application/gzip'],
    ['table.parquet', 'application/vnd.apache.parquet'],
    ['arr.npy', 'application/x-npy'],
    ['page.htm', 'text/html'],
  ])('%s → %s', (path, type) => {
    expect(mimeTypeFor(path)).toBe(type)
  })

  test.each(['Makefile', '.bashrc', 'dir.d/file', 'file.unknownext', 'trailing.'])('%s has none', (path) => {
    expect(mimeTypeFor(path)).toBeUndefined()
  })
})

test('isBlobKey', () => {
  expect(isBlobKey(KEY_00)).toBe(true)
  expect(isBlobKey(KEY_00.toUpperCase())).toBe(false)
  expect(isBlobKey(KEY_00 + '0')).toBe(false)
  expect(isBlobKey(42)).toBe(false)
})
