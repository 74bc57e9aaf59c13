/**
 * Paged reads of the log and metric stores (http-api.md §12–§13): rows in `(stamp, id)` order,
 * where the stamp is a log's timestamp or a point's acceptance time, partition after partition
 * (archives oldest first, then the active one), and cursors `<partition>:<stamp>:<id>` that name
 * the row a page ended on.
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
 * One page: `partitions` lists, in reading order, the partitions to read after the cursor and
 * the position to start from in each; `select` reads up to `limit` rows of one (the limit
 * defaults to 1000, at most 10000). A bad `after` is refused with `invalid` before anything is read.
 */
export function readPage<P extends { readonly id: string }, Row extends { id: number }>(
  query: { after?: string | null; limit?: number },
  invalid: (cursor: string) => Error,
  partitions: (after: Cursor | null) => Iterable<{ partition: P; after: Cursor | null }>,
  select: (partition: P, after: Cursor | null, limit: number) => Row[],
  stampOf: (row: Row) => number,
): { rows: Row[]; cursor: string | null } {
  const cursor = query.after ? parseCursor(query.after) : null
  if (query.after && !cursor) throw invalid(query.after)
  const requested = Number.isFinite(query.limit) ? Math.floor(query.limit!) : DEFAULT_PAGE_LIMIT
  const limit = Math.min(Math.max(requested, 1), MAX_PAGE_LIMIT)
  const rows: Row[] = []
  let lastPartition = ''
  for (const { partition, after } of partitions(cursor)) {
    const read = select(partition, after, limit - rows.length)
    if (read.length === 0) continue
    rows.push(...read)
    lastPartition = partition.id
    if (rows.length >= limit) break
  }
  const last = rows.at(-1)
  return { rows, cursor: last ? `${lastPartition}:${stampOf(last)}:${last.id}` : null }
}
