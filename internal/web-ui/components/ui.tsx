/** Small building blocks shared by the views. */
import type { Child } from 'hono/jsx/dom'
import type { TagSet } from '../../protocol/api.ts'
import { formatAgo, formatDateTime, formatTags } from '../format.ts'
import { href } from '../route.ts'
import { createStore, useNow, useStore } from '../store.ts'
import { topicErrorText } from '../topics.ts'
import type { WorkspaceRef } from '../workspace-ref.ts'

export interface Crumb {
  label: string
  href?: string
}

/** The breadcrumb trail at the top of a page; also names the browser tab. */
export function Crumbs({ items }: { items: Crumb[] }) {
  document.title = items.length > 0 ? `${items[items.length - 1]!.label} · Coflux` : 'Coflux'
  return (
    <nav class="crumbs" aria-label="Breadcrumb">
      {items.map((item, i) => (
        <>
          {i > 0 && <span class="sep">/</span>}
          {item.href && i < items.length - 1 ? <a href={item.href}>{item.label}</a> : <span class={i === items.length - 1 ? 'current' : ''}>{item.label}</span>}
        </>
      ))}
    </nav>
  )
}

/** Crumbs of a page inside a workspace. */
export function WorkspaceCrumbs({ ws, items }: { ws: WorkspaceRef; items: Crumb[] }) {
  return <Crumbs items={[{ label: 'Workspaces', href: '#/' }, { label: ws.name, href: href.workspace(ws.name) }, ...items]} />
}

export function Card({ title, extra, children, flush, class: className }: { title?: Child; extra?: Child; children?: Child; flush?: boolean; class?: string }) {
  return (
    <section class={`card ${className ?? ''}`}>
      {(title || extra) && (
        <div class="card-head">
          {typeof title === 'string' ? <h2>{title}</h2> : title}
          <span class="spacer" />
          {extra}
        </div>
      )}
      <div class={flush ? 'card-body flush' : 'card-body'}>{children}</div>
    </section>
  )
}

export const Empty = ({ children }: { children?: Child }) => <div class="empty">{children}</div>
export const Loading = ({ what }: { what?: string }) => <div class="loading">Loading{what ? ` ${what}` : ''}…</div>

/** A list backed by a topic: its error, a spinner until the first value, the empty note, or the list. */
export function TopicList(props: { what: string; error: Error | undefined; loaded: boolean; isEmpty: boolean; empty: Child; children?: Child }) {
  if (props.error) return <Empty>{topicErrorText(props.error, props.what)}</Empty>
  if (!props.loaded) return <Loading />
  if (props.isEmpty) return <Empty>{props.empty}</Empty>
  return <>{props.children}</>
}

/** Status dot and badge; the class names (`s-<status>`) carry the colour, the text the meaning. */
export const StatusDot = ({ status, title }: { status: string; title?: string }) => <span class={`dot s-${status}`} title={title ?? status} />
export const StatusBadge = ({ status, text }: { status: string; text?: string }) => (
  <span class={`badge s-${status}`}>{text ?? status.replace(/_/g, ' ')}</span>
)

/** "5s ago", refreshed while shown; the exact time on hover. */
export function Ago({ ms }: { ms: number | null | undefined }) {
  useNow(5000) // re-render every few seconds; the text uses the time of this render
  if (typeof ms !== 'number') return <span class="faint">—</span>
  return (
    <time dateTime={new Date(ms).toISOString()} title={formatDateTime(ms)}>
      {formatAgo(ms, Date.now())}
    </time>
  )
}

export function Tags({ tags }: { tags: TagSet | null | undefined }) {
  const text = formatTags(tags)
  return text ? <span class="chips">{text.split(' ').map((t) => <span class="chip">{t}</span>)}</span> : <span class="faint">—</span>
}

// ---- toasts

interface Toast {
  id: number
  text: string
  ok: boolean
}
const toasts = createStore<Toast[]>([])
let nextToast = 1

/** A short message in the corner: `ok` for a confirmation, else an error. */
export function toast(text: string, ok = false): void {
  const id = nextToast++
  toasts.set([...toasts.get(), { id, text, ok }])
  setTimeout(() => toasts.set(toasts.get().filter((t) => t.id !== id)), 6000)
}

export function Toasts() {
  const list = useStore(toasts)
  return (
    <div class="toasts" role="status">
      {list.map((t) => (
        <div class={t.ok ? 'toast ok' : 'toast'}>{t.text}</div>
      ))}
    </div>
  )
}
