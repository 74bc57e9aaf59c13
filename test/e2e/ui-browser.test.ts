/**
 * The web UI in Chromium against the real binary, a real worker and real Python: what a user
 * does there, by clicking. Watching a live run complete (tree, graph, timeline, logs, metrics),
 * rerunning a step, cancelling a run, answering an input through its schema's form, following
 * logs as they are written, creating a pool that then launches a worker. Each main view is
 * saved as a screenshot in test/output/screenshots/ for a reviewer.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { REPO, until } from './support/binary.ts'
import { launchBrowser, type TestBrowser } from './support/browser.ts'
import { coflux } from './support/cli.ts'
import { startTestServer, type TestServer } from './support/server.ts'
import { FIXTURES, startTestWorker, workspaceId as findWorkspace, type TestWorker } from './support/worker.ts'

const WS = 'ui'
let server: TestServer
let worker: TestWorker
let wsId: string
let browser: TestBrowser
let scratch: string
const shots: string[] = []

beforeAll(async () => {
  // a pool's workers run `<cli path> worker …`: the built binary, also when the server runs from sources
  const built = join(REPO, 'dist', 'coflux')
  if (!existsSync(built)) {
    const build = Bun.spawnSync(['bun', 'scripts/build.ts'], { cwd: REPO, stderr: 'pipe' })
    if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr.toString()}`)
  }
  server = await startTestServer({ env: { COFLUX_LAUNCHER_TYPES: 'process', COFLUX_CLI_PATH: built } })
  worker = await startTestWorker(server, { workspace: WS, modules: ['flows', 'ui_flows'], args: ['--register'] })
  wsId = (await findWorkspace(server, WS))!
  scratch = mkdtempSync(join(tmpdir(), 'coflux-ui-browser-'))
  browser = await launchBrowser()
}, 120_000)

afterEach(async () => {
  await browser?.closePages()
})

afterAll(async () => {
  await browser?.close()
  await worker?.kill()
  await server?.cleanup()
  rmSync(scratch, { recursive: true, force: true })
  if (shots.length) console.error(`screenshots:\n${shots.map((s) => `  ${s}`).join('\n')}`)
})

async function submit(module: string, target: string, ...args: unknown[]): Promise<string> {
  const res = await server.api('submit_workflow', { workspaceId: wsId, module, target, arguments: args.map((a) => ['json', JSON.stringify(a)]) })
  if (res.status !== 200) throw new Error(`submit failed: ${JSON.stringify(res.body)}`)
  return res.body.runId
}

async function shot(page: Page, name: string): Promise<void> {
  shots.push(await browser.screenshot(page, name))
}

const runUrl = (runId: string, query = '') => `${server.url}/#/ws/${WS}/runs/${runId}${query}`
const runStatus = (page: Page) => page.locator('.run-head .badge')

describe('the web UI in a browser', () => {
  test('a live run: watch it complete in the tree, then its graph, timeline, logs and metrics', async () => {
    const runId = await submit('ui_flows', 'pipeline', 1.5, join(scratch, 'shaky-1'))
    const page = await browser.open(runUrl(runId))
    // live: it is seen running, then completing, without a reload
    await page.locator('.run-head .badge', { hasText: /running|pending/ }).waitFor()
    await page.locator('.tree-row', { hasText: 'wait_a_bit' }).first().waitFor()
    await page.locator('.run-head .badge', { hasText: 'completed' }).waitFor({ timeout: 60_000 })
    expect(await page.locator('.tree-row', { hasText: 'shaky' }).innerText()).toContain('×2') // the retry
    await page.locator('.step-detail').getByText('"total"').waitFor() // the result, rendered as the CLI does
    await page.locator('.logs').getByText('done: 2.25').waitFor()
    await page.locator('.metrics-card figure', { hasText: 'loss' }).waitFor()
    await shot(page, 'run-tree')

    await page.getByRole('tab', { name: 'Graph' }).click()
    await page.locator('.run-graph .node', { hasText: 'pipeline' }).waitFor()
    expect(await page.locator('.run-graph .node').count()).toBe(5)
    expect(await page.locator('.run-graph .edge-call').count()).toBe(4)
    expect(await page.locator('.run-graph .node', { hasText: 'shaky' }).innerHTML()).toContain('×2')
    await page.locator('.run-graph .node', { hasText: 'lookup' }).click() // selecting from the graph
    await page.locator('.step-detail h2', { hasText: 'lookup' }).waitFor()
    await shot(page, 'run-graph')

    await page.getByRole('tab', { name: 'Timeline' }).click()
    await page.locator('.tl-row').first().waitFor()
    expect(await page.locator('.tl-row').count()).toBe(6) // five steps, shaky twice
    expect(await page.locator('.tl-row .tl-run').count()).toBe(6)
    await shot(page, 'run-timeline')

    // a second run: its cached lookup shows where the value came from
    const again = await submit('ui_flows', 'pipeline', 0.2, join(scratch, 'shaky-2'))
    const second = await browser.open(runUrl(again, '?tab=graph'))
    await second.locator('.run-head .badge', { hasText: 'completed' }).waitFor({ timeout: 60_000 })
    await second.locator('.run-graph .node', { hasText: 'cached' }).waitFor()
    await shot(second, 'run-graph-cache-hit')
    expect(browser.errors()).toEqual([])
  }, 120_000)

  test('rerun a step from its detail panel', async () => {
    const runId = await submit('ui_flows', 'sleepy', 0.1)
    const page = await browser.open(runUrl(runId))
    await runStatus(page).filter({ hasText: 'completed' }).waitFor({ timeout: 60_000 })
    await page.locator('.tree-row', { hasText: 'wait_a_bit' }).click()
    const detail = page.locator('.step-detail')
    await detail.locator('h2', { hasText: 'wait_a_bit' }).waitFor()
    await detail.getByRole('button', { name: 'Re-run' }).click()
    await detail.locator('.attempt-tab', { hasText: '#2' }).waitFor()
    await detail.locator('.attempt-tab.active', { hasText: /#2\s*completed/ }).waitFor({ timeout: 60_000 })
    expect(page.url()).toContain('attempt=2')
    expect(browser.errors()).toEqual([])
  }, 120_000)

  test('cancel a running run', async () => {
    const runId = await submit('ui_flows', 'sleepy', 120)
    const page = await browser.open(runUrl(runId))
    await page.locator('.tree-row', { hasText: 'Running…' }).first().waitFor({ timeout: 60_000 })
    await page.getByRole('button', { name: 'Cancel run' }).click()
    await runStatus(page).filter({ hasText: 'cancelled' }).waitFor({ timeout: 30_000 })
    await page.getByText('Cancelled run').waitFor() // the toast
    expect(browser.errors()).toEqual([])
  }, 120_000)

  test('answer an input through the form built from its schema; the run continues', async () => {
    const runId = await submit('ui_flows', 'greet')
    const page = await browser.open(runUrl(runId))
    const form = page.locator('.schema-form')
    await form.waitFor({ timeout: 60_000 })
    // the prompt's placeholder filled in as the CLI renders values
    await page.locator('.prompt', { hasText: 'Who should **"the UI team"** greet?' }).first().waitFor()
    // the schema's checks run before sending
    await form.getByRole('button', { name: 'Greet' }).click()
    await form.locator('.field-error').first().waitFor()
    await form.locator('input[name="/name"]').fill('Ada')
    await form.locator('input[name="/age"]').fill('36')
    await form.locator('input[name="/formal"]').check()
    await shot(page, 'input-form')
    await form.getByRole('button', { name: 'Greet' }).click()
    await runStatus(page).filter({ hasText: 'completed' }).waitFor({ timeout: 60_000 })
    await page.locator('.step-detail').getByText('"Dear Ada (36)"').waitFor()
    expect(browser.errors()).toEqual([])
  }, 120_000)

  test('logs appear as they are written', async () => {
    const runId = await submit('ui_flows', 'chatty', 12)
    const page = await browser.open(runUrl(runId))
    const logs = page.locator('.logs')
    await logs.getByText('tick 0').waitFor({ timeout: 60_000 })
    // the page did not reload: later lines arrive on the open stream while the run goes on
    expect(await runStatus(page).innerText()).toMatch(/running/)
    await logs.getByText('tick 11').waitFor({ timeout: 30_000 })
    await shot(page, 'run-logs')
    expect(browser.errors()).toEqual([])
  }, 120_000)

  test('create a pool; it launches a worker whose output the pool page shows', async () => {
    const page = await browser.open(`${server.url}/#/ws/${WS}/pools`)
    const form = page.locator('.pool-form')
    await form.waitFor()
    await form.locator('input[name="name"]').fill('ui-pool')
    await form.locator('select[name="type"]').selectOption('process')
    await form.locator('input[name="directory"]').fill(FIXTURES)
    await form.locator('input[name="modules"]').fill('ui_pooled')
    await form.getByRole('button', { name: 'Create pool' }).click()
    await page.locator('h1', { hasText: 'ui-pool' }).waitFor()
    expect(page.url()).toEndWith(`#/ws/${WS}/pools/ui-pool`)

    // work only the pool can do: the server launches a worker for it
    const register = await coflux(['manifests', 'register', 'ui_pooled'], { host: server.host, workspace: WS, cwd: FIXTURES })
    expect(register.code).toBe(0)
    const runId = await submit('ui_pooled', 'hello', 'pool')
    await page.locator('.launch').first().waitFor({ timeout: 60_000 })
    await until(async () => (await server.get(`/topics/workspaces/${wsId}/runs/${runId}`)).body?.steps?.[`${runId}:1`]?.executions?.['1']?.result, {
      timeoutMs: 90_000,
      message: 'the pool worker to run the execution',
    })
    await page.locator('.launch .badge', { hasText: /connected|started|stopped|stopping/ }).first().waitFor()
    await page.locator('.launch summary', { hasText: 'Output' }).first().click()
    await shot(page, 'pool')

    const list = await browser.open(`${server.url}/#/ws/${WS}/pools`)
    await list.locator('tr[data-pool="ui-pool"]').waitFor()
    expect(browser.errors()).toEqual([])
  }, 180_000)

  test('the other views: workspaces, overview, queue with reasons, sessions with load, inputs', async () => {
    // an execution no worker can run, so the queue has a reason to show
    await submit('app.missing', 'main')
    await submit('ui_flows', 'greet') // an open input
    const home = await browser.open(`${server.url}/#/`)
    await home.locator(`tr[data-workspace="${WS}"]`).waitFor()
    await home.locator('input[name="name"]').fill('ui-extra')
    await home.getByRole('button', { name: 'Create' }).click()
    await home.locator('tr[data-workspace="ui-extra"]').waitFor()
    await home.locator('tr[data-workspace="ui-extra"]').getByRole('button', { name: 'Pause' }).click()
    await home.locator('tr[data-workspace="ui-extra"] .badge', { hasText: 'paused' }).waitFor()
    await shot(home, 'workspaces')

    const overview = await browser.open(`${server.url}/#/ws/${WS}`)
    await overview.locator('.wf-row', { hasText: 'pipeline' }).locator('.chip').first().waitFor()
    await shot(overview, 'overview')

    const queue = await browser.open(`${server.url}/#/ws/${WS}/queue`)
    await queue.getByText('no connected worker provides app.missing/main').waitFor()
    await shot(queue, 'queue')

    const sessions = await browser.open(`${server.url}/#/ws/${WS}/sessions`)
    await sessions.locator('.badge', { hasText: 'connected' }).first().waitFor()
    await sessions.locator('.load').first().waitFor()
    await shot(sessions, 'sessions')

    const inputs = await browser.open(`${server.url}/#/ws/${WS}/inputs`)
    await inputs.locator('.schema-form').first().waitFor({ timeout: 60_000 })
    await shot(inputs, 'inputs')

    expect(browser.errors()).toEqual([])
  }, 180_000)

  test('a server that needs a token: the dialog asks for it; the super token creates and revokes tokens', async () => {
    const secured = await startTestServer({ env: { COFLUX_SECRET: 'ui-secret', COFLUX_SUPER_TOKEN: 'ui-super-token' } })
    try {
      const page = await browser.open(`${secured.url}/#/tokens`)
      const dialog = page.locator('.dialog', { hasText: 'Authentication required' })
      await dialog.waitFor()
      await dialog.locator('input[name="token"]').fill('ui-super-token')
      await dialog.getByRole('button', { name: 'Save' }).click() // kept in local storage; the page reloads
      await page.locator('h1', { hasText: 'Tokens' }).waitFor()
      await page.locator('input[name="name"]').fill('ci')
      await page.getByRole('button', { name: 'Create token' }).click()
      const created = page.locator('.created-token code')
      await created.waitFor()
      expect(await created.innerText()).toStartWith('cflx_')
      await page.locator('tr[data-token]', { hasText: 'ci' }).waitFor()
      await shot(page, 'tokens')
      page.once('dialog', (d) => d.accept()) // "Revoke token ci?"
      await page.locator('tr[data-token]', { hasText: 'ci' }).getByRole('button', { name: 'Revoke' }).click()
      await page.locator('tr[data-token]').first().waitFor({ state: 'detached' })
      // before the token, the browser reports the refused requests and sockets itself
      expect(browser.errors().filter((e) => !/401|Authentication failed/.test(e))).toEqual([])
    } finally {
      await secured.cleanup()
    }
  }, 120_000)
})
