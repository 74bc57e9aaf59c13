/**
 * Reading TOML (coflux.toml, pool files) with smol-toml: TOML 1.1, no dependencies, and its
 * errors carry the line. This file only shapes what users see: `TomlError` says `line N: reason`
 * in one line, and dates and times, which no coflux setting takes, are refused by key, so a
 * date never passes for a table or a string further on.
 */
import { parse, TomlDate, TomlError as TomlSyntaxError } from 'smol-toml'

export type TomlValue = string | number | boolean | TomlValue[] | TomlTable
export interface TomlTable {
  [key: string]: TomlValue
}

/** A file that is not TOML (with its 1-based line), or holds a value coflux cannot use. */
export class TomlError extends Error {
  override readonly name = 'TomlError'
  constructor(
    readonly line: number | null,
    readonly reason: string,
  ) {
    super(line === null ? reason : `line ${line}: ${reason}`)
  }
}

/**
 * Parses TOML text into plain objects.
 *
 * @example
 * parseToml('host = "localhost:7777"\n[[blobs.stores]]\ntype = "http"')
 * // {host: 'localhost:7777', blobs: {stores: [{type: 'http'}]}}
 */
export function parseToml(text: string): TomlTable {
  let doc: Record<string, unknown>
  try {
    doc = parse(text)
  } catch (err) {
    if (err instanceof TomlSyntaxError) throw new TomlError(err.line, reasonOf(err, text))
    throw err
  }
  return toPlain(doc, []) as TomlTable
}

/** The library's reason without its prefix and code excerpt; "invalid value" says which. */
function reasonOf(err: TomlSyntaxError, text: string): string {
  const reason = err.message.replace(/^Invalid TOML document: /, '').split('\n')[0]!
  if (reason !== 'invalid value') return reason
  const rest = (text.split(/\r?\n/)[err.line - 1] ?? '').slice(err.column - 1).trim()
  return rest === '' || rest.startsWith('#') ? 'expected a value' : 'invalid value (strings must be quoted)'
}

/** Null-prototype tables become ordinary objects (`__proto__` stays an ordinary key); dates are refused. */
function toPlain(value: unknown, path: string[]): TomlValue {
  if (value instanceof TomlDate) {
    throw new TomlError(null, `'${path.join('.')}' is a date or time, which no setting takes (quote it to make it a string)`)
  }
  if (Array.isArray(value)) return value.map((v, i) => toPlain(v, [...path.slice(0, -1), `${path[path.length - 1] ?? ''}[${i}]`]))
  if (typeof value !== 'object' || value === null) return value as TomlValue
  const out: TomlTable = {}
  for (const [k, v] of Object.entries(value)) {
    Object.defineProperty(out, k, { value: toPlain(v, [...path, k]), enumerable: true, writable: true, configurable: true })
  }
  return out
}
