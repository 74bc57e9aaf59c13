/**
 * A small TOML reader: the subset coflux.toml needs, done correctly. Tables, arrays of tables,
 * dotted and quoted keys, basic/literal/multi-line strings, integers (dec/hex/oct/bin, `_`),
 * floats (incl. inf/nan), booleans, arrays, inline tables and comments. Dates and times are
 * rejected with a clear message. Errors are `TomlError` with a 1-based line number.
 *
 * Over 400 lines on purpose: the parser is one cursor (`i`, `line`) shared by every rule, and
 * splitting strings or numbers into other files would only pass that state around.
 */

export type TomlValue = string | number | boolean | TomlValue[] | TomlTable
export interface TomlTable {
  [key: string]: TomlValue
}

export class TomlError extends Error {
  override readonly name = 'TomlError'
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`)
  }
}

/** Tables we created implicitly (`[a.b]` creates `a`) may still be defined explicitly once. */
const implicit = new WeakSet<TomlTable>()
/** Tables defined by `[header]` or as a key's value: defining them again is an error. */
const defined = new WeakSet<TomlTable>()
/** Inline tables and static arrays are closed: nothing may be added later. */
const frozen = new WeakSet<object>()
/** Arrays created by `[[header]]`, which further `[[header]]` may extend. */
const tableArrays = new WeakSet<TomlValue[]>()

/**
 * Parses TOML text into plain objects.
 *
 * @example
 * parseToml('host = "localhost:7777"\n[[blobs.stores]]\ntype = "http"')
 * // {host: 'localhost:7777', blobs: {stores: [{type: 'http'}]}}
 */
export function parseToml(text: string): TomlTable {
  return new TomlParser(text).parse()
}

class TomlParser {
  i = 0
  line = 1
  readonly root: TomlTable = Object.create(null)
  current: TomlTable

  constructor(readonly s: string) {
    this.current = this.root
    if (s.charCodeAt(0) === 0xfeff) this.i = 1
  }

  fail(reason: string): never {
    throw new TomlError(this.line, reason)
  }

  parse(): TomlTable {
    const s = this.s
    while (this.i < s.length) {
      this.skipSpaces()
      const c = s[this.i]
      if (c === undefined) break
      if (c === '#') this.skipComment()
      else if (c === '\n' || c === '\r') this.newline()
      else if (c === '[') this.header()
      else {
        this.keyValue(this.current)
        this.endOfLine()
      }
    }
    return toPlain(this.root) as TomlTable
  }

  skipSpaces(): void {
    while (this.s[this.i] === ' ' || this.s[this.i] === '\t') this.i++
  }

  skipComment(): void {
    while (this.i < this.s.length && this.s[this.i] !== '\n') {
      const c = this.s.charCodeAt(this.i)
      if ((c < 0x20 && c !== 9 && c !== 13) || c === 0x7f) this.fail('control character in comment')
      this.i++
    }
  }

  newline(): void {
    if (this.s[this.i] === '\r') {
      if (this.s[this.i + 1] !== '\n') this.fail('bare carriage return')
      this.i++
    }
    this.i++
    this.line++
  }

  /** After a value or header: spaces, an optional comment, then a newline or the end. */
  endOfLine(): void {
    this.skipSpaces()
    if (this.s[this.i] === '#') this.skipComment()
    if (this.i >= this.s.length) return
    if (this.s[this.i] === '\n' || this.s[this.i] === '\r') this.newline()
    else this.fail(`unexpected ${JSON.stringify(this.s[this.i])} after value (one key = value per line)`)
  }

  header(): void {
    const isArray = this.s[this.i + 1] === '['
    this.i += isArray ? 2 : 1
    this.skipSpaces()
    const path = this.key()
    this.skipSpaces()
    if (isArray ? !this.s.startsWith(']]', this.i) : this.s[this.i] !== ']') {
      this.fail(`expected '${isArray ? ']]' : ']'}' to close the table header`)
    }
    this.i += isArray ? 2 : 1
    this.endOfLine()
    let table = this.root
    for (const part of path.slice(0, -1)) table = this.descend(table, part, path)
    const last = path[path.length - 1]!
    const existing = table[last]
    if (isArray) {
      if (existing === undefined) {
        const arr: TomlValue[] = []
        tableArrays.add(arr)
        table[last] = arr
      } else if (!Array.isArray(existing) || !tableArrays.has(existing)) {
        this.fail(`cannot define '${path.join('.')}' as an array of tables: it is already defined`)
      }
      const item: TomlTable = Object.create(null)
      defined.add(item)
      ;(table[last] as TomlValue[]).push(item)
      this.current = item
    } else {
      if (existing === undefined) {
        const t: TomlTable = Object.create(null)
        defined.add(t)
        table[last] = t
        this.current = t
      } else if (isTable(existing) && implicit.has(existing) && !defined.has(existing)) {
        defined.add(existing)
        implicit.delete(existing)
        this.current = existing
      } else {
        this.fail(`table '${path.join('.')}' is defined more than once`)
      }
    }
  }

  /** Walks one header segment: tables are entered, arrays of tables enter their last item. */
  descend(table: TomlTable, part: string, path: string[]): TomlTable {
    const v = table[part]
    if (v === undefined) {
      const t: TomlTable = Object.create(null)
      implicit.add(t)
      table[part] = t
      return t
    }
    if (Array.isArray(v) && tableArrays.has(v)) return v[v.length - 1] as TomlTable
    if (isTable(v) && !frozen.has(v)) return v
    return this.fail(`'${path.join('.')}': '${part}' is not a table`)
  }

  keyValue(target: TomlTable): void {
    const path = this.key()
    this.skipSpaces()
    if (this.s[this.i] !== '=') this.fail(`expected '=' after key '${path.join('.')}'`)
    this.i++
    this.skipSpaces()
    const value = this.value()
    let table = target
    for (const part of path.slice(0, -1)) {
      const v = table[part]
      if (v === undefined) {
        const t: TomlTable = Object.create(null)
        table[part] = t
        table = t
      } else if (isTable(v) && !frozen.has(v) && !defined.has(v)) {
        table = v
      } else {
        this.fail(`cannot add '${path.join('.')}': '${part}' is already defined`)
      }
    }
    const last = path[path.length - 1]!
    if (Object.prototype.hasOwnProperty.call(table, last)) this.fail(`duplicate key '${path.join('.')}'`)
    table[last] = value
  }

  /** A dotted key: bare or quoted parts separated by `.` (whitespace allowed around dots). */
  key(): string[] {
    const parts: string[] = []
    for (;;) {
      this.skipSpaces()
      const c = this.s[this.i]
      if (c === '"') {
        if (this.s.startsWith('"""', this.i)) this.fail('multi-line strings cannot be keys')
        parts.push(this.basicString())
      } else if (c === "'") {
        if (this.s.startsWith("'''", this.i)) this.fail('multi-line strings cannot be keys')
        parts.push(this.literalString())
      } else {
        const start = this.i
        while (this.i < this.s.length && /[A-Za-z0-9_-]/.test(this.s[this.i]!)) this.i++
        if (this.i === start) this.fail(c === undefined || c === '\n' ? 'expected a key' : `invalid character ${JSON.stringify(c)} in key`)
        parts.push(this.s.slice(start, this.i))
      }
      this.skipSpaces()
      if (this.s[this.i] !== '.') return parts
      this.i++
    }
  }

  value(): TomlValue {
    const s = this.s
    const c = s[this.i]
    if (c === '"') return s.startsWith('"""', this.i) ? this.multilineBasic() : this.basicString()
    if (c === "'") return s.startsWith("'''", this.i) ? this.multilineLiteral() : this.literalString()
    if (c === '[') return this.array()
    if (c === '{') return this.inlineTable()
    if (s.startsWith('true', this.i) && !/[A-Za-z0-9_-]/.test(s[this.i + 4] ?? '')) {
      this.i += 4
      return true
    }
    if (s.startsWith('false', this.i) && !/[A-Za-z0-9_-]/.test(s[this.i + 5] ?? '')) {
      this.i += 5
      return false
    }
    if (c === undefined || c === '\n' || c === '\r' || c === '#') this.fail('expected a value')
    return this.number()
  }

  number(): number {
    const m = /^[0-9A-Za-z_+\-.:]+/.exec(this.s.slice(this.i, this.i + 100))
    const tok = m?.[0] ?? ''
    if (tok === '') this.fail(`invalid value starting with ${JSON.stringify(this.s[this.i])}`)
    this.i += tok.length
    if (/^[+-]?inf$/.test(tok)) return tok.startsWith('-') ? -Infinity : Infinity
    if (/^[+-]?nan$/.test(tok)) return NaN
    if (/^\d{4}-\d{2}-\d{2}/.test(tok) || /^\d{2}:\d{2}/.test(tok)) this.fail('dates and times are not supported here')
    if (/^0x[0-9A-Fa-f]+(_[0-9A-Fa-f]+)*$/.test(tok)) return safeInt(parseInt(tok.slice(2).replace(/_/g, ''), 16), this)
    if (/^0o[0-7]+(_[0-7]+)*$/.test(tok)) return safeInt(parseInt(tok.slice(2).replace(/_/g, ''), 8), this)
    if (/^0b[01]+(_[01]+)*$/.test(tok)) return safeInt(parseInt(tok.slice(2).replace(/_/g, ''), 2), this)
    const dec = '(0|[1-9](_?[0-9])*)'
    if (new RegExp(`^[+-]?${dec}$`).test(tok)) return safeInt(Number(tok.replace(/_/g, '')), this)
    const float = new RegExp(`^[+-]?${dec}(\\.[0-9](_?[0-9])*)?([eE][+-]?[0-9](_?[0-9])*)?$`)
    if (float.test(tok)) return Number(tok.replace(/_/g, ''))
    return this.fail(`invalid value ${JSON.stringify(tok)} (strings must be quoted)`)
  }

  basicString(): string {
    this.i++ // opening quote
    let out = ''
    for (;;) {
      const c = this.s[this.i]
      if (c === undefined || c === '\n' || c === '\r') this.fail('unterminated string')
      if (c === '"') {
        this.i++
        return out
      }
      if (c === '\\') out += this.escape()
      else {
        this.checkControl(c)
        out += c
        this.i++
      }
    }
  }

  literalString(): string {
    const start = ++this.i
    for (;;) {
      const c = this.s[this.i]
      if (c === undefined || c === '\n' || c === '\r') this.fail('unterminated string')
      if (c === "'") break
      this.checkControl(c)
      this.i++
    }
    const out = this.s.slice(start, this.i)
    this.i++
    return out
  }

  multilineBasic(): string {
    this.i += 3
    this.trimFirstNewline()
    let out = ''
    for (;;) {
      const c = this.s[this.i]
      if (c === undefined) this.fail('unterminated multi-line string')
      if (this.s.startsWith('"""', this.i)) {
        // up to two quotes may directly precede the closing delimiter
        let extra = 0
        while (extra < 2 && this.s[this.i + 3 + extra] === '"') extra++
        out += '"'.repeat(extra)
        this.i += 3 + extra
        return out
      }
      if (c === '\\') {
        // line-ending backslash: skip whitespace and newlines up to the next content
        const rest = /^\\[ \t]*\r?\n/.exec(this.s.slice(this.i, this.i + 200))
        if (rest) {
          this.i += 1
          while (/[ \t\r\n]/.test(this.s[this.i] ?? '')) {
            if (this.s[this.i] === '\n') this.line++
            this.i++
          }
          continue
        }
        out += this.escape()
        continue
      }
      if (c === '\n') this.line++
      else if (c !== '\r') this.checkControl(c)
      out += c
      this.i++
    }
  }

  multilineLiteral(): string {
    this.i += 3
    this.trimFirstNewline()
    const start = this.i
    for (;;) {
      if (this.i >= this.s.length) this.fail('unterminated multi-line string')
      if (this.s.startsWith("'''", this.i)) {
        let extra = 0
        while (extra < 2 && this.s[this.i + 3 + extra] === "'") extra++
        const out = this.s.slice(start, this.i + extra)
        this.i += 3 + extra
        return out
      }
      const c = this.s[this.i]!
      if (c === '\n') this.line++
      else if (c !== '\r' && c !== '\t') this.checkControl(c)
      this.i++
    }
  }

  trimFirstNewline(): void {
    if (this.s[this.i] === '\n') {
      this.i++
      this.line++
    } else if (this.s.startsWith('\r\n', this.i)) {
      this.i += 2
      this.line++
    }
  }

  checkControl(c: string): void {
    const code = c.charCodeAt(0)
    if ((code < 0x20 && code !== 9) || code === 0x7f) this.fail('control character in string')
  }

  escape(): string {
    const e = this.s[this.i + 1]
    this.i += 2
    switch (e) {
      case 'b': return '\b'
      case 't': return '\t'
      case 'n': return '\n'
      case 'f': return '\f'
      case 'r': return '\r'
      case 'e': return '\x1b'
      case '"': return '"'
      case '\\': return '\\'
      case 'u':
      case 'U': {
        const len = e === 'u' ? 4 : 8
        const hex = this.s.slice(this.i, this.i + len)
        if (!new RegExp(`^[0-9A-Fa-f]{${len}}$`).test(hex)) this.fail(`invalid \\${e} escape`)
        const code = parseInt(hex, 16)
        if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) this.fail(`invalid unicode scalar \\${e}${hex}`)
        this.i += len
        return String.fromCodePoint(code)
      }
      default:
        return this.fail(`invalid escape \\${e ?? ''}`)
    }
  }

  /** Arrays may span lines and hold comments; a trailing comma is allowed. */
  array(): TomlValue[] {
    this.i++
    const out: TomlValue[] = []
    for (;;) {
      this.skipBlank()
      if (this.s[this.i] === ']') {
        this.i++
        break
      }
      out.push(this.value())
      this.skipBlank()
      const c = this.s[this.i]
      if (c === ',') this.i++
      else if (c === ']') {
        this.i++
        break
      } else this.fail(c === undefined ? 'unterminated array' : "expected ',' or ']' in array")
    }
    frozen.add(out)
    return out
  }

  skipBlank(): void {
    for (;;) {
      this.skipSpaces()
      const c = this.s[this.i]
      if (c === '#') this.skipComment()
      else if (c === '\n' || c === '\r') this.newline()
      else return
    }
  }

  /** `{ k = v, … }` on one line, no trailing comma (TOML 1.0). */
  inlineTable(): TomlTable {
    this.i++
    const t: TomlTable = Object.create(null)
    this.skipSpaces()
    if (this.s[this.i] === '}') {
      this.i++
      frozen.add(t)
      return t
    }
    for (;;) {
      this.skipSpaces()
      const next = this.s[this.i]
      if (next === '\n' || next === '\r' || next === undefined) this.fail('inline tables must end on the same line')
      this.keyValue(t)
      this.skipSpaces()
      const c = this.s[this.i]
      if (c === ',') {
        this.i++
        continue
      }
      if (c === '}') {
        this.i++
        break
      }
      this.fail(c === '\n' || c === undefined ? 'inline tables must end on the same line' : "expected ',' or '}' in inline table")
    }
    markFrozen(t)
    return t
  }
}

function safeInt(n: number, p: TomlParser): number {
  if (!Number.isSafeInteger(n)) p.fail('integer out of range')
  return n
}

function isTable(v: TomlValue | undefined): v is TomlTable {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function markFrozen(t: TomlTable): void {
  frozen.add(t)
  for (const v of Object.values(t)) if (isTable(v)) markFrozen(v)
}

/** Null-prototype objects (so `__proto__` is an ordinary key) become ordinary objects. */
function toPlain(v: TomlValue): TomlValue {
  if (Array.isArray(v)) return v.map(toPlain)
  if (!isTable(v)) return v
  const out: TomlTable = {}
  for (const [k, x] of Object.entries(v)) {
    Object.defineProperty(out, k, { value: toPlain(x), enumerable: true, writable: true, configurable: true })
  }
  return out
}
