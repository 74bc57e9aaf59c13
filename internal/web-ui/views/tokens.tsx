/** Service tokens (http-api.md §9.9): list, create (shown once), revoke. Needs the super token. */
import { useState } from 'hono/jsx/dom'
import type { TokenEntry, WorkspaceSummary } from '../../protocol/api.ts'
import { ApiError } from '../../protocol/errors.ts'
import { Card, Crumbs, Empty, toast, TopicList } from '../components/ui.tsx'
import { formatDateTime } from '../format.ts'
import { client, describeError } from '../session.ts'
import { useTopic } from '../topics.ts'

export function TokensView() {
  const { value: tokens, error } = useTopic<Record<string, TokenEntry>>(['tokens'])
  const { value: workspaces } = useTopic<Record<string, WorkspaceSummary>>(['workspaces'])
  const [created, setCreated] = useState<string | null>(null)
  const head = <Crumbs items={[{ label: 'Workspaces', href: '#/' }, { label: 'Tokens' }]} />
  const needsSuper =
    error instanceof ApiError && (error.code === 'forbidden' || error.status === 401) ? (
      <Empty>Managing tokens needs the super token: set it with the Token button above.</Empty>
    ) : null

  const create = async (e: Event) => {
    e.preventDefault()
    const form = e.target as HTMLFormElement
    const data = new FormData(form)
    const name = String(data.get('name') ?? '').trim() || undefined
    const chosen = data.getAll('workspaces').map(String)
    const days = Number(data.get('days') ?? 0)
    try {
      const res = await client.createToken({ name, workspaces: chosen.length ? chosen : undefined, expiresIn: days > 0 ? days * 86400 : undefined })
      setCreated(res.token)
      form.reset()
    } catch (err) {
      toast(describeError(err))
    }
  }
  const revoke = (t: TokenEntry) => async () => {
    if (!confirm(`Revoke token ${t.name ?? t.externalId}? Clients using it stop working.`)) return
    try {
      await client.revokeToken(t.externalId)
      toast('Token revoked.', true)
    } catch (err) {
      toast(describeError(err))
    }
  }

  const list = Object.values(tokens ?? {}).sort((a, b) => b.createdAt - a.createdAt)
  const names = Object.values(workspaces ?? {}).filter((w) => w.state !== 'archived').map((w) => w.name).sort()
  return (
    <div class="page">
      {head}
      <div class="page-head">
        <h1>Tokens</h1>
        <span class="count">{list.length}</span>
      </div>
      <Card flush>
        {needsSuper ??
          (<TopicList
            what="Tokens"
            error={error}
            loaded={!!tokens}
            isEmpty={list.length === 0}
            empty="No service tokens."
          >
            <table class="table">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Id</th>
                  <th>Workspaces</th>
                  <th>Created</th>
                  <th>Expires</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {list.map((t) => (
                  <tr data-token={t.externalId}>
                    <td>{t.name ?? <span class="faint">—</span>}</td>
                    <td class="mono">{t.externalId}</td>
                    <td>{t.workspaces ? t.workspaces.join(', ') : <span class="faint">all</span>}</td>
                    <td class="nowrap">{formatDateTime(t.createdAt * 1000)}</td>
                    <td class="nowrap">{t.expiresAt ? formatDateTime(t.expiresAt * 1000) : <span class="faint">never</span>}</td>
                    <td class="actions">
                      <button type="button" class="btn btn-small btn-danger" onClick={revoke(t)}>
                        Revoke
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TopicList>)}
      </Card>
      {!needsSuper && (
        <Card title="New token">
          {created && (
            <div class="notice created-token">
              Copy this token now, it is not shown again: <code class="secret">{created}</code>
            </div>
          )}
          <form class="inline-form" onSubmit={create}>
            <input class="input" name="name" placeholder="name, e.g. ci" />
            <select class="input" name="workspaces" multiple size={Math.min(4, Math.max(2, names.length))} title="Workspaces it may use (none selected: all)">
              {names.map((n) => (
                <option value={n}>{n}</option>
              ))}
            </select>
            <input class="input" name="days" type="number" min="0" placeholder="expires in days (empty: never)" />
            <button type="submit" class="btn btn-primary">
              Create token
            </button>
          </form>
        </Card>
      )}
    </div>
  )
}
