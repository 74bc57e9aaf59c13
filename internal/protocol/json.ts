/**
 * Lossless JSON (values.md §6). Number tokens keep their exact text: a token whose text is what
 * JavaScript would print for its double (`42`, `1.5`) becomes a plain number, anything else
 * (`1.0`, `1e-07`, `18446744073709551616`, `-0`) a `JsonNumber` carrying the text. Printing a
 * parsed tree therefore reproduces every number verbatim. `RawJson` splices already-serialised
 * JSON text (stored value data) into output without re-parsing it.
 */

export class JsonNumber {
  constructor(readonly text: string) {}
  valueOf(): number {
    return Number(this.text)
  }
  toString(): string {
    return this.text
  }
}

/** Pre-serialised JSON text, emitted verbatim by `stringifyJson`. */
export class RawJson {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text
  }
}

export type Json = null | boolean | number | string | JsonNumber | RawJson | Json[] | { [key: string]: Json }

/** A `NaN`/`Infinity` token: Python's encoder writes them, JSON cannot represent them. */
export class NonFiniteNumberError extends SyntaxError {
  override readonly name = 'NonFiniteNumberError'
  constructor() {
    super('value contains NaN or Infinity, which JSON cannot represent')
  }
}

/** Plain objects of the JSON model: not arrays, not the verbatim-number/raw-text leaves. */
export function isJsonObject(value: unknown): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof RawJson) && !(value instanceof JsonNumber)
}

/** An own data property even for `__proto__` (assignment would set the prototype instead). */
export function setOwn<T>(target: { [key: string]: T }, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
}

/** Number of a parsed number-ish value (plain number or JsonNumber). */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value
  if (value instanceof JsonNumber) return Number(value.text)
  return undefined
}

// ---------------------------------------------------------------------------------------------
// Parsing

export function parseJson(text: string): Json {
  if (!MAYBE_LOSSY_NUMBER.test(text)) {
    // Every number token prints back identically, so the native parser gives the same tree, and
    // much faster (executor lines are parsed one by one). Depth is checked the same way.
    let value: Json
    try {
      value = JSON.parse(text) as Json
    } catch {
      return parseSlowly(text) // the same input, for the error message (or NonFiniteNumberError)
    }
    if (text.length <= 2 * MAX_DEPTH || isWithinDepth(value, 0)) return value
  }
  return parseSlowly(text)
}

/**
 * A number token (at the start, or after `:`, `,` or `[`) with a fraction or an exponent, with
 * sixteen digits or more, or `-0`: the only ones whose text may differ from what JavaScript
 * prints for their double. A match inside a string (`"a:1.5"`) only costs the slow path.
 */
