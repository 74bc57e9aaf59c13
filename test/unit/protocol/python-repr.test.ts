import { describe, expect, test } from 'bun:test'
import { compareCodePoints } from '../../../internal/protocol/json.ts'
import { pythonStringRepr } from '../../../internal/protocol/python-repr.ts'

// Expected outputs are CPython's repr() (3.11, Unicode 14), copied verbatim.
const VECTORS: [string, string][] = [
  ['', "''"],
  ['a', "'a'"],
  ["it's", `"it's"`],
  ['say "hi"', `'say "hi"'`],
  [`both ' and "`, `'both \\' and "'`],
  ['back\\slash', "'back\\\\slash'"],
  ['tab\there', "'tab\\there'"],
  ['nl\nx', "'nl\\nx'"],
  ['cr\rx', "'cr\\rx'"],
  ['\x00\x1f\x7f', "'\\x00\\x1f\\x7f'"],
  ['é', "'é'"],
  ['\xa0', "'\\xa0'"],
  ['\xad', "'\\xad'"],
  ['\x85', "'\\x85'"],
  ['\u200b', "'\\u200b'"],
  ['\u2028', "'\\u2028'"],
  ['\u3000', "'\\u3000'"],
  ['\ue000', "'\\ue000'"],
  ['\u0378', "'\\u0378'"],
  ['😀', "'😀'"],
  ['\u{e0001}', "'\\U000e0001'"],
  ['\u{f0000}', "'\\U000f0000'"],
  ['\u{10ffff}', "'\\U0010ffff'"],
  ['a b', "'a b'"],
  [' ', "' '"],
  ['日本語', "'日本語'"],
  // JSON can carry an unpaired surrogate; Python escapes it as non-printable (Cs)
  ['\ud800', "'\\ud800'"],
]

describe('pythonStringRepr', () => {
  test.each(VECTORS)('repr(%p)', (input, expected) => {
    expect(pythonStringRepr(input)).toBe(expected)
  })

  test('ordering by repr matches sorted(keys, key=repr)', () => {
    const keys = ['a', 'a b', 'B', 'b', '1', '_', 'é', "it's", '"q', '~', '\x01']
    const sorted = [...keys].sort((x, y) => compareCodePoints(pythonStringRepr(x), pythonStringRepr(y)))
    expect(sorted).toEqual(["it's", '"q', '1', 'B', '\x01', '_', 'a b', 'a', 'b', '~', 'é'])
  })
})
