/**
 * The live side of topics (http-api.md §11.1): subscriptions from topic sockets, kept current
 * from the orchestrator's change events. Changes are collected for one event-loop turn, each
 * affected topic is recomputed once, and each subscriber gets the diff between what it was
 * last sent and the new value, so applying every update in order yields a fresh snapshot.
 */
import type { ChangeEvent } from '../../orchestrator/index.ts'
import type { Json } from '../../protocol/json.ts'
import type { TopicServerFrame } from '../../protocol/topics.ts'
import type { Access } from '../auth.ts'
import type { ServerContext } from '../context.ts'
import type { Project } from '../project.ts'
import { changeKey, changeMatcher, nextTimedChange, referencedRuns, type WatchedTopic } from './affected.ts'
import { diffTopicValues } from './diff.ts'
import { computeTopic, executeAction, type TopicResult } from './live-value.ts'

/** One topic connection, as the hub sees it. */
export interface TopicClient {
  readonly projectId: string
  readonly access: Access
  send(frame: TopicServerFrame): void
}

interface Subscription extends WatchedTopic {
  readonly client: TopicClient
  readonly channel: number
  readonly segments: string[]
  /** subscriptions with equal keys see equal values, so one recompute serves them all */
  readonly key: string
  /** what the client holds: the last value sent */
  value: Json
  relatedRuns: Set<string>
  timer: ReturnType<typeof setTimeout> | null
}

/** How often subscriptions to a project that does not exist yet look for it (§16.4). */
const PROJECT_POLL_MS = 1_000
/** The longest pause between two recomputes of a project's live topics. */
const MAX_FLUSH_SPACING_MS = 250

/** setTimeout's ceiling; a later timed change is re-armed on the next recompute anyway. */
const MAX_TIMER_MS = 2 ** 31 - 1

/** Subscriptions of one project, and the changes seen since the last flush. */
class ProjectFeed {
  project: Project | null = null
  readonly subscriptions = new Set<Subscription>()
  readonly dirty = new Set<Subscription>()
  readonly changes = new Map<string, ChangeEvent>()
  flushScheduled = false
  /** how long the last flush took and when it ended: expensive topics are recomputed less often */
  lastFlushCost = 0
  lastFlushEnd = 0
  unsubscribe: (() => void) | null = null
  poll: ReturnType<typeof setInterval> | null = null
  constructor(readonly id: string) {}
}

export class TopicHub {
  readonly #server: ServerContext
  readonly #feeds = new Map<string, ProjectFeed>()
  readonly #clients = new Map<TopicClient, Map<number, Subscription>>()

  constructor(server: ServerContext) {
    this.#server = server
  }

  /** `[2, channel, topic]`: sends the first value (or an error) and keeps the client current. */
  subscribe(client: TopicClient, channel: number, segments: string[]): void {
    this.unsubscribe(client, channel) // a reused channel replaces its subscription
    const feed = this.#feed(client.projectId)
    const key = `${segments.map(encodeURIComponent).join('/')}\n${accessKey(client.access)}`
    const result = this.#compute(feed.project, client.access, segments)
    if ('error' in result) {
      this.#dropFeedIfIdle(feed)
      return client.send([0, channel, result.error])
    }
    const sub: Subscription = { client, channel, segments, key, value: result.value, relatedRuns: new Set(), timer: null }
    feed.subscriptions.add(sub)
    let channels = this.#clients.get(client)
    if (!channels) this.#clients.set(client, (channels = new Map()))
    channels.set(channel, sub)
    client.send([2, channel, result.value])
    this.#afterValue(feed, sub)
  }

  /** `[3, channel]`: no reply. */
  unsubscribe(client: TopicClient, channel: number): void {
    const sub = this.#clients.get(client)?.get(channel)
    if (sub) this.#remove(sub)
  }

  /** `[1, channel, topic, action, args]`: answers `[1, channel, result]` or `[0, channel, error]`. */
  execute(client: TopicClient, channel: number, segments: string[], action: string): void {
    const project = this.#server.projects.get(client.projectId)
    const outcome = executeAction(project, client.access, segments, action)
    client.send('error' in outcome ? [0, channel, outcome.error] : [1, channel, outcome.result])
  }

