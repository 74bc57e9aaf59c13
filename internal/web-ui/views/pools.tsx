/**
 * Pools (semantics.md §21): the list, one pool with its launches (each worker the server
 * started, its state and launcher output), and the form that creates or edits one.
 */
import { useState } from 'hono/jsx/dom'
import { stringifyJson } from '../../protocol/json.ts'
import { LAUNCHER_TYPES, type LauncherType, type Pool, type PoolTopic, type PoolWorker } from '../../protocol/api.ts'
import { Ago, Card, Empty, Loading, StatusBadge, Tags, toast, WorkspaceCrumbs, TopicList } from '../components/ui.tsx'
import { formatDateTime } from '../format.ts'
import { FORM_FIELDS, poolFormText, poolRequest, type PoolFormText } from '../pool-form.ts'
import { href } from '../route.ts'
import { navigate } from '../use-route.ts'
import { client, describeError } from '../session.ts'
import { topicErrorText, useTopic } from '../topics.ts'
import type { WorkspaceRef } from '../workspace-ref.ts'

export function PoolsView({ ws }: { ws: WorkspaceRef }) {
  const { value: pools, error } = useTopic<Record<string, Pool>>(['workspaces', ws.id, 'pools'])
  const entries = Object.entries(pools ?? {}).sort(([a], [b]) => a.localeCompare(b))
  return (
    <div class="page">
      <WorkspaceCrumbs ws={ws} items={[{ label: 'Pools' }]} />
      <div class="page-head">
        <h1>Pools</h1>
        <span class="count">{entries.length}</span>
      </div>
      <Card flush>
        <TopicList
          what="Pools"
          error={error}
          loaded={!!pools}
          isEmpty={entries.length === 0}
          empty="No pools. A pool starts workers on demand for the executions its modules need."
        >
          <table class="table">
            <thead>
              <tr>
                <th>Pool</th>
                <th>State</th>
                <th>Launcher</th>
                <th>Modules</th>
                <th>Provides</th>
              </tr>
            </thead>
            <tbody>
              {entries.map(([name, p]) => (
                <tr class="row-link" data-pool={name} onClick={() => navigate(href.pool(ws.name, name))}>
                  <td>
                    <a href={href.pool(ws.name, name)}>{name}</a>
                  </td>
                  <td>
                    <StatusBadge status={p.state ?? 'active'} />
                  </td>
                  <td>{p.launcher?.type ?? <span class="faint">none</span>}</td>
                  <td class="mono">{p.modules.join(', ') || <span class="faint">—</span>}</td>
                  <td>
                    <Tags tags={p.provides} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TopicList>
      </Card>
      <Card title="New pool">
        <PoolForm ws={ws} name={null} pool={null} onDone={(name) => navigate(href.pool(ws.name, name))} />
      </Card>
    </div>
  )
}

export function PoolView({ ws, name }: { ws: WorkspaceRef; name: string }) {
  const { value, error } = useTopic<PoolTopic>(['workspaces', ws.id, 'pools', name])
  const [isEditing, setEditing] = useState(false)
  const head = <WorkspaceCrumbs ws={ws} items={[{ label: 'Pools', href: href.pools(ws.name) }, { label: name }]} />
  if (error) return <div class="page">{head}<Card><Empty>{topicErrorText(error, 'Pool')}</Empty></Card></div>
  if (!value) return <div class="page">{head}<Loading /></div>
  const { pool, workers } = value
  const isDisabled = pool.state === 'disabled'
  const act = (what: 'enable' | 'disable' | 'delete') => async () => {
    if (what === 'delete' && !confirm(`Delete pool '${name}'? Its workers are stopped.`)) return
    try {
      if (what === 'enable') await client.enablePool(ws.id, name)
      else if (what === 'disable') await client.disablePool(ws.id, name)
      else {
        await client.updatePool(ws.id, name, null)
        navigate(href.pools(ws.name))
      }
    } catch (err) {
      toast(describeError(err))
    }
  }
  const launches = Object.entries(workers).sort((a, b) => (b[1].startingAt ?? 0) - (a[1].startingAt ?? 0))
  return (
    <div class="page">
      {head}
      <div class="page-head">
        <h1>{name}</h1>
        <StatusBadge status={pool.state ?? 'active'} />
        <span class="spacer" />
        <button type="button" class="btn" onClick={() => setEditing(!isEditing)}>
          {isEditing ? 'Close editor' : 'Edit'}
        </button>
        <button type="button" class="btn" onClick={act(isDisabled ? 'enable' : 'disable')}>
          {isDisabled ? 'Enable' : 'Disable'}
        </button>
        <button type="button" class="btn btn-danger" onClick={act('delete')}>
          Delete
        </button>
      </div>
      {isEditing ? (
        <Card title="Edit pool">
          <PoolForm ws={ws} name={name} pool={pool} onDone={() => setEditing(false)} />
        </Card>
      ) : (
        <Card title="Configuration">
          <dl class="kv">
            <dt>Modules</dt>
            <dd class="mono">{pool.modules.join(', ') || '—'}</dd>
            <dt>Provides</dt>
            <dd>
              <Tags tags={pool.provides} />
            </dd>
            <dt>Accepts</dt>
            <dd>
              <Tags tags={pool.accepts} />
            </dd>
            <dt>Launcher</dt>
            <dd>
              <pre class="value">{pool.launcher ? stringifyJson(pool.launcher, { indent: 2 }) : 'none'}</pre>
            </dd>
          </dl>
        </Card>
      )}
      <Card title="Launches" extra={<span class="count">{launches.length}</span>} flush>
        {launches.length === 0 ? (
          <Empty>No workers launched yet: the pool starts one when an execution it can run is queued.</Empty>
        ) : (
          launches.map(([id, w]) => <Launch id={id} worker={w} />)
        )}
      </Card>
    </div>
  )
}

function launchState(w: PoolWorker): string {
  if (w.startError || w.error) return 'error'
  if (w.stoppedAt) return 'stopped'
  if (w.stoppingAt) return 'stopping'
  if (w.deactivatedAt) return 'deactivated'
  if (w.connected) return w.state === 'active' ? 'connected' : w.state
  return w.startedAt ? 'started' : 'launching'
}

function Launch({ id, worker: w }: { id: string; worker: PoolWorker }) {
  const state = launchState(w)
  const problem = w.startError ?? w.error ?? w.stopError
  return (
    <div class="launch" data-worker={id}>
      <div class="launch-head">
        <StatusBadge status={state} />
        <span class="mono">{id}</span>
        <span class="subtle">
          started <Ago ms={w.startingAt} />
          {w.stoppedAt ? <> · stopped {formatDateTime(w.stoppedAt)}</> : null}
        </span>
        <span class="spacer" />
        <span class="subtle">
          {w.executions} execution{w.executions === 1 ? '' : 's'}
          {w.sessionId ? ` · session ${w.sessionId}` : ''}
        </span>
      </div>
      {problem && <div class="notice warn">{problem}</div>}
      <details class="launch-logs" open={!!problem}>
        <summary>Output</summary>
        <pre class="value">{w.logs || '(no output)'}</pre>
      </details>
    </div>
  )
}

function PoolForm({ ws, name, pool, onDone }: { ws: WorkspaceRef; name: string | null; pool: Pool | null; onDone: (name: string) => void }) {
  const [text, setText] = useState<PoolFormText>(() => poolFormText(pool))
  const [busy, setBusy] = useState(false)
  const set = (patch: Partial<PoolFormText>) => setText({ ...text, ...patch })
  const setField = (field: string, value: string) => set({ fields: { ...text.fields, [field]: value } })
  const bind = (key: 'modules' | 'provides' | 'accepts' | 'concurrency' | 'env') => ({
    value: text[key],
    onInput: (e: Event) => set({ [key]: (e.target as HTMLInputElement).value }),
  })
  const submit = async (e: Event) => {
    e.preventDefault()
    const form = e.target as HTMLFormElement
    const poolName = name ?? String(new FormData(form).get('name') ?? '').trim()
    if (!poolName) return
    setBusy(true)
    try {
      if (name) await client.updatePool(ws.id, name, poolRequest(text, true))
      else await client.createPool(ws.id, poolName, poolRequest(text, false))
      toast(`Pool '${poolName}' ${name ? 'updated' : 'created'}.`, true)
      onDone(poolName)
    } catch (err) {
      toast(describeError(err))
    } finally {
      setBusy(false)
    }
  }
  return (
    <form class="pool-form form-grid" onSubmit={submit}>
      {!name && (
        <label>
          Name <input class="input" name="name" required placeholder="e.g. cpu" />
        </label>
      )}
      <label>
        Launcher
        <select class="input" name="type" onChange={(e: Event) => set({ type: (e.target as HTMLSelectElement).value as LauncherType, fields: {} })}>
          {LAUNCHER_TYPES.map((t) => (
            <option value={t} selected={t === text.type}>
              {t}
            </option>
          ))}
        </select>
      </label>
      {FORM_FIELDS[text.type].map((f) => (
        <label>
          {f}
          <input class="input" name={f} value={text.fields[f] ?? ''} onInput={(e: Event) => setField(f, (e.target as HTMLInputElement).value)} />
        </label>
      ))}
      <label>
        Modules <input class="input" name="modules" placeholder="app.flows, app.tasks" {...bind('modules')} />
      </label>
      <label>
        Provides <input class="input" name="provides" placeholder="gpu:A100 region:eu" {...bind('provides')} />
      </label>
      <label>
        Accepts <input class="input" name="accepts" placeholder="tag:value" {...bind('accepts')} />
      </label>
      <label>
        Concurrency <input class="input" name="concurrency" type="number" min="1" {...bind('concurrency')} />
      </label>
      <label class="wide">
        Environment <textarea class="input mono" name="env" rows={2} placeholder="KEY=value, one per line" {...bind('env')} />
      </label>
      <div class="row wide">
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {name ? 'Save' : 'Create pool'}
        </button>
      </div>
    </form>
  )
}
