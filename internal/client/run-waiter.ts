/**
 * Waiting on a run (cli.md §8.2). A `RunSource` yields successive snapshots; today it polls the
 * REST snapshot every 250 ms, growing to 2 s while nothing changes. A WebSocket subscription to
 * the run topic can implement the same interface later without touching the commands.
 */
import { stringifyJson } from '../protocol/json.ts'
import { ConnectionError } from './api-client.ts'
import type { CofluxClient } from './coflux-client.ts'
import { isRunDone, type WaitScope } from './run-status.ts'
import type { RunSnapshot } from '../protocol/api.ts'

export interface RunSource {
  /** Snapshots as they change, the current one first; ends when `signal` aborts. */
  snapshots(signal: AbortSignal): AsyncIterable<RunSnapshot>
}

export interface PollOptions {
  initialMs?: number
  maxMs?: number
  /** called when a poll fails to connect and will be retried */
  onRetry?: (err: Error) => void
  /** retry connection failures from the first poll on (the server was reachable before) */
  retryFirst?: boolean
}

/** Polls `GET /topics/workspaces/<ws>/runs/<run>`; connection loss after the first answer is retried. */
export function pollRun(client: CofluxClient, workspaceId: string, runId: string, options: PollOptions = {}): RunSource {
  const initial = options.initialMs ?? 250
  const max = options.maxMs ?? 2000
  return {
    async *snapshots(signal) {
      let delay = initial
      let last: string | undefined
      let first = !options.retryFirst
      while (!signal.aborted) {
        let snapshot: RunSnapshot | undefined
        try {
          snapshot = await client.getRun(workspaceId, runId)
        } catch (err) {
          if (first || !(err instanceof ConnectionError)) throw err
          options.onRetry?.(err)
        }
        first = false
        if (snapshot) {
          const text = stringifyJson(snapshot)
          if (text !== last) {
            last = text
            delay = initial
            yield snapshot
          } else {
            delay = Math.min(max, Math.round(delay * 1.5))
          }
        } else {
          delay = Math.min(max, delay * 2)
        }
        await sleep(delay, signal)
      }
    },
  }
}

export interface WaitOptions {
  scope: WaitScope
  signal: AbortSignal
  /** every new snapshot (the live tree redraws here) */
  onSnapshot?: (run: RunSnapshot) => void
}

/** Waits until the run is done for `scope`; returns the final snapshot, or the last seen when aborted. */
export async function waitForRun(source: RunSource, options: WaitOptions): Promise<{ run?: RunSnapshot; done: boolean }> {
  let last: RunSnapshot | undefined
  for await (const run of source.snapshots(options.signal)) {
    last = run
    options.onSnapshot?.(run)
    if (isRunDone(run, options.scope)) return { run, done: true }
  }
  return { run: last, done: false }
}

/** Resolves after `ms`, or early when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}
