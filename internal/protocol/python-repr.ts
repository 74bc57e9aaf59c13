/**
 * Python's `repr()` of a `str`, reproduced exactly (CPython `unicode_repr`). The server orders the
 * items of CLI-submitted JSON objects by it, so that they match what a Python adapter produces for
 * the same dict (values.md §2.3, §8.4) and share its cache, memo and defer keys.
 *
 * Printability follows `str.isprintable()`: everything except the general categories Cc, Cf, Cs,
 * Co, Cn, Zl, Zp and Zs (the ASCII space excepted). The categories come from the runtime's ICU
 * tables, so characters assigned in a Unicode version newer than the Python's (or older) can
 * differ; that only affects code points that were unassigned in one of the two.
 */

const NON_PRINTABLE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u

/**
 * `repr(s)` as CPython prints it.
 *
 * @example
 * pythonStringRepr("it's") // → `"it's"`
 * pythonStringRepr('a\u00a0b') // → `'a\xa0b'`
 */
export function pythonStringRepr(s: string): string {
  // CPython picks `"` only when the text has a single quote and no double quote
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'"
  let out = quote
  // iterating a string yields code points; an unpaired surrogate comes out on its own
  for (const ch of s) {
    const cp = ch.codePointAt(0)!
    if (ch === quote || ch === '\\') out += '\\' + ch
    else if (ch === '\t') out += '\\t'
    else if (ch === '\n') out += '\\n'
    else if (ch === '\r') out += '\\r'
    else if (cp < 0x20 || cp === 0x7f) out += '\\x' + hex(cp, 2)
    else if (cp < 0x7f) out += ch
    else if (!NON_PRINTABLE.test(ch)) out += ch
    else if (cp <= 0xff) out += '\\x' + hex(cp, 2)
    else if (cp <= 0xffff) out += '\\u' + hex(cp, 4)
    else out += '\\U' + hex(cp, 8)
  }
  return out + quote
}

function hex(cp: number, width: number): string {
  return cp.toString(16).padStart(width, '0')
}
