/**
 * A Bloom filter over strings (semantics.md §23.2: the epoch index keeps one per archive for run
 * ids, cache keys and idempotency keys). "Maybe" answers can be wrong (about 5 % by default);
 * "no" answers never are. The hash functions are implemented here, not taken from the runtime,
 * because filters are persisted: they must give the same bits in every later version.
 */

const encoder = new TextEncoder()

/** 32-bit FNV-1a. */
function fnv1a(bytes: Uint8Array, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!
    h = Math.imul(h, 0x01000193) >>> 0
  }
  // murmur3 finaliser: FNV alone mixes its last bytes poorly
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b) >>> 0
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35) >>> 0
  h ^= h >>> 16
  return h >>> 0
}

export class BloomFilter {
  /** number of bits */
  readonly m: number
  /** number of hash functions */
  readonly k: number
  readonly bits: Uint8Array

  constructor(m: number, k: number, bits?: Uint8Array) {
    if (!Number.isInteger(m) || m < 8) throw new Error(`invalid Bloom filter size: ${m}`)
    if (!Number.isInteger(k) || k < 1 || k > 32) throw new Error(`invalid Bloom filter hash count: ${k}`)
    const bytes = Math.ceil(m / 8)
    if (bits && bits.length !== bytes) throw new Error(`Bloom filter bits: expected ${bytes} bytes, got ${bits.length}`)
    this.m = m
    this.k = k
    this.bits = bits ?? new Uint8Array(bytes)
  }

  /** A filter sized for `capacity` keys at false-positive rate `p`. */
  static forCapacity(capacity: number, p = 0.05): BloomFilter {
    const n = Math.max(1, Math.ceil(capacity))
    const m = Math.max(64, Math.ceil((-n * Math.log(p)) / (Math.LN2 * Math.LN2)))
    const k = Math.max(1, Math.min(32, Math.round((m / n) * Math.LN2)))
    return new BloomFilter(m, k)
  }

  /** Double hashing: bit i is h1 + i·h2 (mod m). */
  #positions(key: string): number[] {
    const bytes = encoder.encode(key)
    const h1 = fnv1a(bytes, 0)
    const h2 = fnv1a(bytes, 0x9e3779b9) | 1
    const out: number[] = []
    for (let i = 0; i < this.k; i++) out.push(((h1 + Math.imul(i, h2)) >>> 0) % this.m)
    return out
  }

  add(key: string): void {
    for (const bit of this.#positions(key)) this.bits[bit >>> 3] = this.bits[bit >>> 3]! | (1 << (bit & 7))
  }

  /** False only when the key was certainly never added. */
  mayContain(key: string): boolean {
    for (const bit of this.#positions(key)) if ((this.bits[bit >>> 3]! & (1 << (bit & 7))) === 0) return false
    return true
  }
}
