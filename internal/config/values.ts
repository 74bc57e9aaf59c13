/** Parsing of setting values given as text (environment variables, flags). */

/** `1 t T TRUE true True` / `0 f F FALSE false False` (cli.md §5.3); anything else is undefined. */
export function parseBoolean(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false
  return undefined
}

/**
 * Splits a comma list with CSV quoting: double quotes protect commas, `""` inside quotes is a
 * quote (cli.md §3.5). Items are trimmed; empty items are dropped.
 */
export function splitList(text: string): string[] {
  const out: string[] = []
  let cur = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cur += '"'
        i++
      } else if (c === '"') quoted = false
      else cur += c
    } else if (c === '"') quoted = true
    else if (c === ',') {
      out.push(cur)
      cur = ''
    } else cur += c
  }
  out.push(cur)
  return out.map((s) => s.trim()).filter((s) => s !== '')
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/**
 * Go-style durations (cli.md §3.8): `<number><unit>` repeated with units ms, s, m, h, or bare `0`.
 * Returns milliseconds, or undefined when the text is not a duration.
 *
 * @example
 * parseDuration('1h30m') // 5400000
 */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0
  const re = /(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h)/y
  let total = 0
  let i = 0
  while (i < text.length) {
    re.lastIndex = i
    const m = re.exec(text)
    if (!m) return undefined
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!
    i = re.lastIndex
  }
  return i === 0 ? undefined : Math.round(total)
}

/** Strict decimal integer (`-3`, `42`); undefined otherwise. */
export function parseInteger(text: string): number | undefined {
  const t = text.trim()
  if (!/^[+-]?\d+$/.test(t)) return undefined
  const n = Number(t)
  return Number.isSafeInteger(n) ? n : undefined
}
