/**
 * Paged reads of the log and metric stores (http-api.md §12–§13): rows in `(stamp, id)` order,
 * where the stamp is a log's timestamp or a point's acceptance time, and cursors
 * `<partition>:<stamp>:<id>` that name the row a page ended on.
 */

export const DEFAULT_PAGE_LIMIT = 1000
export const MAX_PAGE_LIMIT = 10_000

export interface Cursor {
  partition: string
  timestamp: number
  id: number
}

/** `<partition>:<timestamp>:<id>`, or the older `<timestamp>:<id>` (the active partition); null if neither. */
export function parseCursor(text: string): Cursor | null {
  const m = /^(?:([A-Za-z0-9_-]*):)?(-?\d{1,16}):(\d{1,16})$/.exec(text)
  if (!m) return null
  return { partition: m[1] ?? '', timestamp: Number(m[2]), id: Number(m[3]) }
}

/**
 * One page of the `partition` (today always the active one): `select` gets the position to read
 * after and the limit (default 1000, at most 10000). A bad `after` is refused with `invalid`
 * before anything is read.
 */
export function readPage<Row extends { id: number }>(
  partition: string,
  query: { after?: string | null; limit?: number },
  invalid: (cursor: string) => Error,
  select: (after: Cursor | null, limit: number) => Row[],
  stampOf: (row: Row) => number,
): { rows: Row[]; cursor: string | null } {
  const cursor = query.after ? parseCursor(query.after) : null
  if (query.after && !cursor) throw invalid(query.after)
  const requested = Number.isFinite(query.limit) ? Math.floor(query.limit!) : DEFAULT_PAGE_LIMIT
  const limit = Math.min(Math.max(requested, 1), MAX_PAGE_LIMIT)
  // A cursor into another partition points into an archive, all of which precede the active one.
  const rows = select(cursor && cursor.partition === partition ? cursor : null, limit)
  const last = rows.at(-1)
  return { rows, cursor: last ? `${partition}:${stampOf(last)}:${last.id}` : null }
}
