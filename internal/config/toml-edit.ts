/**
 * Minimal TOML editing for `coflux setup`: set a few keys in an existing file while keeping
 * every other line (comments, unknown keys, formatting) exactly as it was.
 */

export type TomlWritable = string | number | boolean | null | TomlWritable[] | { [key: string]: TomlWritable }

/** TOML text for a value: strings, numbers, booleans, arrays and inline tables (`null` members are skipped). */
export function formatTomlValue(value: TomlWritable): string {
  if (Array.isArray(value)) return `[${value.map((v) => formatTomlValue(v)).join(', ')}]`
  if (typeof value === 'string') return JSON.stringify(value).replace(/[\u007f]/g, '\\u007f')
  if (value === null) return '""'
  if (typeof value === 'object') {
    const items = Object.entries(value).filter(([, v]) => v !== null)
    return items.length ? `{ ${items.map(([k, v]) => `${formatTomlKey(k)} = ${formatTomlValue(v)}`).join(', ')} }` : '{}'
  }
  return String(value)
}

/** A key, quoted unless it is a bare key. */
export function formatTomlKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key)
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
 * or a new table is appended.
 *
 * @example
 * setTomlKeys('# mine\nhost = "a"\n', [{ table: null, key: 'host', value: 'b' }]) // '# mine\nhost = "b"\n'
 */
export function setTomlKeys(text: string, updates: TomlUpdate[]): string {
  let lines = text === '' ? [] : text.replace(/\r\n/g, '\n').split('\n')
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
  for (const u of updates) lines = applyUpdate(lines, u)
  return lines.join('\n') + '\n'
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