  /** The connection closed: forget all its subscriptions. */
  disconnect(client: TopicClient): void {
    for (const sub of [...(this.#clients.get(client)?.values() ?? [])]) this.#remove(sub)
    this.#clients.delete(client)
  }

  /** Server shutdown: stop listening and release every timer. */
  close(): void {
    for (const client of [...this.#clients.keys()]) this.disconnect(client)
    for (const feed of [...this.#feeds.values()]) this.#dropFeed(feed)
  }

  #compute(project: Project | null, access: Access, segments: string[]): TopicResult {
    try {
      return computeTopic(project, access, segments)
    } catch (err) {
      this.#server.logger.error(`topic ${segments.join('/')}: ${(err as Error).stack ?? String(err)}`)
      return { error: 'internal_error' }
    }
  }

  #feed(projectId: string): ProjectFeed {
    let feed = this.#feeds.get(projectId)
    if (!feed) this.#feeds.set(projectId, (feed = new ProjectFeed(projectId)))
    // an unbound feed looks again now: the project may have been created since the last poll
    if (!feed.project) this.#bind(feed)
    return feed
  }

  /**
   * Attaches an unbound feed to its project's change events. Reads never create a project, so
   * subscriptions to one that does not exist yet (`workspaces` before the first write) poll
   * until it does.
   */
  #bind(feed: ProjectFeed): void {
    const project = this.#server.projects.get(feed.id)
    if (!project) {
      feed.poll ??= setInterval(() => this.#bind(feed), PROJECT_POLL_MS)
      feed.poll.unref?.()
      return
    }
    if (feed.poll) clearInterval(feed.poll)
    feed.poll = null
    feed.project = project
    feed.unsubscribe = project.orchestrator.subscribe((event) => {
      feed.changes.set(changeKey(event), event)
      this.#scheduleFlush(feed)
    })
    // values sent so far were computed without the project
    for (const sub of feed.subscriptions) feed.dirty.add(sub)
    if (feed.dirty.size > 0) this.#scheduleFlush(feed)
  }

  #scheduleFlush(feed: ProjectFeed): void {
    if (feed.flushScheduled) return
    feed.flushScheduled = true
    // one flush per event-loop turn: a request that emits many events costs one recompute.
    // When recomputing is expensive (a live view of a large run), flushes are spaced so that
    // they take at most about a fifth of the time: the view lags a little, scheduling doesn't.
    const wait = Math.min(MAX_FLUSH_SPACING_MS, feed.lastFlushCost * 4) - (performance.now() - feed.lastFlushEnd)
    if (feed.lastFlushCost > 2 && wait > 0) setTimeout(() => this.#flush(feed), wait)
    else setImmediate(() => this.#flush(feed))
  }

  #flush(feed: ProjectFeed): void {
    const started = performance.now()
    try {
      this.#flushNow(feed)
    } finally {
      feed.lastFlushEnd = performance.now()
      feed.lastFlushCost = feed.lastFlushEnd - started
    }
  }

  #flushNow(feed: ProjectFeed): void {
    feed.flushScheduled = false
    if (this.#feeds.get(feed.id) !== feed) return
    try {
      if (feed.project) {
        for (const event of feed.changes.values()) {
          const matches = changeMatcher(feed.project, event)
          for (const sub of feed.subscriptions) if (matches(sub)) feed.dirty.add(sub)
        }
      }
    } catch (err) {
      // without knowing what changed, recompute everything rather than miss an update
      this.#server.logger.error(`topics: ${(err as Error).stack ?? String(err)}`)
      for (const sub of feed.subscriptions) feed.dirty.add(sub)
    }
    feed.changes.clear()
    const dirty = [...feed.dirty]
    feed.dirty.clear()
    const computed = new Map<string, TopicResult>()
    for (const sub of dirty) {
      if (!feed.subscriptions.has(sub)) continue
      let result = computed.get(sub.key)
      if (!result) computed.set(sub.key, (result = this.#compute(feed.project, sub.client.access, sub.segments)))
      try {
        this.#push(feed, sub, result)
      } catch (err) {
        // this runs outside any request: a throw here would take the whole server down
        this.#server.logger.error(`topic ${sub.segments.join('/')}: ${(err as Error).stack ?? String(err)}`)
        this.#push(feed, sub, { error: 'internal_error' })
      }
    }
  }

  /** Sends the difference to what the subscriber holds, or the error that ends it (§11.1). */
  #push(feed: ProjectFeed, sub: Subscription, result: TopicResult): void {
    if ('error' in result) {
      this.#remove(sub)
      return sub.client.send([0, sub.channel, result.error])
    }
    const updates = diffTopicValues(sub.value, result.value)
    sub.value = result.value
    if (updates.length > 0) sub.client.send([3, sub.channel, updates])
    this.#afterValue(feed, sub)
  }

  /** Bookkeeping after a value was sent: runs it mentions, and its next time-driven change. */
  #afterValue(feed: ProjectFeed, sub: Subscription): void {
    sub.relatedRuns = referencedRuns(sub.segments, sub.value)
    if (sub.timer) clearTimeout(sub.timer)
    sub.timer = null
    const now = Date.now()
    const at = nextTimedChange(sub.segments, sub.value, now)
    if (at === null) return
    sub.timer = setTimeout(() => {
      sub.timer = null
      feed.dirty.add(sub)
      this.#scheduleFlush(feed)
    }, Math.min(at - now + 1, MAX_TIMER_MS))
    sub.timer.unref?.()
  }

  #remove(sub: Subscription): void {
    if (sub.timer) clearTimeout(sub.timer)
    sub.timer = null
    const channels = this.#clients.get(sub.client)
    if (channels?.get(sub.channel) === sub) channels.delete(sub.channel)
    const feed = this.#feeds.get(sub.client.projectId)
    if (!feed) return
    feed.subscriptions.delete(sub)
    feed.dirty.delete(sub)
    this.#dropFeedIfIdle(feed)
  }

  #dropFeedIfIdle(feed: ProjectFeed): void {
    if (feed.subscriptions.size === 0) this.#dropFeed(feed)
  }

  #dropFeed(feed: ProjectFeed): void {
    feed.unsubscribe?.()
    feed.unsubscribe = null
    if (feed.poll) clearInterval(feed.poll)
    feed.poll = null
    if (this.#feeds.get(feed.id) === feed) this.#feeds.delete(feed.id)
  }
}

/** Topic values depend on the caller only through these (§16.1). */
function accessKey(access: Access): string {
  return [access.type, access.principal?.type ?? '', access.principal?.externalId ?? '', ...access.workspaces].join('\n')
}