const MAYBE_LOSSY_NUMBER = /(?:^|[:,[])\s*(?:-0|-?\d+[.eE]|-?\d{16})/

function parseSlowly(text: string): Json {
  const p = new Parser(text)
  p.ws()
  const value = p.value()
  p.ws()
  if (p.i < text.length) p.fail('unexpected trailing characters')
  return value
}

// Deeper input would overflow JSC's stack with a RangeError (around 7 000 levels), which callers
// treat as an internal error; Python's own recursion limit keeps real values far below this.
// (A text of n characters nests at most n / 2 levels.)
const MAX_DEPTH = 2048

function isWithinDepth(value: Json, depth: number): boolean {
  if (value === null || typeof value !== 'object') return true
  if (depth === MAX_DEPTH) return false
  const items = Array.isArray(value) ? value : Object.values(value)
  for (const item of items) if (!isWithinDepth(item, depth + 1)) return false
  return true
}

class Parser {
  i = 0
  depth = 0
  constructor(readonly s: string) {}

  enter(): void {
    if (++this.depth > MAX_DEPTH) this.fail('nested too deeply')
  }

  fail(msg: string): never {
    throw new SyntaxError(`invalid JSON at position ${this.i}: ${msg}`)
  }

  ws(): void {
    const s = this.s
    let i = this.i
    for (;;) {
      const c = s.charCodeAt(i)
      if (c === 32 || c === 10 || c === 13 || c === 9) i++
      else break
    }
    this.i = i
  }

  value(): Json {
    const c = this.s.charCodeAt(this.i)
    switch (c) {
      case 123: // {
        return this.object()
      case 91: // [
        return this.array()
      case 34: // "
        return this.string()
      case 116: // t
        return this.literal('true', true)
      case 102: // f
        return this.literal('false', false)
      case 110: // n
        return this.literal('null', null)
      case 78: // N
        if (this.s.startsWith('NaN', this.i)) throw new NonFiniteNumberError()
        return this.fail('unexpected character')
      case 73: // I
        if (this.s.startsWith('Infinity', this.i)) throw new NonFiniteNumberError()
        return this.fail('unexpected character')
      default:
        if (c === 45 || (c >= 48 && c <= 57)) return this.number()
        return this.fail(Number.isNaN(c) ? 'unexpected end' : 'unexpected character')
    }
  }

  literal<T extends Json>(word: string, value: T): T {
    if (!this.s.startsWith(word, this.i)) this.fail('unexpected token')
    this.i += word.length
    return value
  }

  object(): { [key: string]: Json } {
    const out: { [key: string]: Json } = {}
    this.enter()
    this.i++
    this.ws()
    if (this.s.charCodeAt(this.i) === 125) {
      this.i++
      this.depth--
      return out
    }
    for (;;) {
      if (this.s.charCodeAt(this.i) !== 34) this.fail('expected string key')
      const key = this.string()
      this.ws()
      if (this.s.charCodeAt(this.i) !== 58) this.fail("expected ':'")
      this.i++
      this.ws()
      const v = this.value()
      // later duplicates win (values.md §6.1); defineProperty keeps `__proto__` an own key
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true })
      this.ws()
      const c = this.s.charCodeAt(this.i)
      if (c === 44) {
        this.i++
        this.ws()
      } else if (c === 125) {
        this.i++
        this.depth--
        return out
      } else this.fail("expected ',' or '}'")
    }
  }

  array(): Json[] {
    const out: Json[] = []
    this.enter()
    this.i++
    this.ws()
    if (this.s.charCodeAt(this.i) === 93) {
      this.i++
      this.depth--
      return out
    }
    for (;;) {
      out.push(this.value())
      this.ws()
      const c = this.s.charCodeAt(this.i)
      if (c === 44) {
        this.i++
        this.ws()
      } else if (c === 93) {
        this.i++
        this.depth--
        return out
      } else this.fail("expected ',' or ']'")
    }
  }

  string(): string {
    const s = this.s
    const start = ++this.i
    let i = start
    // fast path: no escapes
    for (;;) {
      const c = s.charCodeAt(i)
      if (c === 34) {
        this.i = i + 1
        return s.slice(start, i)
      }
      if (c === 92) break
      if (c < 32 || Number.isNaN(c)) {
        this.i = i
        this.fail(Number.isNaN(c) ? 'unterminated string' : 'control character in string')
      }
      i++
    }
    let out = s.slice(start, i)
    for (;;) {
      const c = s.charCodeAt(i)
      if (c === 34) {
        this.i = i + 1
        return out
      }
      if (Number.isNaN(c) || c < 32) {
        this.i = i
        this.fail(Number.isNaN(c) ? 'unterminated string' : 'control character in string')
      }
      if (c !== 92) {
        out += s[i]
        i++
        continue
      }
      const e = s[i + 1]
      i += 2
      switch (e) {
        case '"': out += '"'; break
        case '\\': out += '\\'; break
        case '/': out += '/'; break
        case 'b': out += '\b'; break
        case 'f': out += '\f'; break
        case 'n': out += '\n'; break
        case 'r': out += '\r'; break
        case 't': out += '\t'; break
        case 'u': {
          const hex = s.slice(i, i + 4)
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
            this.i = i
            this.fail('bad unicode escape')
          }
          out += String.fromCharCode(parseInt(hex, 16))
          i += 4
          break
        }
        default:
          this.i = i - 1
          this.fail('bad escape')
      }
    }
  }

  number(): number | JsonNumber {
    const s = this.s
    const start = this.i
    let i = start
    if (s.charCodeAt(i) === 45) {
      i++
      if (s.startsWith('Infinity', i)) throw new NonFiniteNumberError()
    }
    const digitsFrom = i
    while (isDigit(s.charCodeAt(i))) i++
    if (i === digitsFrom) this.fail('bad number')
    if (s.charCodeAt(digitsFrom) === 48 && i - digitsFrom > 1) this.fail('leading zero')
    if (s.charCodeAt(i) === 46) {
      i++
      const f = i
      while (isDigit(s.charCodeAt(i))) i++
      if (i === f) this.fail('bad fraction')
    }
    const e = s.charCodeAt(i)
    if (e === 101 || e === 69) {
      i++
      const sign = s.charCodeAt(i)
      if (sign === 43 || sign === 45) i++
      const f = i
      while (isDigit(s.charCodeAt(i))) i++
      if (i === f) this.fail('bad exponent')
    }
    this.i = i
    const text = s.slice(start, i)
    const n = Number(text)
    return String(n) === text ? n : new JsonNumber(text)
  }
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57
}

