/**
 * Subscribing to a topic over the `/topics` WebSocket (http-api.md §11.1): the first frame is the
 * full value, later frames are updates applied in order (protocol/topics.ts), so the local copy
 * always equals a fresh snapshot. Used for waiting on runs; `runSource` falls back to polling the
 * REST snapshot when the socket cannot be used (cli.md §8.2).
 */
import { ApiError } from '../protocol/errors.ts'
import { parseJson, stringifyJson, type Json } from '../protocol/json.ts'
import {
  applyTopicUpdates,
  parseTopicServerFrame,
  TOPIC_CLIENT_FRAME,
  TOPICS_BEARER_PREFIX,
  TOPICS_SUBPROTOCOL,
} from '../protocol/topics.ts'
import { API_VERSION } from '../protocol/version.ts'
import type { ApiClient } from './api-client.ts'
import type { CofluxClient } from './coflux-client.ts'
import { pollRun, type PollOptions, type RunSource } from './run-waiter.ts'
import type { RunSnapshot } from './types.ts'

/** The socket could not be opened or was lost; the caller may fall back to polling. */
export class TopicSocketError extends Error {
  override readonly name = 'TopicSocketError'
}

/**
 * Yields the topic's value after the initial frame and after every batch of updates, until
 * `signal` aborts. A subscription error (`not_found`, `forbidden`) throws `ApiError`; a socket
 * failure throws `TopicSocketError`.
 *
 * @example
 * for await (const run of subscribeTopic(client, ['workspaces', wsId, 'runs', runId], signal)) draw(run)
 */
export async function* subscribeTopic(client: ApiClient, topic: string[], signal: AbortSignal): AsyncGenerator<Json> {
  const protocols = [TOPICS_SUBPROTOCOL]
  if (client.address.token) protocols.unshift(TOPICS_BEARER_PREFIX + Buffer.from(client.address.token).toString('base64url'))
  const headers: Record<string, string> = { host: client.headers().host! }
  if (client.address.project) headers['x-project'] = client.address.project
  // Bun's WebSocket takes headers, so *.localhost keeps its Host while we dial 127.0.0.1
  const ws = new WebSocket(`${client.wsBaseUrl}/topics?version=${API_VERSION}`, { protocols, headers } as unknown as string[])

  const queue: Json[] = []
  let failure: Error | undefined
  let closed = false
  let wake: (() => void) | undefined
  const notify = () => {
    wake?.()
    wake = undefined
  }
  let value: Json | undefined
  const channel = 1
  ws.onopen = () => ws.send(stringifyJson([TOPIC_CLIENT_FRAME.subscribe, channel, topic]))
  ws.onmessage = (event) => {
    try {
      const frame = parseTopicServerFrame(parseJson(String(event.data)))
      if (frame[1] !== channel) return
      if (frame[0] === 2) value = frame[2]
      else if (frame[0] === 3 && value !== undefined) value = applyTopicUpdates(value, frame[2])
      else if (frame[0] === 0) {
        failure = new ApiError(frame[2] === 'not_found' ? 404 : frame[2] === 'forbidden' ? 403 : 400, frame[2], frame[2])
        ws.close()
      } else return
      if (value !== undefined && !failure) queue.push(value)
    } catch (err) {
      failure = new TopicSocketError(`bad topic frame: ${(err as Error).message}`)
      ws.close()
    }
    notify()
  }
  ws.onerror = () => {
    failure ??= new TopicSocketError('topic socket failed')
    notify()
  }
  ws.onclose = (event) => {
    closed = true
    failure ??= new TopicSocketError(`topic socket closed (${event.code}${event.reason ? ` ${event.reason}` : ''})`)
    notify()
  }
  const onAbort = () => {
    ws.close()
    notify()
  }
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    while (!signal.aborted) {
      if (queue.length > 0) {
        // only the newest value matters to a viewer
        const latest = queue[queue.length - 1]!
        queue.length = 0
        yield latest
        continue
      }
      if (failure) throw failure
      if (closed) return
      await new Promise<void>((resolve) => (wake = resolve))
    }
  } finally {
    signal.removeEventListener('abort', onAbort)
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close()
  }
}

/**
 * The run topic as a `RunSource`: the WebSocket subscription while it works, polling the REST
 * snapshot when it cannot be opened or is lost (connection loss is retried, never fatal).
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
        for await (const value of subscribeTopic(client, ['workspaces', workspaceId, 'runs', runId], signal)) {
          sawValue = true
          yield value as unknown as RunSnapshot
        }
        if (signal.aborted) return
      } catch (err) {
        if (err instanceof ApiError) throw err
        options.onFallback?.((err as Error).message)
      }
      // the socket was unavailable or lost: the REST snapshot decides from here
      yield* pollRun(client, workspaceId, runId, { ...options, retryFirst: sawValue }).snapshots(signal)
    },
  }
}
