/**
 * The built-in web UI (http-api.md §15) against the real server (in-process, so the UI is
 * bundled from sources on first request): the page and its hashed assets with their caching and
 * security headers, the Studio redirect, the API keeping its JSON errors, 405 for other methods,
 * and the page rendered by Chromium. ui-browser.test.ts clicks through it against the binary.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { resolveServerSettings, startServer, type RunningServer } from '../../internal/server/index.ts'
import { silentLogger } from '../../internal/server/logger.ts'
import { launchBrowser } from './support/browser.ts'

const dataDirs: string[] = []
const servers: RunningServer[] = []

function start(flags: Record<string, unknown> = {}): RunningServer {
  const dataDir = mkdtempSync(join(tmpdir(), 'coflux-ui-'))
  dataDirs.push(dataDir)
  const server = startServer(resolveServerSettings({ port: 0, data_dir: dataDir, ...flags }, {}, {}), silentLogger)
  servers.push(server)
  return server
}

let server: RunningServer
let base: string
beforeAll(() => {
  server = start()
  base = `http://127.0.0.1:${server.port}`
})
afterAll(async () => {
  for (const s of servers) await s.stop()
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true })
})

async function api<T = any>(name: string, body: unknown): Promise<T> {
  const res = await fetch(`${base}/api/${name}`, { method: 'POST', body: JSON.stringify(body) })
  expect(res.status).toBe(200)
  return (await res.json()) as T
}

describe('serving the UI', () => {
  /** The page's script and style sheet paths (their names carry a content hash). */
  async function assetPaths(): Promise<{ script: string; style: string }> {
    const html = await (await fetch(`${base}/`)).text()
    return {
      script: /<script type="module" src="(\/ui\/main-[a-z0-9]+\.js)"><\/script>/.exec(html)![1]!,
      style: /<link rel="stylesheet" href="(\/ui\/main-[a-z0-9]+\.css)"/.exec(html)![1]!,
    }
  }

  test('GET / answers the HTML page that loads the hashed script and style sheet', async () => {
    const res = await fetch(`${base}/`, { headers: { accept: 'text/html' } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect(res.headers.get('x-frame-options')).toBe('DENY')
    // the page names the current bundle: browsers must ask again each time
    expect(res.headers.get('cache-control')).toBe('no-cache')
    const html = await res.text()
    expect(html).toStartWith('<!doctype html>')
    expect(html).toMatch(/<script type="module" src="\/ui\/main-[a-z0-9]+\.js"><\/script>/)
    expect(html).toMatch(/<link rel="stylesheet" href="\/ui\/main-[a-z0-9]+\.css"/)
    expect(html).toContain('id="app"')
  })

  test('the script and the style sheet are served with their content types, cached for good', async () => {
    const { script, style } = await assetPaths()
    const js = await fetch(`${base}${script}`)
    expect(js.status).toBe(200)
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect(js.headers.get('content-security-policy')).toContain("default-src 'none'")
    expect(js.headers.get('x-content-type-options')).toBe('nosniff')
    const source = await js.text()
    expect(source).toContain('/topics?') // the live topic connection (client/api-client.ts)

    const css = await fetch(`${base}${style}`)
    expect(css.status).toBe(200)
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8')
    expect(await css.text()).toContain('.tree-row')

    // revalidation: the ETag answers 304
    const etag = css.headers.get('etag')!
    expect(etag).toBeTruthy()
    const again = await fetch(`${base}${style}`, { headers: { 'if-none-match': etag } })
    expect(again.status).toBe(304)
  })

  test('any other unmatched GET serves the page (hash routing); unknown assets are 404', async () => {
    const deep = await fetch(`${base}/some/deep/path?x=1`)
    expect(deep.status).toBe(200)
    expect(deep.headers.get('content-type')).toStartWith('text/html')
    const head = await fetch(`${base}/`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(await head.text()).toBe('')

    const asset = await fetch(`${base}/ui/missing.js`)
    expect(asset.status).toBe(404)
    expect(await asset.json()).toEqual({ error: 'not_found' })
    // a client that only accepts JSON gets the JSON 404
    const json = await fetch(`${base}/nothing-here`, { headers: { accept: 'application/json' } })
    expect(json.status).toBe(404)
    expect(await json.json()).toEqual({ error: 'not_found' })
  })

  test('GET /studio keeps the 0.12 redirect to Studio setup', async () => {
    const res = await fetch(`${base}/studio`, { redirect: 'manual' })
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toBe(`https://studio.coflux.com/setup?host=${encodeURIComponent(`127.0.0.1:${server.port}`)}`)
  })

  test('unmatched API, topic, blob and log paths keep their JSON answers', async () => {
    for (const path of ['/api/x', '/topics/nope', '/blobs/abc']) {
      const res = await fetch(`${base}${path}`, { headers: { accept: 'text/html' } })
      expect(res.status).toBe(404)
      expect(res.headers.get('content-type')).toStartWith('application/json')
      expect(await res.json()).toEqual({ error: 'not_found' })
    }
    const logs = await fetch(`${base}/logs`, { headers: { accept: 'text/html' } })
    expect(logs.status).toBe(400)
    expect(((await logs.json()) as { error: string }).error).toBe('run_required')
    const discover = await fetch(`${base}/api/discover`)
    expect(((await discover.json()) as { api_version: string }).api_version).toBe('0.12')
  })

  test('unmatched non-GET requests answer 405', async () => {
    for (const method of ['DELETE', 'POST', 'PUT', 'PATCH']) {
      const res = await fetch(`${base}/${method === 'DELETE' ? '' : 'somewhere'}`, { method })
      expect(res.status).toBe(405)
      expect(res.headers.get('allow')).toContain('GET')
      expect(await res.json()).toEqual({ error: 'method_not_allowed' })
    }
    // OPTIONS still answers the CORS preflight
    expect((await fetch(`${base}/`, { method: 'OPTIONS' })).status).toBe(204)
  })

  test('with authentication required the page still loads; the API asks for a token', async () => {
    const secured = start({ super_token: 'ui-test-super-token' })
    const url = `http://127.0.0.1:${secured.port}`
    const page = await fetch(`${url}/`)
    expect(page.status).toBe(200)
    const script = /src="(\/ui\/main-[a-z0-9]+\.js)"/.exec(await page.text())![1]!
    expect((await fetch(`${url}${script}`)).status).toBe(200)
    expect((await fetch(`${url}/api/discover`)).status).toBe(401)
    const ok = await fetch(`${url}/api/discover`, { headers: { authorization: 'Bearer ui-test-super-token' } })
    expect(ok.status).toBe(200)
  })
})

describe('in a browser', () => {
  test('Chromium renders the workspaces and a live run, the workspace named in the URL', async () => {
    const { id: workspaceId } = await api<{ id: string }>('create_workspace', { name: 'ui-e2e-workspace' })
    const { runId } = await api<{ runId: string }>('submit_workflow', {
      workspaceId,
      module: 'app.flows',
      target: 'main',
      arguments: [['json', '{"answer": 42}']],
    })
    const browser = await launchBrowser()
    try {
      const home = await browser.open(`${base}/#/`)
      const link = home.getByRole('link', { name: 'ui-e2e-workspace' })
      await link.waitFor()
      expect(await link.getAttribute('href')).toBe('#/ws/ui-e2e-workspace')

      // by name, as links write it, and by id
      for (const ref of ['ui-e2e-workspace', workspaceId]) {
        const run = await browser.open(`${base}/#/ws/${ref}/runs/${runId}`)
        await run.locator('.tree-row', { hasText: `[${runId}]` }).waitFor()
        const text = await run.locator('main').innerText()
        expect(text).toContain('ui-e2e-workspace') // breadcrumb
        expect(text).toContain('main')
        expect(text).toContain('answer') // the dict argument
        await run.getByText('no connected worker provides app.flows/main').first().waitFor() // the queue's reason
      }
      const missing = await browser.open(`${base}/#/ws/no-such-workspace`)
      await missing.getByText("Workspace 'no-such-workspace' not found").waitFor()
      expect(browser.errors()).toEqual([])
    } finally {
      await browser.close()
    }
  }, 120_000) // a cold Chromium on a loaded 2-core machine can take tens of seconds to start
})
