/**
 * Text rendering of values for people (values.md §9, cli.md §8.5, §8.15): `runs result`, log
 * lines and live views in the terminal, and the same text in the web UI (so it lives here, below
 * both). JSON output never goes through here; it passes values through unchanged.
 */
import { compareCodePoints, JsonNumber, parseJson, RawJson, toNumber, type Json } from '../protocol/json.ts'
import type { LogReference, TopicReference } from '../protocol/values.ts'

/** Colour functions (from `cli-ui/colors.ts`); any left out print plain text. */
export interface ValueColors {
  string: (text: string) => string
  number: (text: string) => string
  /** `True`, `False`, `None` */
  keyword: (text: string) => string
  /** `<execution …>`, `<asset …>`, `<blob …>` and the like */
  reference: (text: string) => string
  /** `↦` and `key=` of log values */
  muted: (text: string) => string
}

/** A topic or log value; data may be canonical text or an already parsed tree. */
export type RenderableValue =
  | { type: 'raw'; data: Json; references: readonly RenderableReference[] }
  | { type: 'blob'; key: string; size: number; references: readonly RenderableReference[] }
export type RenderableReference = TopicReference | LogReference

const plain = (text: string): string => text

interface Context {
  references: readonly RenderableReference[]
  colors: ValueColors
}

/**
 * Pretty-prints encoded data; `{"type":"ref"}` entries are looked up in `references`.
 *
 * @example
 * renderValueData({ type: 'dict', items: ['rows', [1, 2]] }, [])
 * // '{\n  "rows" ↦ [1, 2]\n}'
 */
export function renderValueData(
  data: Json,
  references: readonly RenderableReference[],
  colors: Partial<ValueColors> = {},
): string {
  const full: ValueColors = { string: plain, number: plain, keyword: plain, reference: plain, muted: plain, ...colors }
  return render(data, 0, { references, colors: full })
}

/** A whole value: blobs print as `<blob (size)>`, as in log lines (the CLI fetches them first for results). */
export function renderValue(value: RenderableValue, colors: Partial<ValueColors> = {}): string {
  if (value.type === 'blob') return (colors.reference ?? plain)(`<blob (${formatSize(value.size)})>`)
  return renderValueData(value.data, value.references, colors)
}

/**
 * A log line's message: `{name}` placeholders replaced by their values, the values no
 * placeholder mentions appended as `key=value` in key order.
 *
 * @example
 * const raw = (data: Json) => ({ type: 'raw', data, references: [] }) as const
 * renderLogMessage('fetched {count} rows', { count: raw(120), url: raw('x') }) // 'fetched 120 rows url="x"'
 */
export function renderLogMessage(
  template: string | null | undefined,
  values: Readonly<Record<string, RenderableValue>>,
  colors: Partial<ValueColors> = {},
): string {
  const used = new Set<string>()
  const message = (template ?? '').replace(/\{([^{}]+)\}/g, (whole, name: string) => {
    if (!Object.hasOwn(values, name)) return whole
    used.add(name)
    return renderValue(values[name]!, colors)
  })
  const muted = colors.muted ?? plain
  const extra = Object.keys(values)
    .filter((name) => !used.has(name))
    .sort(compareCodePoints)
    .map((name) => `${muted(`${name}=`)}${renderValue(values[name]!, colors)}`)
  return [message, ...extra].filter((part) => part !== '').join(' ')
}

function render(v: Json, depth: number, ctx: Context): string {
  const c = ctx.colors
  if (v === null) return c.keyword('None')
  if (v === true) return c.keyword('True')
  if (v === false) return c.keyword('False')
  if (typeof v === 'string') return c.string(JSON.stringify(v))
  if (typeof v === 'number' || v instanceof JsonNumber) return c.number(formatNumber(v))
  if (v instanceof RawJson) return render(parseJson(v.text), depth, ctx)
  if (Array.isArray(v)) return `[${v.map((item) => render(item, depth, ctx)).join(', ')}]`
  return renderTagged(v, depth, ctx) ?? renderDict(plainObjectItems(v), depth, ctx)
}

