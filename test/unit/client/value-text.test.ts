import { describe, expect, test } from 'bun:test'
import {
  formatDuration,
  formatSize,
  renderLogMessage,
  renderValue,
  renderValueData,
  type RenderableReference,
  type RenderableValue,
} from '../../../internal/client/value-text.ts'
import { parseJson, RawJson, type Json } from '../../../internal/protocol/json.ts'

const KEY = 'a'.repeat(64)
const text = (json: string, refs: RenderableReference[] = []): string => renderValueData(parseJson(json), refs)
const raw = (data: Json, references: RenderableReference[] = []): RenderableValue => ({ type: 'raw', data, references })

describe('renderValueData (values.md §9)', () => {
  test('scalars', () => {
    expect(text('"hello"')).toBe('"hello"')
    expect(text('"say \\"hi\\"\\n"')).toBe('"say \\"hi\\"\\n"')
    expect(text('true')).toBe('True')
    expect(text('false')).toBe('False')
    expect(text('null')).toBe('None')
  })

  test.each([
    ['42', '42'],
    ['18446744073709551616', '18446744073709551616'],
    ['-0', '-0'],
    ['1.0', '1'],
    ['0.5', '0.5'],
    ['1e21', '1e+21'],
    ['1e-07', '1e-7'],
    ['2.50', '2.5'],
    ['-3.0', '-3'],
    ['1e400', 'inf'],
  ])('number %s → %s', (json, expected) => {
    expect(text(json)).toBe(expected)
  })

  test('lists, sets, tuples', () => {
    expect(text('[1, "a", null]')).toBe('[1, "a", None]')
    expect(text('[]')).toBe('[]')
    expect(text('{"type":"set","items":[1,2]}')).toBe('{1, 2}')
    expect(text('{"type":"set","items":[]}')).toBe('∅')
    expect(text('{"type":"tuple","items":[1,2]}')).toBe('(1, 2)')
    expect(text('{"type":"tuple","items":[1]}')).toBe('(1)')
    expect(text('{"type":"tuple","items":[]}')).toBe('()')
    expect(text('[1, {"type":"tuple","items":[2,3]}]')).toBe('[1, (2, 3)]')
  })

  test('dicts are multi-line, two spaces per level', () => {
    expect(text('{"type":"dict","items":[]}')).toBe('{}')
    expect(text('{"type":"dict","items":["limit",{"type":"dict","items":["rows",10]},"tags",["x"]]}')).toBe(
      '{\n  "limit" ↦ {\n    "rows" ↦ 10\n  }\n  "tags" ↦ ["x"]\n}',
    )
    expect(text('{"type":"dict","items":["z",1,"a",{"type":"set","items":[1,2]}]}')).toBe('{\n  "z" ↦ 1\n  "a" ↦ {1, 2}\n}')
    expect(text('{"type":"dict","items":[{"type":"tuple","items":[1,2]},"pair"]}')).toBe('{\n  (1, 2) ↦ "pair"\n}')
  })

  test('tagged scalars print their text', () => {
    expect(text('{"type":"datetime","value":"2026-05-16T12:00:00+00:00"}')).toBe('2026-05-16T12:00:00+00:00')
    expect(text('{"type":"date","value":"2026-05-16"}')).toBe('2026-05-16')
    expect(text('{"type":"time","value":"12:30:00"}')).toBe('12:30:00')
    expect(text('{"type":"decimal","value":"0.10"}')).toBe('0.10')
    expect(text('{"type":"uuid","value":"00000000-0000-0000-0000-000000000001"}')).toBe('00000000-0000-0000-0000-000000000001')
    expect(text('{"type":"duration","value":90.0}')).toBe('1m30s')
    expect(text('{"type":"duration","value":90.5}')).toBe('1m30.5s')
  })

  test('plain objects print like dicts with keys in code-point order', () => {
    expect(text('{"b": 1, "a": {"id": 42}}')).toBe('{\n  "a" ↦ {\n    "id" ↦ 42\n  }\n  "b" ↦ 1\n}')
    expect(text('{"type":"thing","value":1}')).toBe('{\n  "type" ↦ "thing"\n  "value" ↦ 1\n}')
    // a malformed tag is shown as it is rather than guessed at
    expect(text('{"type":"dict","items":["odd"]}')).toBe('{\n  "items" ↦ ["odd"]\n  "type" ↦ "dict"\n}')
    expect(text('{}')).toBe('{}')
  })

  test('references', () => {
    const refs: RenderableReference[] = [
      { type: 'execution', executionId: 'RwD6:2:1', module: 'app.flows', target: 'fetch' },
      { type: 'asset', assetId: 'Ab3d', asset: { name: 'plots', totalCount: 2, totalSize: 1258291, entry: null } },
      { type: 'asset', assetId: 'Ab3e', name: null, totalCount: 3, totalSize: 10752 },
      { type: 'fragment', format: 'pickle', blobKey: KEY, size: 812, metadata: { type: 'Foo' } },
      { type: 'input', inputId: 'RwD6/i1' },
      { type: 'execution', executionId: 'RwD6:3:1', module: null, target: null },
    ]
    const ref = (i: number): string => text(`{"type":"ref","index":${i}}`, refs)
    expect(ref(0)).toBe('<execution app.flows/fetch>')
    expect(ref(1)).toBe('<asset "plots" (2 files, 1.2MiB)>')
    expect(ref(2)).toBe('<asset (3 files, 10.5KiB)>')
    expect(ref(3)).toBe('<fragment pickle (812 bytes)>')
    expect(ref(4)).toBe('<input RwD6/i1>')
    expect(ref(5)).toBe('<execution RwD6:3:1>')
    expect(ref(6)).toBe('<ref ?>')
    expect(ref(-1)).toBe('<ref ?>')
  })

  test('values.md §10: the journey example', () => {
    const data = new RawJson(
      '{"items":["raw",{"index":0,"type":"ref"},"rows",[1,2],"when",{"type":"date","value":"2026-05-16"}],"type":"dict"}',
    )
    const refs: RenderableReference[] = [{ type: 'fragment', format: 'bytes', blobKey: KEY, size: 1, metadata: {} }]
    expect(renderValueData(data, refs)).toBe(
      '{\n  "raw" ↦ <fragment bytes (1 bytes)>\n  "rows" ↦ [1, 2]\n  "when" ↦ 2026-05-16\n}',
    )
  })

  test('colours are applied through the injected functions', () => {
    const tag = (name: string) => (s: string) => `<${name}>${s}</${name}>`
    const colors = { string: tag('s'), number: tag('n'), keyword: tag('k'), reference: tag('r'), muted: tag('m') }
    expect(renderValueData(parseJson('{"type":"dict","items":["a",[1,null,{"type":"ref","index":0}]]}'), [], colors)).toBe(
      '{\n  <s>"a"</s> <m>↦</m> [<n>1</n>, <k>None</k>, <r><ref ?></r>]\n}',
    )
    expect(renderValueData('x', [], { number: tag('n') })).toBe('"x"')
  })
})

