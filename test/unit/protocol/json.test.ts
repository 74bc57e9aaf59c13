import { describe, expect, test } from 'bun:test'
import {
  canonicalJson,
  compareCodePoints,
  JsonNumber,
  NonFiniteNumberError,
  parseJson,
  RawJson,
  stringifyJson,
  toNumber,
} from '../../../internal/protocol/json.ts'

const roundTrip = (text: string): string => stringifyJson(parseJson(text))

describe('numbers are kept verbatim', () => {
  test.each(['1.0', '1e-07', '18446744073709551616', '-0', '-0.0', '1E+5', '0.10', '9007199254740993', '1e400'])(
    '%s',
    (text) => {
      expect(roundTrip(text)).toBe(text)
      expect(roundTrip(`[${text},{"n":${text}}]`)).toBe(`[${text},{"n":${text}}]`)
    },
  )

  test('after whitespace too; number-like string content stays a string', () => {
    expect(roundTrip('{"a": [ 1.0 ,\n 2.50],"s":"1.0","v":"0.12.0","t":"a:1.5"}')).toBe('{"a":[1.0,2.50],"s":"1.0","v":"0.12.0","t":"a:1.5"}')
    expect(roundTrip(' -0')).toBe('-0')
  })

  test('numbers JavaScript prints identically stay plain numbers', () => {
    expect(parseJson('42')).toBe(42)
    expect(parseJson('-1.5')).toBe(-1.5)
    expect(parseJson('1e+21')).toBe(1e21)
  })

  test('other numbers carry their text', () => {
    const n = parseJson('1.0')
    expect(n).toBeInstanceOf(JsonNumber)
    expect((n as JsonNumber).text).toBe('1.0')
    expect(toNumber(n)).toBe(1)
    expect(toNumber(parseJson('18446744073709551616'))).toBe(2 ** 64)
    expect(toNumber('1')).toBeUndefined()
  })

  test.each(['NaN', 'Infinity', '-Infinity', '[1, NaN]', '{"a": Infinity}'])('%s is refused', (text) => {
    expect(() => parseJson(text)).toThrow(NonFiniteNumberError)
    expect(() => parseJson(text)).toThrow(SyntaxError)
  })
})

describe('strings', () => {
  test('escapes are decoded and printed canonically', () => {
    expect(roundTrip('"\\u00e9\\/\\u0041"')).toBe('"é/A"')
    expect(roundTrip('"\\ud83d\\ude00"')).toBe('"😀"')
    expect(roundTrip('"😀"')).toBe('"😀"')
    expect(roundTrip('"\\b\\f\\n\\r\\t\\u0001\\u001f\\"\\\\"')).toBe('"\\b\\f\\n\\r\\t\\u0001\\u001f\\"\\\\"')
  })

  test('an unpaired surrogate survives as a lowercase escape', () => {
    const s = parseJson('"a\\uD800b"')
    expect(s).toBe('a\ud800b')
    expect(stringifyJson(s)).toBe('"a\\ud800b"')
    expect(roundTrip('"\\udc00"')).toBe('"\\udc00"')
  })

  test('ascii mode escapes every non-ASCII character', () => {
    expect(stringifyJson({ k: 'é😀' }, { ascii: true })).toBe('{"k":"\\u00e9\\ud83d\\ude00"}')
  })
})

describe('objects', () => {
  test('canonical output sorts keys by code point', () => {
    expect(canonicalJson(parseJson('{"b":1,"a":2,"é":3,"Z":4,"":5}'))).toBe('{"":5,"Z":4,"a":2,"b":1,"é":3}')
    // U+FFFF sorts before U+1F600 by code point, after it by UTF-16 unit
    expect(canonicalJson({ '😀': 1, '\uffff': 2 })).toBe('{"\uffff":2,"😀":1}')
    expect(canonicalJson({ type: 'dict', items: [] })).toBe('{"items":[],"type":"dict"}')
  })

  test('compareCodePoints', () => {
    expect(compareCodePoints('a', 'b')).toBeLessThan(0)
    expect(compareCodePoints('a', 'a ')).toBeLessThan(0)
    expect(compareCodePoints('\uffff', '😀')).toBeLessThan(0)
    expect(compareCodePoints('😀', '\ue000')).toBeGreaterThan(0)
    expect(compareCodePoints('x', 'x')).toBe(0)
  })

  test('later duplicate keys win', () => {
    expect(canonicalJson(parseJson('{"a":1,"b":2,"a":3}'))).toBe('{"a":3,"b":2}')
  })

  test('__proto__ is an ordinary key', () => {
    const v = parseJson('{"__proto__":{"x":1},"a":2}') as Record<string, unknown>
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype)
    expect(Object.keys(v)).toEqual(['__proto__', 'a'])
    expect(canonicalJson(v)).toBe('{"__proto__":{"x":1},"a":2}')
  })

  test('whitespace is dropped', () => {
    expect(roundTrip(' { "a" : [ 1 , 2 ] ,\n\t"b" : null } ')).toBe('{"a":[1,2],"b":null}')
  })

  test('RawJson is spliced verbatim', () => {
    expect(stringifyJson({ values: new RawJson('{"x":1.0}') })).toBe('{"values":{"x":1.0}}')
  })

  test('indentation', () => {
    expect(stringifyJson({ a: [1], b: {} }, { indent: 2 })).toBe('{\n  "a": [\n    1\n  ],\n  "b": {}\n}')
  })
})

describe('invalid input is a SyntaxError', () => {
  test.each(['', '01', '-', '1.', '1e', '[1,]', '{"a"}', '{"a":1,}', '"abc', '"\\x"', '"\\u12"', 'tru', '[1] x', '"a\nb"', "'a'"])(
    '%p',
    (text) => {
      expect(() => parseJson(text)).toThrow(SyntaxError)
    },
  )

  test('nesting deeper than 2048 levels', () => {
    expect(() => parseJson('['.repeat(2048) + ']'.repeat(2048))).not.toThrow()
    expect(() => parseJson('['.repeat(2049) + ']'.repeat(2049))).toThrow(/nested too deeply/)
    expect(() => parseJson('{"a":'.repeat(100_000))).toThrow(SyntaxError)
  })
})
