/**
 * Adapters over the one topics WebSocket client (topic-subscription.ts): the topic's values as
 * an async iterator, and the run topic as a `RunSource` that falls back to polling the REST
 * snapshot when the socket cannot be used (cli.md §8.2).
 */
import { ApiError } from '../protocol/errors.ts'
import type { Json } from '../protocol/json.ts'
import type { ApiClient } from './api-client.ts'
import type { CofluxClient } from './coflux-client.ts'
import { pollRun, type PollOptions, type RunSource } from './run-waiter.ts'
import { subscribeTopic, type SubscribeTopicOptions } from './topic-subscription.ts'
import type { RunSnapshot } from '../protocol/api.ts'

/**
 * Yields the topic's value once it arrives and after every change, the newest only when the
 * reader falls behind, until `signal` aborts. Throws what ends the subscription: `ApiError`
 * (`not_found`, `forbidden`, 401, …), `VersionMismatchError` or `ConnectionError`.
 *
 * @example
 * for await (const run of topicValues(client, ['workspaces', wsId, 'runs', runId], signal)) draw(run)
 */
export async function* topicValues(
  client: ApiClient,
  path: string[],
  signal: AbortSignal,
  options: Omit<SubscribeTopicOptions, 'onError'> = {},
): AsyncGenerator<Json> {
  if (signal.aborted) return
  let latest: { value: Json } | undefined
  let failure: Error | undefined
  let wake: (() => void) | undefined
  const notify = () => {
    wake?.()
    wake = undefined
  }
  const fail = (err: Error) => {
    failure ??= err
    notify()
  }
  const sub = subscribeTopic(
    client,
    path,
    (value) => {
      latest = { value }
      notify()
    },
    { ...options, onError: fail },
  )
  sub.ready.catch(fail)
  signal.addEventListener('abort', notify, { once: true })
  try {
    while (!signal.aborted) {
      if (latest) {
        const { value } = latest
        latest = undefined
        yield value
      } else if (failure) {
        throw failure
      } else {
        await new Promise<void>((resolve) => (wake = resolve))
      }
    }
  } finally {
    signal.removeEventListener('abort', notify)
    sub.close()
  }
}

/**
 * The run topic as a `RunSource`: the WebSocket subscription (which rides out a lost
 * connection itself), or polling the REST snapshot when the socket cannot be opened.
 */
export function runSource(
  client: CofluxClient,
  workspaceId: string,
  runId: string,
  options: PollOptions & { onFallback?: (reason: string) => void } = {},
): RunSource {
  return {
    async *snapshots(signal) {
      let sawValue = false
      try {
        const values = topicValues(client, ['workspaces', workspaceId, 'runs', runId], signal, {
          handshakeRetries: 0,
          onRetry: options.onRetry,
        })
        for await (const value of values) {
          sawValue = true
          yield value as unknown as RunSnapshot
        }
        return
      } catch (err) {
        if (err instanceof ApiError) throw err
        options.onFallback?.((err as Error).message)
      }
      // the socket could not be used: the REST snapshot decides from here
      yield* pollRun(client, workspaceId, runId, { ...options, retryFirst: sawValue }).snapshots(signal)
    },
  }
}
