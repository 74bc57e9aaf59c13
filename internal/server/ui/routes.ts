/**
 * The built-in web UI (http-api.md §15): static assets embedded in the binary, served for
 * unmatched `GET` paths; `GET /studio` keeps 0.12's redirect to Studio; unmatched non-GET → 405.
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
import appJs from './app.js' with { type: 'text' }
import indexHtml from './index.html' with { type: 'text' }
import styleCss from './style.css' with { type: 'text' }

/** Paths that belong to the API surface, never to the UI. */
const API_PATHS = /^\/(api|topics|blobs|logs|metrics|worker)(\/|$)/

interface Asset {
  body: string
  type: string
  etag: string
}

function asset(body: string, type: string): Asset {
  return { body, type, etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"` }
}

const PAGE = asset(indexHtml as unknown as string, 'text/html; charset=utf-8')
const ASSETS: Record<string, Asset> = {
  '/ui/app.js': asset(appJs, 'text/javascript; charset=utf-8'),
  '/ui/style.css': asset(styleCss, 'text/css; charset=utf-8'),
}

// Everything is same-origin; the page has no inline script or style sheet.
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
    'cache-control': 'no-cache',
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
    const file = ASSETS[path]
    if (file) return serve(file, c.req.raw)
    if (path.startsWith('/ui/') || !acceptsHtml(c.req.header('accept') ?? null)) return jsonResponse({ error: 'not_found' }, 404)
    return serve(PAGE, c.req.raw)
  })
}
