/**
 * Setting a few keys in an existing TOML file for `coflux setup`, keeping every other line
 * (comments, blank lines, unknown keys, formatting) exactly as it was.
 *
 * Kept as our own small layer, not a library: smol-toml, like the other maintained JavaScript TOML
 * libraries, parses to plain data and writes data back, so a round trip drops the user's
 * comments and layout, which `setup` must keep (test/e2e/cli-setup.test.ts). The editors that do
 * keep them have few users (about 2k and 7k npm downloads a month, against 30M for smol-toml).
 * This layer only replaces or adds `key = value` lines in the top level or one `[table]`; values
 * are written by smol-toml, and each result is parsed back with it and compared before it is
 * returned, so an edit never leaves a file that reads differently from what was asked.
 */
import { parse, stringify } from 'smol-toml'

export type TomlWritable = string | number | boolean | TomlWritable[]

/** TOML text for a value: scalars as smol-toml writes them, lists on one line (`["a", "b"]`). */
export function formatTomlValue(value: TomlWritable): string {
  if (Array.isArray(value)) return `[${value.map((v) => formatTomlValue(v)).join(', ')}]`
  // the library writes values only inside a table: `v = <value>\n`
  return stringify({ v: value }).slice('v = '.length).trimEnd()
}

export interface TomlUpdate {
  /** `null` = top level */
  table: string | null
  key: string
  value: TomlWritable
}

const HEADER = /^\s*\[\s*([^[\]]+?)\s*\]\s*(#.*)?$/
const ARRAY_HEADER = /^\s*\[\[/

/**
 * Returns `text` with each update applied: an existing `key = …` (possibly a multi-line array)
 * in the right table is replaced in place; otherwise the line is added at the end of that table,
 * or a new table is appended. Throws when `text` is not TOML, or the edit would not read back
 * as the values given.
 *
 * @example
 * setTomlKeys('# mine\nhost = "a"\n', [{ table: null, key: 'host', value: 'b' }]) // '# mine\nhost = "b"\n'
 */
export function setTomlKeys(text: string, updates: TomlUpdate[]): string {
  let lines = text === '' ? [] : text.replace(/\r\n/g, '\n').split('\n')
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
  for (const u of updates) lines = applyUpdate(lines, u)
  const out = lines.join('\n') + '\n'
  const wrong = updates.find((u) => !readsBack(out, u))
  if (wrong) throw new Error(`could not set '${wrong.table === null ? '' : `${wrong.table}.`}${wrong.key}' without rewriting the file; edit it by hand`)
  return out
}

/** Whether `text` parses and holds `u.value` at `u.key`. */
function readsBack(text: string, u: TomlUpdate): boolean {
  let doc: Record<string, unknown>
  try {
    doc = parse(text)
  } catch {
    return false
  }
  const table = u.table === null ? doc : doc[u.table]
  return typeof table === 'object' && table !== null && JSON.stringify((table as Record<string, unknown>)[u.key]) === JSON.stringify(u.value)
}

function applyUpdate(lines: string[], u: TomlUpdate): string[] {
  const newLine = `${u.key} = ${formatTomlValue(u.value)}`
  const { start, end, found } = sectionRange(lines, u.table)
  if (!found) {
    const out = [...lines]
    if (out.length > 0 && out[out.length - 1]!.trim() !== '') out.push('')
    out.push(`[${u.table}]`, newLine)
    return out
  }
  const keyRe = new RegExp(`^\\s*(${escapeRe(u.key)}|"${escapeRe(u.key)}")\\s*=`)
  for (let i = start; i < end; i++) {
    if (keyRe.test(lines[i]!)) {
      const last = valueEndLine(lines, i)
      return [...lines.slice(0, i), newLine, ...lines.slice(last + 1)]
    }
  }
  // insert after the section's last non-blank line
  let at = end
  while (at > start && lines[at - 1]!.trim() === '') at--
  if (u.table === null && at === start) {
    // top level with no keys yet: before the first header, after leading comments
    at = start
    while (at < end && /^\s*#/.test(lines[at]!)) at++
  }
  return [...lines.slice(0, at), newLine, ...lines.slice(at)]
}

/** Lines [start, end) that belong to `table` (null = before the first header). */
function sectionRange(lines: string[], table: string | null): { start: number; end: number; found: boolean } {
  const isHeader = (l: string) => HEADER.test(l) || ARRAY_HEADER.test(l)
  if (table === null) {
    const end = lines.findIndex(isHeader)
    return { start: 0, end: end === -1 ? lines.length : end, found: true }
  }
  for (let i = 0; i < lines.length; i++) {
    const m = HEADER.exec(lines[i]!)
    if (m && !ARRAY_HEADER.test(lines[i]!) && m[1]!.replace(/\s+/g, '') === table) {
      let end = i + 1
      while (end < lines.length && !isHeader(lines[end]!)) end++
      return { start: i + 1, end, found: true }
    }
  }
  return { start: lines.length, end: lines.length, found: false }
}

/** The last line of the value starting on line `i` (arrays and inline tables may span lines). */
function valueEndLine(lines: string[], i: number): number {
  let depth = 0
  let quote: string | null = null
  for (let n = i; n < lines.length; n++) {
    const line = lines[n]!
    let j = n === i ? line.indexOf('=') + 1 : 0
    for (; j < line.length; j++) {
      const c = line[j]!
      if (quote) {
        if (c === '\\' && quote === '"') j++
        else if (c === quote) quote = null
      } else if (c === '"' || c === "'") quote = c
      else if (c === '#') break
      else if (c === '[' || c === '{') depth++
      else if (c === ']' || c === '}') depth--
    }
    quote = null
    if (depth <= 0) return n
  }
  return lines.length - 1
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
