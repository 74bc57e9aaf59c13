/** A workflow: its parameters and configuration as registered, and its runs. */
import type { CacheConfig, ModulesTopic, RetriesConfig, WorkflowTopic } from '../../protocol/api.ts'
import { Ago, Card, Empty, Loading, StatusBadge, Tags, WorkspaceCrumbs } from '../components/ui.tsx'
import { formatDateTime, formatMs } from '../format.ts'
import { href } from '../route.ts'
import { navigate } from '../use-route.ts'
import { topicErrorText, useTopic } from '../topics.ts'
import type { WorkspaceRef } from '../workspace-ref.ts'

export function cacheText(cache: CacheConfig): string {
  const parts = [`params: ${JSON.stringify(cache.params)}`]
  if (cache.maxAge) parts.push(`max age ${formatMs(cache.maxAge)}`)
  if (cache.namespace) parts.push(`namespace ${cache.namespace}`)
  if (cache.version) parts.push(`version ${cache.version}`)
  return parts.join(' · ')
}

export function retriesText(r: RetriesConfig): string {
  const limit = r.limit == null ? 'unlimited' : String(r.limit)
  return r.backoffMin || r.backoffMax ? `${limit} · backoff ${formatMs(r.backoffMin)}–${formatMs(r.backoffMax)}` : limit
}

export function WorkflowView({ ws, module, target }: { ws: WorkspaceRef; module: string; target: string }) {
  const modules = useTopic<ModulesTopic>(['workspaces', ws.id, 'modules'])
  const { value, error } = useTopic<WorkflowTopic>(['workspaces', ws.id, 'workflows', module, target])
  const active = new Set(modules.value?.[module]?.workflows[target]?.activeRuns ?? [])
  const head = (
    <>
      <WorkspaceCrumbs ws={ws} items={[{ label: `${module}/${target}` }]} />
      <div class="page-head">
        <h1 class="mono">
          <span class="subtle">{module}/</span>
          {target}
        </h1>
      </div>
    </>
  )
  if (error) return <div class="page">{head}<Card><Empty>{topicErrorText(error, 'Workflow')}</Empty></Card></div>
  if (!value) return <div class="page">{head}<Loading /></div>
  const runs = Object.values(value.runs).sort((a, b) => b.createdAt - a.createdAt)
  const c = value.configuration
  const config: [string, unknown][] = c
    ? ([
        ['Wait for', c.waitFor.length ? c.waitFor.join(', ') : null],
        ['Cache', c.cache && cacheText(c.cache)],
        ['Defer', c.defer && `params: ${JSON.stringify(c.defer.params)}`],
        ['Delay', c.delay ? formatMs(c.delay) : null],
        ['Retries', c.retries && retriesText(c.retries)],
        ['Timeout', c.timeout ? formatMs(c.timeout) : null],
        ['Recurrent', c.recurrent ? 'yes' : null],
        ['Memo', c.memo ? 'yes' : null],
        ['Requires', c.requires && Object.keys(c.requires).length ? <Tags tags={c.requires} /> : null],
      ] as [string, unknown][]).filter(([, v]) => v)
    : []
  return (
    <div class="page">
      {head}
      {value.instruction && (
        <Card>
          <div class="instruction">{value.instruction}</div>
        </Card>
      )}
      <div class="grid">
        <Card title="Parameters" flush>
          {value.parameters?.length ? (
            <table class="table">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Annotation</th>
                  <th>Default</th>
                </tr>
              </thead>
              <tbody>
                {value.parameters.map((p) => (
                  <tr>
                    <td class="mono">{p.name}</td>
                    <td class="mono subtle">{p.annotation ?? '—'}</td>
                    <td class="mono">{p.default ?? <span class="faint">—</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <Empty>{value.parameters ? 'No parameters.' : 'No manifest registered.'}</Empty>
          )}
        </Card>
        <Card title="Configuration">
          {config.length ? (
            <dl class="kv">
              {config.map(([k, v]) => (
                <>
                  <dt>{k}</dt>
                  <dd>{v as string}</dd>
                </>
              ))}
            </dl>
          ) : (
            <div class="subtle">{c ? 'Defaults.' : 'No manifest registered.'}</div>
          )}
        </Card>
      </div>
      <Card title="Runs" extra={<span class="count">{runs.length}</span>} flush>
        {runs.length === 0 ? (
          <Empty>
            No runs yet. Submit one with <code>coflux submit {module}/{target}</code>.
          </Empty>
        ) : (
          <table class="table">
            <thead>
              <tr>
                <th>Run</th>
                <th>State</th>
                <th>Started</th>
                <th>Created by</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr class="row-link" onClick={() => navigate(href.run(ws.name, r.id))}>
                  <td>
                    <a class="mono" href={href.run(ws.name, r.id)}>
                      {r.id}
                    </a>
                  </td>
                  <td>{active.has(r.id) ? <StatusBadge status="running" text="active" /> : <StatusBadge status="finished" />}</td>
                  <td class="nowrap">
                    <Ago ms={r.createdAt} />
                    <span class="faint"> · {formatDateTime(r.createdAt)}</span>
                  </td>
                  <td>{r.createdBy ? <span class="chip">{`${r.createdBy.type}:${r.createdBy.externalId}`}</span> : <span class="faint">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </div>
  )
}
