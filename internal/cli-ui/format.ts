/** Small formatting helpers shared by the text renderers. */

/** `YYYY-MM-DD HH:MM:SS UTC` from Unix milliseconds. */
export function formatDateTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + ' UTC'
}

/** `YYYY-MM-DD` (UTC) */
export function formatDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}

/** `HH:MM:SS.mmm` (UTC) */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 23)
}

/** How long ago, compactly: `5s ago`, `3m ago`, `2h ago`, `4d ago`. */
export function formatAgo(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000))
  if (s < 60) return `${s}s ago`
  if (s < 3600) return `${Math.floor(s / 60)}m ago`
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`
  return `${Math.floor(s / 86400)}d ago`
}

/** `{gpu: ['A100','H100'], region: ['eu']}` → `gpu=A100,H100 region=eu`; empty → `-`. */
export function formatTags(tags: Record<string, string[]> | null | undefined): string {
  if (!tags) return '-'
  const parts = Object.entries(tags)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v.join(',')}`)
  return parts.length ? parts.join(' ') : '-'
}
