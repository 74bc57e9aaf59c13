/** The page: top bar, the view the route names, the token dialog and toasts. */
import { useEffect, useState } from 'hono/jsx/dom'
import type { DiscoverResponse } from '../../protocol/api.ts'
import { ApiError } from '../../protocol/errors.ts'
import { Empty, Toasts } from '../components/ui.tsx'
import { useRoute } from '../use-route.ts'
import { authNeeded, client, describeError, hasToken } from '../session.ts'
import { useStore } from '../store.ts'
import { connection } from '../topics.ts'
import { DeviceView } from './device.tsx'
import { TokenDialog } from './token-dialog.tsx'
import { TokensView } from './tokens.tsx'
import { WorkspaceShell } from './workspace.tsx'
import { WorkspacesView } from './workspaces.tsx'

export function App() {
  const route = useRoute()
  const [discover, setDiscover] = useState<DiscoverResponse | null>(null)
  const [fatal, setFatal] = useState<string | null>(null)
  const [tokenOpen, setTokenOpen] = useState(false)
  const auth = useStore(authNeeded)
  useEffect(() => {
    client.discover().then(setDiscover, (err) => {
      const text = describeError(err)
      if (err instanceof ApiError && err.status !== 401) setFatal(text)
    })
  }, [])

  let content
  if (fatal) {
    content = (
      <Empty>
        The server answered {fatal}.
        {/project_required|invalid_host/.test(fatal) && (
          <p>
            This server hosts several projects: open the UI on <code>&lt;project&gt;.&lt;host&gt;</code> or add <code>?project=&lt;id&gt;</code> to the address.
          </p>
        )}
      </Empty>
    )
  } else if (auth) {
    content = <Empty>A token is needed to use this server.</Empty>
  } else {
    switch (route.name) {
      case 'workspaces':
        content = <WorkspacesView />
        break
      case 'tokens':
        content = <TokensView />
        break
      case 'device':
        content = <DeviceView code={route.code} />
        break
      default:
        content = <WorkspaceShell route={route} />
    }
  }
  return (
    <>
      <header class="topbar">
        <a class="brand" href="#/">
          <span class="brand-mark" aria-hidden="true" />
          Coflux
        </a>
        <nav class="top-links">
          <a href="#/">Workspaces</a>
          <a href="#/tokens">Tokens</a>
        </nav>
        <div class="topbar-right">
          <span class="server-info">{discover ? `${discover.project ? `${discover.project} · ` : ''}v${discover.version}` : ''}</span>
          <Connection />
          <button type="button" class="btn btn-ghost" onClick={() => setTokenOpen(true)} title="Authentication token">
            {hasToken() ? 'Token ✓' : 'Token'}
          </button>
        </div>
      </header>
      <main class="app">{content}</main>
      {(auth || tokenOpen) && <TokenDialog message={auth} isRequired={!!auth} onClose={() => setTokenOpen(false)} />}
      <Toasts />
    </>
  )
}

function Connection() {
  const state = useStore(connection)
  return (
    <span class="conn" data-state={state} title="Live connection">
      {state}
    </span>
  )
}
