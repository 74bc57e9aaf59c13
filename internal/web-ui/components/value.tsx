/**
 * Values as the CLI prints them (client/value-text.ts, values.md §9), with the same colour roles
 * turned into classes: the renderer's colour functions wrap each token in markers that are split
 * into spans here, so the page never re-implements the rendering.
 */
import { useEffect, useState, type Child } from 'hono/jsx/dom'
import { renderLogMessage, renderValue, renderValueData, type RenderableValue, type ValueColors } from '../../client/browser.ts'
import type { InputDetail } from '../../protocol/api.ts'
import { parseJson } from '../../protocol/json.ts'
import { formatSize } from '../format.ts'
import { client, describeError } from '../session.ts'

/** Private-use characters: the rendered text holds no raw control characters (strings are JSON-escaped). */
const OPEN = '\uE000'
const CLOSE = '\uE001'
const ROLES = ['string', 'number', 'keyword', 'reference', 'muted'] as const
const MARKED = new RegExp(`${OPEN}(\\d)([^${CLOSE}]*)${CLOSE}`, 'g')

const markers: ValueColors = Object.fromEntries(ROLES.map((role, i) => [role, (text: string) => `${OPEN}${i}${text}${CLOSE}`])) as unknown as ValueColors

/** Spans for marked text: `v-string`, `v-number`, `v-keyword`, `v-reference`, `v-muted`. */
function Marked({ text }: { text: string }) {
  const parts: Child[] = []
  let at = 0
  for (const m of text.matchAll(MARKED)) {
    if (m.index! > at) parts.push(text.slice(at, m.index))
    parts.push(<span class={`v-${ROLES[Number(m[1])]}`}>{m[2]}</span>)
    at = m.index! + m[0].length
  }
  if (at < text.length) parts.push(text.slice(at))
  return <>{parts}</>
}

/** A value (argument, result, placeholder): blobs up to 256 KiB load by themselves. */
export function ValueView({ value }: { value: RenderableValue | null | undefined }) {
  if (!value) return <span class="faint">—</span>
  if (value.type === 'blob') return <BlobValue value={value} />
  return (
    <pre class="value">
      <Marked text={renderValue(value, markers)} />
    </pre>
  )
}

const AUTO_LOAD_BYTES = 256 * 1024

function BlobValue({ value }: { value: Extract<RenderableValue, { type: 'blob' }> }) {
  const [text, setText] = useState<string | null>(null)
  const [requested, setRequested] = useState(value.size <= AUTO_LOAD_BYTES)
  useEffect(() => {
    if (!requested) return
    let live = true
    ;(async () => {
      try {
        const res = await client.fetch(`/blobs/${value.key}`)
        if (!res.ok) throw new Error(`HTTP ${res.status}`)
        const body = await res.text()
        let rendered: string
        try {
          rendered = renderValueData(parseJson(body), value.references, markers)
        } catch {
          rendered = body // not JSON: show as stored
        }
        if (live) setText(rendered)
      } catch (err) {
        if (live) setText(`(could not load the blob: ${describeError(err)})`)
      }
    })()
    return () => {
      live = false
    }
  }, [value.key, requested])
  if (text !== null) {
    return (
      <pre class="value">
        <Marked text={text} />
      </pre>
    )
  }
  return (
    <span class="value v-blob">
      <span class="chip" title={value.key}>
        blob · {formatSize(value.size)}
      </span>
      {requested ? <span class="faint">Loading…</span> : <button type="button" class="btn btn-small" onClick={() => setRequested(true)}>Load</button>}
    </span>
  )
}

/** A log line's message: placeholders filled, other values as `key=value` (as `coflux logs`). */
export function LogMessage({ template, values }: { template: string | null; values: Record<string, RenderableValue> }) {
  return <Marked text={renderLogMessage(template, values, markers)} />
}

/** An input's prompt with its placeholders filled in. */
export function PromptText({ input }: { input: Pick<InputDetail, 'template' | 'placeholders'> }) {
  return <Marked text={renderLogMessage(input.template, input.placeholders, markers)} />
}