describe('renderValue', () => {
  test('blobs print their size', () => {
    expect(renderValue({ type: 'blob', key: KEY, size: 40960, references: [] })).toBe('<blob (40.0KiB)>')
    expect(renderValue(raw(new RawJson('[1.0]')))).toBe('[1]')
  })
})

describe('formatSize', () => {
  test.each([
    [0, '0 bytes'],
    [1, '1 bytes'],
    [1023, '1023 bytes'],
    [1024, '1.0KiB'],
    [1536, '1.5KiB'],
    [1258291, '1.2MiB'],
    [5 * 1024 ** 3, '5.0GiB'],
    [3 * 1024 ** 4, '3.0TiB'],
    [2048 * 1024 ** 4, '2048.0TiB'],
  ])('%d → %s', (bytes, expected) => {
    expect(formatSize(bytes)).toBe(expected)
  })
})

describe('formatDuration', () => {
  test.each([
    [0, '0s'],
    [90.5, '1m30.5s'],
    [3600, '1h'],
    [93784.5, '1d2h3m4.5s'],
    [86400, '1d'],
    [-86400, '-1d'],
    [3661.1, '1h1m1.1s'],
    [0.25, '0.25s'],
    [1e-7, '0.0000001s'],
    [60, '1m'],
    [1e21, '11574074074074074d1h46m40s'],
  ])('%p → %s', (seconds, expected) => {
    expect(formatDuration(seconds)).toBe(expected)
  })
})

describe('renderLogMessage (cli.md §8.15)', () => {
  test('placeholders are replaced; other values follow as key=value in key order', () => {
    const values = { count: raw(120), url: raw('https://example.com') }
    expect(renderLogMessage('fetched {count} rows from {url}', values)).toBe('fetched 120 rows from "https://example.com"')
    expect(renderLogMessage('fetched {count} rows', values)).toBe('fetched 120 rows url="https://example.com"')
    expect(renderLogMessage('done', { z: raw(1), a: raw(true) })).toBe('done a=True z=1')
  })

  test('no template, unknown placeholders, blobs', () => {
    expect(renderLogMessage(null, { x: raw(1) })).toBe('x=1')
    expect(renderLogMessage('hello from print', {})).toBe('hello from print')
    expect(renderLogMessage('{missing} stays', {})).toBe('{missing} stays')
    expect(renderLogMessage('got {data}', { data: { type: 'blob', key: KEY, size: 2048, references: [] } })).toBe(
      'got <blob (2.0KiB)>',
    )
    expect(renderLogMessage('{v}', { v: raw(new RawJson('{"items":["id",42],"type":"dict"}')) })).toBe('{\n  "id" ↦ 42\n}')
    expect(renderLogMessage(null, {})).toBe('')
  })

  test('the muted colour marks keys of appended values', () => {
    expect(renderLogMessage('m', { k: raw(1) }, { muted: (s) => `[${s}]` })).toBe('m [k=]1')
  })
})