// ---------------------------------------------------------------------------------------------
// Printing

export interface StringifyOptions {
  /** sort object keys by code point (values.md §6.1) */
  canonical?: boolean
  /** escape every non-ASCII character as \uXXXX (the worker's executor lines) */
  ascii?: boolean
  /** pretty-print with this many spaces */
  indent?: number
}

export function stringifyJson(value: unknown, options: StringifyOptions = {}): string {
  const out: string[] = []
  write(value, options, out, '')
  const text = out.join('')
  return options.ascii ? escapeNonAscii(text) : text
}

/** Canonical text (values.md §6.1): what value hashes and blob keys are computed from. */
export function canonicalJson(value: unknown): string {
  return stringifyJson(value, { canonical: true })
}

export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x === y) continue
    // surrogates (astral code points) sort after every BMP character
    const xs = x >= 0xd800 && x <= 0xdfff
    const ys = y >= 0xd800 && y <= 0xdfff
    if (xs !== ys) return xs ? 1 : -1
    return x - y
  }
  return a.length - b.length
}

// Loops rather than forEach closures: this runs for every frame and executor line, and JSC's
// optimising tiers compile closures inlined into a recursive function slowly.
function write(v: unknown, o: StringifyOptions, out: string[], pad: string): void {
  if (v === null || v === undefined) {
    out.push('null')
    return
  }
  switch (typeof v) {
    case 'string':
      out.push(quote(v))
      return
    case 'number':
      out.push(Number.isFinite(v) ? String(v) : 'null')
      return
    case 'boolean':
      out.push(v ? 'true' : 'false')
      return
    case 'bigint':
      out.push(v.toString())
      return
    case 'object':
      break
    default:
      out.push('null')
      return
  }
  if (v instanceof JsonNumber || v instanceof RawJson) {
    out.push(v.text)
    return
  }
  const inner = o.indent ? pad + ' '.repeat(o.indent) : ''
  const nl = o.indent ? '\n' : ''
  if (Array.isArray(v)) {
    if (v.length === 0) {
      out.push('[]')
      return
    }
    out.push('[', nl)
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out.push(',', nl)
      out.push(inner)
      const item: unknown = v[i]
      write(item === undefined ? null : item, o, out, inner)
    }
    out.push(nl, pad, ']')
    return
  }
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function' && !(v instanceof Uint8Array)) {
    write((v as { toJSON(): unknown }).toJSON(), o, out, pad)
    return
  }
  const record = v as Record<string, unknown>
  let keys = Object.keys(record)
  if (o.canonical) keys = keys.sort(compareCodePoints)
  let isFirst = true
  for (const k of keys) {
    const item = record[k]
    if (item === undefined) continue
    out.push(isFirst ? '{' : ',', nl, inner, quote(k), o.indent ? ': ' : ':')
    isFirst = false
    write(item, o, out, inner)
  }
  out.push(isFirst ? '{}' : nl + pad + '}')
}

/** A quote, a backslash, a control character or a surrogate: the string needs escaping. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/

function quote(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`
}

function escapeNonAscii(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[^\x00-\x7f]/g, (ch) => '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0'))
}
