/**
 * The built-in web UI (http-api.md §15), bundled by Bun (server/ui/bundle.ts) and served by the
 * server. It reads everything through the client the CLI uses (client/browser.ts).
 */
import { render } from 'hono/jsx/dom'
import './style.css'
import { App } from './views/app.tsx'

render(<App />, document.getElementById('app')!)
