/** Small statistics over samples. */

/** The p-th percentile (nearest rank) of samples, which need not be sorted. */
export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN
}

export function mean(samples: number[]): number {
  return samples.reduce((sum, x) => sum + x, 0) / samples.length
}

/** Events per second over a window of sorted timestamps (ms): intervals ÷ span. */
export function rateOf(times: number[]): number {
  return ((times.length - 1) * 1000) / (times[times.length - 1]! - times[0]!)
}
