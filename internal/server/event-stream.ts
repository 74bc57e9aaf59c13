/**
 * The live reads of `/logs` and `/metrics` (http-api.md §12–§13): a `text/event-stream` whose
 * first event lists everything so far (split into events of ≤ 1000), then one event per batch
 * the store writes, with a `: ping` comment every 15 s.
 */
import { stringifyJson } from '../protocol/json.ts'

const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }
const SSE_PAGE = 1000
const PING_MS = 15_000

/** A stream of the existing items (one page at a time, after a cursor), then the live ones. */
export interface EventSource<T> {
  readPage(after: string | null, limit: number): { items: T[]; cursor: string | null }
  /** calls `send` with each new batch until the returned function is called */
  subscribe(send: (items: T[]) => void): () => void
}

/** Whether the request asks for a `text/event-stream`. */
export function isEventStreamRequest(accept: string | undefined): boolean {
  return (accept ?? '').includes('text/event-stream')
}

/** The stream of a project that does not exist: one empty event, then the end. */
export function emptyEventStream(): Response {
  return new Response('data: []\n\n', { headers: SSE_HEADERS })
}

export function eventStream<T>(source: EventSource<T>): Response {
  const encoder = new TextEncoder()
  let stop = () => {}
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      let unsubscribe = () => {}
      let ping: ReturnType<typeof setInterval> | undefined
      stop = () => {
        unsubscribe()
        clearInterval(ping)
      }
      const send = (text: string) => {
        try {
          controller.enqueue(encoder.encode(text))
        } catch {
          stop() // the client has gone
        }
      }
      const event = (items: T[]) => send(`data: ${stringifyJson(items)}\n\n`)
      let after: string | null = null
      for (let first = true; ; first = false) {
        const page = source.readPage(after, SSE_PAGE)
        if (page.items.length > 0 || first) event(page.items)
        if (page.items.length < SSE_PAGE) break
        after = page.cursor
      }
      // same tick as the last read: nothing is missed or repeated
      unsubscribe = source.subscribe(event)
      ping = setInterval(() => send(': ping\n\n'), PING_MS)
    },
    cancel() {
      stop()
    },
  })
  return new Response(stream, { headers: SSE_HEADERS })
}
