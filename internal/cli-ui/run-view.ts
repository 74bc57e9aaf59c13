/**
 * Waiting on a run as `submit`, `runs inspect` and `runs rerun` do (cli.md §8.2–§8.4):
 * - JSON: wait for the initial step, print the snapshot;
 * - text on a TTY: live step tree until every step is done; Ctrl-C detaches (exit 0);
 * - text elsewhere: print `intro` (the run id) and wait for the initial step silently.
 * Returns the exit code (§7.5); interrupted non-interactive waits give 130/143.
 */
import type { RunSnapshot } from '../protocol/api.ts'
import { waitForRun, type RunSource } from '../client/run-waiter.ts'
import { runSource } from '../client/topic-socket.ts'
import { runExitCode } from '../client/run-status.ts'
import type { CofluxClient } from '../client/coflux-client.ts'
import { interruptExitCode, onInterrupt } from './interrupt.ts'
import { LiveRegion } from './live.ts'
import type { Logger } from './logger.ts'
import type { Output } from './output.ts'
import { renderRunTree } from './tree.ts'

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
    const draw = (run: RunSnapshot) =>
      renderRunTree(run, o.runId, o.out.colors, { maxLines: live.rows - 1, columns: live.columns })
    try {
      const { run, done } = await waitForRun(source, { scope: 'all', signal: interrupt.signal, onSnapshot: (r) => live.update(draw(r)) })
      if (!done || !run) {
        live.restoreCursor()
        o.out.io.stderr.write('Detached. Workflow still running.\n')
        return 0
      }
      live.done(renderRunTree(run, o.runId, o.out.colors, { columns: live.columns }))
      return runExitCode(run, 'all')
    } finally {
      live.restoreCursor()
    }
  } finally {
    interrupt.dispose()
  }
}
