/**
 * The built-in web UI (http-api.md §15): the bundle of internal/web-ui (bundle.ts), its page for
 * unmatched `GET` paths and its hashed files under `/ui/`; `GET /studio` keeps 0.12's redirect
 * to Studio; unmatched non-GET → 405.
 *
 * Registered as a middleware *before* the request pipeline of app.ts, because the UI page itself
 * is neither resolved to a project nor authenticated (§3): the page has to load to ask for a
 * token. It only claims paths outside the API surface, so `/api/*`, `/topics*`, `/blobs/*`,
 * `/logs`, `/metrics` and `/worker` keep their own routes, errors and JSON 404s.
 */
import { createHash } from 'node:crypto'
import type { Hono } from 'hono'
import { ApiError } from '../../protocol/errors.ts'
import { API_VERSION, VERSION } from '../../protocol/version.ts'
import { jsonResponse, type AppEnv, type ServerContext } from '../context.ts'
import type { UiFile } from './bundle.ts'
import indexHtml from './index.html' with { type: 'text' }

/** Paths that belong to the API surface, never to the UI. */
const API_PATHS = /^\/(api|topics|blobs|logs|metrics|worker)(\/|$)/

/** Prefix of the bundle's files in `Bun.embeddedFiles` (scripts/build.ts: `--asset=dist/web-ui`). */
const EMBEDDED_PREFIX = 'web-ui/'

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  html: 'text/html; charset=utf-8',
}

interface Asset {
  body: Uint8Array | string
  type: string
  etag: string
  /** hashed file names never change content: browsers keep them for good */
  isImmutable: boolean
}

interface UiAssets {
  page: Asset
  files: Map<string, Asset>
}

function asset(body: Uint8Array | string, type: string, isImmutable: boolean): Asset {
  return { body, type, isImmutable, etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"` }
}

/** The bundle embedded in the binary, or (running from sources) bundled now. */
async function loadBundle(): Promise<UiFile[]> {
  const embedded: UiFile[] = []
  for (const blob of Bun.embeddedFiles) {
    const name = (blob as Blob & { name?: string }).name ?? ''
    if (name.startsWith(EMBEDDED_PREFIX)) embedded.push({ name: name.slice(EMBEDDED_PREFIX.length), bytes: new Uint8Array(await blob.arrayBuffer()) })
  }
  if (embedded.length > 0) return embedded
  const { bundleUi } = await import('./bundle.ts')
  return bundleUi()
}

let loading: Promise<UiAssets> | undefined

function uiAssets(): Promise<UiAssets> {
  loading ??= loadBundle().then((bundle) => {
    const files = new Map<string, Asset>()
    for (const f of bundle) files.set(`/ui/${f.name}`, asset(f.bytes, TYPES[f.name.split('.').pop()!] ?? 'application/octet-stream', true))
    const script = bundle.find((f) => f.name.endsWith('.js'))?.name ?? ''
    const style = bundle.find((f) => f.name.endsWith('.css'))?.name ?? ''
    const html = (indexHtml as unknown as string).replace('{{script}}', script).replace('{{style}}', style)
    return { page: asset(html, TYPES.html!, false), files }
  })
  // a failed bundle (a syntax error while developing) is retried on the next request
  loading.catch(() => (loading = undefined))
  return loading
}

// Everything is same-origin; the page has no inline script or style sheet (the UI sets styles
// through the CSSOM, which the policy allows).
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
}

function serve(item: Asset, req: Request): Response {
  const headers: Record<string, string> = {
    'content-type': item.type,
    'cache-control': item.isImmutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    etag: item.etag,
    ...SECURITY_HEADERS,
  }
  if (req.headers.get('if-none-match') === item.etag) return new Response(null, { status: 304, headers })
  return new Response(req.method === 'HEAD' ? null : item.body, { status: 200, headers })
}

/** A browser navigation (or a client that does not say): anything that accepts HTML. */
function acceptsHtml(accept: string | null): boolean {
  if (!accept) return true
  return /(^|,)\s*(text\/html|\*\/\*)/i.test(accept)
}

export function registerUiRoutes(app: Hono<AppEnv>, server: ServerContext): void {
  app.use('*', async (c, next) => {
    const path = c.req.path
    if (API_PATHS.test(path) || c.req.method === 'OPTIONS') return next()
    const version = c.req.header('x-api-version')
    if (version && version !== API_VERSION) {
      throw new ApiError(409, 'version_mismatch', 'version mismatch', { server: VERSION, expected: version })
    }
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      return jsonResponse({ error: 'method_not_allowed' }, 405, { allow: 'GET, HEAD, OPTIONS' })
    }
    if (path === '/studio') {
      const host = c.req.header('host') ?? `localhost:${server.settings.port}`
      const studio = server.settings.studioUrl.replace(/\/+$/, '')
      return new Response(null, { status: 302, headers: { location: `${studio}/setup?host=${encodeURIComponent(host)}` } })
    }
    const isAsset = path.startsWith('/ui/')
    if (!isAsset && !acceptsHtml(c.req.header('accept') ?? null)) return jsonResponse({ error: 'not_found' }, 404)
    const ui = await uiAssets()
    if (isAsset) {
      const file = ui.files.get(path)
      return file ? serve(file, c.req.raw) : jsonResponse({ error: 'not_found' }, 404)
    }
    return serve(ui.page, c.req.raw)
  })
}
