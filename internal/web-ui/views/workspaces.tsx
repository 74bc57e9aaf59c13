/** All workspaces: create one (optionally on a base), pause, resume, archive. */
import { useState } from 'hono/jsx/dom'
import type { WorkspaceSummary } from '../../protocol/api.ts'
import { Card, Crumbs, Empty, Loading, StatusBadge, toast } from '../components/ui.tsx'
import { href } from '../route.ts'
import { client, describeError } from '../session.ts'
import { topicErrorText, useTopic } from '../topics.ts'

type Entry = [string, WorkspaceSummary]

export function WorkspacesView() {
  const { value: all, error } = useTopic<Record<string, WorkspaceSummary>>(['workspaces'])
  const [showArchived, setShowArchived] = useState(false)
  const head = <Crumbs items={[{ label: 'Workspaces' }]} />
  if (error) return <div class="page">{head}<Card><Empty>{topicErrorText(error, 'Workspaces')}</Empty></Card></div>
  if (!all) return <div class="page">{head}<Loading what="workspaces" /></div>
  const entries = Object.entries(all).sort((a, b) => a[1].name.localeCompare(b[1].name))
  const archived = entries.filter(([, w]) => w.state === 'archived').length
  const shown = entries.filter(([, w]) => showArchived || w.state !== 'archived')
  return (
    <div class="page">
      {head}
      <div class="page-head">
        <h1>Workspaces</h1>
        <span class="count">{entries.length - archived}</span>
        <span class="spacer" />
        {archived > 0 && (
          <label class="check">
            <input type="checkbox" checked={showArchived} onChange={(e: Event) => setShowArchived((e.target as HTMLInputElement).checked)} />
            Show archived ({archived})
          </label>
        )}
      </div>
      <Card flush>
        {shown.length === 0 ? (
          <Empty>
            No workspaces yet. Create one below, or start a worker with <code>coflux worker --dev &lt;module&gt;</code>.
          </Empty>
        ) : (
          <table class="table">
            <thead>
              <tr>
                <th>Name</th>
                <th>State</th>
                <th>Base</th>
                <th>Id</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {shown.map((entry) => (
                <WorkspaceRow entry={entry} all={all} />
              ))}
            </tbody>
          </table>
        )}
      </Card>
      <CreateWorkspace all={all} />
    </div>
  )
}

function WorkspaceRow({ entry: [id, w], all }: { entry: Entry; all: Record<string, WorkspaceSummary> }) {
  const act = (what: 'pause' | 'resume' | 'archive') => async () => {
    if (what === 'archive' && !confirm(`Archive workspace '${w.name}'? Its runs stop and it leaves the list.`)) return
    try {
      if (what === 'pause') await client.pauseWorkspace(id)
      else if (what === 'resume') await client.resumeWorkspace(id)
      else await client.archiveWorkspace(id)
      toast(`Workspace '${w.name}' ${what === 'pause' ? 'paused' : what === 'resume' ? 'resumed' : 'archived'}.`, true)
    } catch (err) {
      toast(describeError(err))
    }
  }
  const base = w.baseId ? all[w.baseId] : undefined
  return (
    <tr data-workspace={w.name}>
      <td>{w.state === 'archived' ? w.name : <a href={href.workspace(w.name)}>{w.name}</a>}</td>
      <td>
        <StatusBadge status={w.state} />
      </td>
      <td>{base ? <a href={href.workspace(base.name)}>{base.name}</a> : <span class="faint">—</span>}</td>
      <td class="mono faint">{id}</td>
      <td class="actions">
        {w.state === 'active' && (
          <button type="button" class="btn btn-small" onClick={act('pause')}>
            Pause
          </button>
        )}
        {w.state === 'paused' && (
          <button type="button" class="btn btn-small" onClick={act('resume')}>
            Resume
          </button>
        )}
        {w.state !== 'archived' && (
          <button type="button" class="btn btn-small btn-danger" onClick={act('archive')}>
            Archive
          </button>
        )}
      </td>
    </tr>
  )
}

function CreateWorkspace({ all }: { all: Record<string, WorkspaceSummary> }) {
  const submit = async (e: Event) => {
    e.preventDefault()
    const form = e.target as HTMLFormElement
    const data = new FormData(form)
    const name = String(data.get('name') ?? '').trim()
    const baseId = String(data.get('base') ?? '') || undefined
    if (!name) return
    try {
      await client.createWorkspace(name, baseId)
      form.reset()
      toast(`Workspace '${name}' created.`, true)
    } catch (err) {
      toast(describeError(err))
    }
  }
  const bases = Object.entries(all).filter(([, w]) => w.state !== 'archived')
  return (
    <Card title="New workspace">
      <form class="inline-form" onSubmit={submit}>
        <input class="input" name="name" placeholder="name, e.g. staging" required />
        <select class="input" name="base" title="Base workspace: cached results and manifests are inherited from it">
          <option value="">no base</option>
          {bases.map(([id, w]) => (
            <option value={id}>based on {w.name}</option>
          ))}
        </select>
        <button type="submit" class="btn btn-primary">
          Create
        </button>
      </form>
    </Card>
  )
}