/** A tagged object (values.md §2.1), or undefined when `v` is not a well-formed one. */
function renderTagged(v: { [key: string]: Json }, depth: number, ctx: Context): string | undefined {
  const items = Array.isArray(v.items) ? v.items : undefined
  const list = (): string => items!.map((item) => render(item, depth, ctx)).join(', ')
  switch (v.type) {
    case 'dict':
      if (items && items.length % 2 === 0) return renderDict(items, depth, ctx)
      return undefined
    case 'set':
      if (items) return items.length === 0 ? '∅' : `{${list()}}`
      return undefined
    case 'tuple':
      if (items) return `(${list()})`
      return undefined
    case 'datetime':
    case 'date':
    case 'time':
    case 'decimal':
    case 'uuid':
      return typeof v.value === 'string' ? v.value : undefined
    case 'duration': {
      const seconds = toNumber(v.value)
      return seconds === undefined ? undefined : formatDuration(seconds)
    }
    case 'ref': {
      const index = toNumber(v.index)
      return index === undefined ? undefined : ctx.colors.reference(renderReference(ctx.references[index]))
    }
    default:
      return undefined
  }
}

/** Plain objects (input responses) print like dicts, keys in code-point order. */
function plainObjectItems(v: { [key: string]: Json }): Json[] {
  return Object.keys(v)
    .sort(compareCodePoints)
    .flatMap((key) => [key, v[key]!])
}

/** `items` alternate key, value. */
function renderDict(items: readonly Json[], depth: number, ctx: Context): string {
  if (items.length === 0) return '{}'
  const pad = '  '.repeat(depth + 1)
  const arrow = ctx.colors.muted('↦')
  const lines: string[] = []
  for (let i = 0; i < items.length; i += 2) {
    lines.push(`${pad}${render(items[i]!, depth + 1, ctx)} ${arrow} ${render(items[i + 1]!, depth + 1, ctx)}`)
  }
  return `{\n${lines.join('\n')}\n${'  '.repeat(depth)}}`
}

function renderReference(ref: RenderableReference | undefined): string {
  if (ref === undefined || ref === null || typeof ref !== 'object') return '<ref ?>'
  switch (ref.type) {
    case 'execution':
      if (ref.module != null && ref.target != null) return `<execution ${ref.module}/${ref.target}>`
      return `<execution ${ref.executionId}>`
    case 'input':
      return `<input ${ref.inputId}>`
    case 'fragment':
      return `<fragment ${ref.format} (${formatSize(ref.size)})>`
    case 'asset': {
      // topic references nest the summary; log references carry it flat
      const asset = 'asset' in ref ? ref.asset : ref
      const name = asset?.name != null ? ` ${JSON.stringify(asset.name)}` : ''
      const known = asset?.totalCount != null && asset.totalSize != null
      return `<asset${name}${known ? ` (${asset.totalCount} files, ${formatSize(asset.totalSize!)})` : ''}>`
    }
    default:
      return '<ref ?>'
  }
}

/** Integer literals verbatim (exact beyond 2⁵³); anything else as the shortest form of its double. */
function formatNumber(v: number | JsonNumber): string {
  const text = typeof v === 'number' ? String(v) : v.text
  if (/^-?\d+$/.test(text)) return text
  const n = Number(text)
  if (Number.isNaN(n)) return text
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf'
  return Object.is(n, -0) ? '-0' : String(n)
}

/** `N bytes` below 1024, else one decimal with a binary unit: `1.2MiB`. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(1)}${units[unit]}`
}

/**
 * Days, hours, minutes and seconds without the zero parts: `90.5` → `1m30.5s`, `0` → `0s`.
 * Works on the decimal digits rather than float arithmetic, so `3661.1` keeps its `.1`.
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return `${seconds}s`
  const { whole, fraction } = decimalParts(Math.abs(seconds))
  const parts: string[] = []
  const days = whole / 86400n
  const hours = (whole % 86400n) / 3600n
  const minutes = (whole % 3600n) / 60n
  const secs = whole % 60n
  if (days) parts.push(`${days}d`)
  if (hours) parts.push(`${hours}h`)
  if (minutes) parts.push(`${minutes}m`)
  if (secs || fraction) parts.push(`${secs}${fraction ? `.${fraction}` : ''}s`)
  if (parts.length === 0) return '0s'
  return (seconds < 0 ? '-' : '') + parts.join('')
}

/** Integer part and fractional digits of the shortest decimal form of a non-negative double. */
function decimalParts(n: number): { whole: bigint; fraction: string } {
  const m = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(n))!
  const digits = m[1]! + (m[2] ?? '')
  const point = m[1]!.length + Number(m[3] ?? 0)
  if (point <= 0) return { whole: 0n, fraction: ('0'.repeat(-point) + digits).replace(/0+$/, '') }
  if (point >= digits.length) return { whole: BigInt(digits + '0'.repeat(point - digits.length)), fraction: '' }
  return { whole: BigInt(digits.slice(0, point)), fraction: digits.slice(point).replace(/0+$/, '') }
}
