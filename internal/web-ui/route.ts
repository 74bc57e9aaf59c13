/**
 * Hash routes: `#/ws/<workspace>/…`, where the workspace is named by its name (what links use)
 * or its id. Pure (unit-tested); use-route.ts follows `location.hash`.
 */
import { runIdOf, splitExecutionId } from '../protocol/ids.ts'

export const RUN_TABS = ['tree', 'graph', 'timeline'] as const
export type RunTab = (typeof RUN_TABS)[number]

export type Route =
  | { name: 'workspaces' }
  | { name: 'tokens' }
  | { name: 'device'; code: string }
  | { name: 'overview'; ws: string }
  | { name: 'queue'; ws: string }
  | { name: 'sessions'; ws: string }
  | { name: 'pools'; ws: string }
  | { name: 'pool'; ws: string; pool: string }
  | { name: 'inputs'; ws: string }
  | { name: 'schedules'; ws: string }
  | { name: 'workflow'; ws: string; module: string; target: string }
  | { name: 'run'; ws: string; runId: string; step: string | null; attempt: number | null; tab: RunTab }

export type WorkspaceRoute = Extract<Route, { ws: string }>

export function parseRoute(hash: string, pathname = '/', search = ''): Route {
  if (pathname === '/device') return { name: 'device', code: new URLSearchParams(search).get('code') ?? '' }
  const raw = hash.replace(/^#/, '') || '/'
  const q = raw.indexOf('?')
  const query = new URLSearchParams(q >= 0 ? raw.slice(q + 1) : '')
  let parts: string[]
  try {
    parts = (q >= 0 ? raw.slice(0, q) : raw).split('/').filter(Boolean).map(decodeURIComponent)
  } catch {
    parts = []
  }
  if (parts[0] === 'tokens') return { name: 'tokens' }
  if (parts[0] !== 'ws' || !parts[1]) return { name: 'workspaces' }
  const ws = parts[1]
  const [section, a, b] = parts.slice(2)
  switch (section) {
    case 'runs':
      if (!a) break
      return {
        name: 'run',
        ws,
        runId: a,
        step: query.get('step'),
        attempt: Number(query.get('attempt')) || null,
        tab: (RUN_TABS as readonly string[]).includes(query.get('tab') ?? '') ? (query.get('tab') as RunTab) : 'tree',
      }
    case 'workflows':
      if (a && b) return { name: 'workflow', ws, module: a, target: b }
      break
    case 'queue':
    case 'sessions':
    case 'pools':
    case 'inputs':
    case 'schedules':
      if (section === 'pools' && a) return { name: 'pool', ws, pool: a }
      return { name: section, ws }
  }
  return { name: 'overview', ws }
}

const enc = encodeURIComponent

/** Links; `ws` is the workspace's name. */
export const href = {
  workspaces: () => '#/',
  tokens: () => '#/tokens',
  workspace: (ws: string) => `#/ws/${enc(ws)}`,
  queue: (ws: string) => `#/ws/${enc(ws)}/queue`,
  sessions: (ws: string) => `#/ws/${enc(ws)}/sessions`,
  pools: (ws: string) => `#/ws/${enc(ws)}/pools`,
  pool: (ws: string, pool: string) => `#/ws/${enc(ws)}/pools/${enc(pool)}`,
  inputs: (ws: string) => `#/ws/${enc(ws)}/inputs`,
  schedules: (ws: string) => `#/ws/${enc(ws)}/schedules`,
  workflow: (ws: string, module: string, target: string) => `#/ws/${enc(ws)}/workflows/${enc(module)}/${enc(target)}`,
  run(ws: string, runId: string, options: { step?: string | null; attempt?: number | null; tab?: RunTab } = {}): string {
    const q = new URLSearchParams()
    if (options.tab && options.tab !== 'tree') q.set('tab', options.tab)
    if (options.step) q.set('step', options.step)
    if (options.attempt) q.set('attempt', String(options.attempt))
    const qs = q.toString()
    return `#/ws/${enc(ws)}/runs/${enc(runId)}${qs ? `?${qs}` : ''}`
  },
  execution(ws: string, executionId: string, tab?: RunTab): string {
    const id = splitExecutionId(executionId)
    return href.run(ws, runIdOf(executionId), { step: id?.stepId, attempt: id ? Number(id.attempt) : null, tab })
  },
}
