/**
 * Waiting on a run as `submit`, `runs inspect` and `runs rerun` do (cli.md §8.2–§8.4):
 * - JSON: wait for the initial step, print the snapshot;
 * - text on a TTY: live step tree until every step is done (running steps' times ticking), then
 *   the run's result under it: the value, or the error with the user's traceback; Ctrl-C
 *   detaches (exit 0);
 * - text elsewhere: print `intro` (the run id) and wait for the initial step silently.
 * Returns the exit code (§7.5); interrupted non-interactive waits give 130/143.
 */
import type { Result, RunSnapshot } from '../protocol/api.ts'
import type { Json } from '../protocol/json.ts'
import { waitForRun, type RunSource } from '../client/run-waiter.ts'
import { runSource } from '../client/topic-socket.ts'
import { initialStep, latestAttempt, runExitCode } from '../client/run-status.ts'
import type { CofluxClient } from '../client/coflux-client.ts'
import { interruptExitCode, onInterrupt } from './interrupt.ts'
import { LiveRegion } from './live.ts'
import type { Logger } from './logger.ts'
import type { Output } from './output.ts'
import { renderResultText } from './result-text.ts'
import { renderRunTree } from './tree.ts'

/** How often the live tree is redrawn between updates, so running steps' times move. */
const TICK_MS = 1_000

export interface FollowRunOptions {
  client: CofluxClient
  workspaceId: string
  runId: string
  out: Output
  log?: Logger
  /** non-TTY text mode prints this line first (the run id) */
  intro?: string
  /** defaults to the run topic (WebSocket, falling back to polling) */
  source?: RunSource
  /** a blob value's content for the result under the tree; without it a blob shows its size */
  loadBlob?: (key: string) => Promise<Json | undefined>
}

export async function followRun(o: FollowRunOptions): Promise<number> {
  const source =
    o.source ??
    runSource(o.client, o.workspaceId, o.runId, {
      onRetry: (err) => o.log?.warn(`${err.message}; retrying`),
      onFallback: (reason) => o.log?.debug(`${reason}; polling the run snapshot instead`),
    })
  const interrupt = onInterrupt()
  try {
    if (o.out.isJson || !o.out.isTTY) {
      if (!o.out.isJson && o.intro !== undefined) o.out.text(o.intro)
      const { run, done } = await waitForRun(source, { scope: 'initial', signal: interrupt.signal })
      const sig = interrupt.received()
      if (!done || !run) return sig ? interruptExitCode(sig) : 1
      if (o.out.isJson) o.out.json(run)
      return runExitCode(run, 'initial')
    }
    const live = new LiveRegion(o.out.io.stdout)
    let latest: RunSnapshot | undefined
    const draw = (run: RunSnapshot) => {
      latest = run
      live.update(renderRunTree(run, o.runId, o.out.colors, { maxLines: live.rows - 1, columns: live.columns, now: Date.now() }))
    }
    const ticker = setInterval(() => latest && draw(latest), TICK_MS)
    try {
      const { run, done } = await waitForRun(source, { scope: 'all', signal: interrupt.signal, onSnapshot: draw })
      clearInterval(ticker)
      if (!done || !run) {
        live.restoreCursor()
        o.out.io.stderr.write('Detached. Workflow still running.\n')
        return 0
      }
      live.done(renderRunTree(run, o.runId, o.out.colors, { columns: live.columns }))
      const result = initialResult(run)
      if (result) o.out.text(['', await resultText(result, o)])
      return runExitCode(run, 'all')
    } finally {
      clearInterval(ticker)
      live.restoreCursor()
    }
  } finally {
    interrupt.dispose()
  }
}

/** The initial step's final result, through cache hits, deferrals and spawned runs. */
function initialResult(run: RunSnapshot): Result | null {
  const init = initialStep(run)
  let result = init ? (latestAttempt(init[1])?.[1].result ?? null) : null
  while (result && (result.type === 'cached' || result.type === 'deferred' || result.type === 'spawned')) result = result.result ?? null
  return result
}

async function resultText(result: Result, o: FollowRunOptions): Promise<string> {
  let blobData: Json | undefined
  if (result.type === 'value' && result.value.type === 'blob' && o.loadBlob) blobData = await o.loadBlob(result.value.key).catch(() => undefined)
  return renderResultText(result, o.out.colors, blobData)
}
