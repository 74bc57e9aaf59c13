/**
 * A list kept in order by a comparator: insertion by binary search (appending, the common case
 * for a queue, costs no shift), removal by identity. Reads see a read-only array, cheap to walk
 * from the front. Not a heap on purpose: the scheduler reads the first few items in order
 * without taking them out.
 */
export class OrderedList<T> {
  readonly #items: T[] = []

  constructor(readonly compare: (a: T, b: T) => number) {}

  get items(): readonly T[] {
    return this.#items
  }

  get size(): number {
    return this.#items.length
  }

  add(item: T): void {
    const items = this.#items
    if (items.length === 0 || this.compare(items[items.length - 1]!, item) <= 0) {
      items.push(item)
      return
    }
    items.splice(this.#lowerBound(item), 0, item)
  }

  /** Removes `item` (found by its order, then by identity); whether it was there. */
  remove(item: T): boolean {
    const items = this.#items
    for (let i = this.#lowerBound(item); i < items.length; i++) {
      if (items[i] === item) {
        items.splice(i, 1)
        return true
      }
      if (this.compare(items[i]!, item) > 0) break
    }
    // an item whose ordering fields changed while listed: fall back to a scan
    const at = items.indexOf(item)
    if (at < 0) return false
    items.splice(at, 1)
    return true
  }

  /** The first index whose item is not before `item`. */
  #lowerBound(item: T): number {
    const items = this.#items
    let lo = 0
    let hi = items.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.compare(items[mid]!, item) < 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}
