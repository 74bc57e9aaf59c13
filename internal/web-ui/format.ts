/** Dates and durations for the page; durations and sizes use the CLI's formatting (client/value-text.ts). */
import { formatDuration, formatSize } from '../client/browser.ts'
import type { TagSet } from '../protocol/api.ts'

export { formatSize }

const pad = (n: number, width = 2) => String(n).padStart(width, '0')

/** `2026-05-16 12:30:05` in the browser's time zone. */
export function formatDateTime(ms: number | null | undefined): string {
  if (typeof ms !== 'number') return '—'
  const d = new Date(ms)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

/** `12:30:05.123` */
export function formatClock(ms: number): string {
  const d = new Date(ms)
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
}

/** Milliseconds as `1m30.5s`, rounded to what a person reads (ms below 10 s, tenths above). */
export function formatMs(ms: number | null | undefined): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '—'
  const rounded = Math.abs(ms) < 10_000 ? Math.round(ms) / 1000 : Math.round(ms / 100) / 10
  return formatDuration(rounded)
}

export function formatAgo(ms: number, now = Date.now()): string {
  const diff = now - ms
  if (diff < -1000) return `in ${formatMs(-diff)}`
  if (diff < 5000) return 'just now'
  if (diff < 60_000) return `${Math.floor(diff / 1000)}s ago`
  if (diff < 3_600_000) return `${Math.floor(diff / 60_000)}m ago`
  if (diff < 86_400_000) return `${Math.floor(diff / 3_600_000)}h ago`
  return `${Math.floor(diff / 86_400_000)}d ago`
}

/** `gpu:A100,H100 region:eu` — the CLI's `--requires` spelling. */
export function formatTags(tags: TagSet | null | undefined): string {
  const entries = Object.entries(tags ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))
  return entries.map(([k, v]) => (v.length === 1 && v[0] === 'true' ? k : `${k}:${v.join(',')}`)).join(' ')
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

/** Chart labels: up to four significant digits, no exponent for everyday sizes. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n)
  if (n !== 0 && (Math.abs(n) >= 1e6 || Math.abs(n) < 1e-3)) return n.toExponential(2)
  return String(Number(n.toPrecision(4)))
}
