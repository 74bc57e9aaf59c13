/**
 * Snapshot-or-live views (`queue`, `sessions list --watch`, `manifests inspect --watch`,
 * `pools launches --watch`): JSON mode and non-TTY text print one snapshot; on a TTY with
 * `watch`, the view is redrawn in place every `intervalMs` until Ctrl-C (exit 0).
 */
import { sleep } from '../client/run-waiter.ts'
import type { Colors } from './colors.ts'
import { onInterrupt } from './interrupt.ts'
import { LiveRegion } from './live.ts'
import type { Output } from './output.ts'

export interface WatchViewOptions<T> {
  watch: boolean
  fetch: () => Promise<T>
  render: (data: T, colors: Colors) => string | string[]
  intervalMs?: number
}

export async function watchView<T>(out: Output, o: WatchViewOptions<T>): Promise<void> {
  const first = await o.fetch()
  if (!o.watch || out.isJson || !out.isTTY) {
    out.result(first, o.render)
    return
  }
  const live = new LiveRegion(out.io.stdout)
  const interrupt = onInterrupt()
  const lines = (data: T) => {
    const r = o.render(data, out.colors)
    const all = Array.isArray(r) ? r : r.split('\n')
    return all.length > live.rows - 1 ? [...all.slice(0, live.rows - 2), out.colors.dim(`… ${all.length - live.rows + 2} more`)] : all
  }
  try {
    live.update(lines(first))
    while (!interrupt.signal.aborted) {
      await sleep(o.intervalMs ?? 1000, interrupt.signal)
      if (interrupt.signal.aborted) break
      try {
        live.update(lines(await o.fetch()))
      } catch {
        // keep the last view; the next tick retries
      }
    }
  } finally {
    live.restoreCursor()
    interrupt.dispose()
  }
}
