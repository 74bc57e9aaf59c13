/**
 * The web UI's schedules page (ours, issue 11) in Chromium against the real binary: a
 * decorator's schedule and one made with the CLI, their cron in words, and a pause shown live.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { launchBrowser, type TestBrowser } from './support/browser.ts'
import { coflux } from './support/cli.ts'
import { startTestServer, type TestServer } from './support/server.ts'
import { FIXTURES } from './support/worker.ts'

const WS = 'ui-schedules'
let server: TestServer
let browser: TestBrowser

beforeAll(async () => {
  server = await startTestServer()
  browser = await launchBrowser()
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await server?.cleanup()
})

const cli = (args: string[]) => coflux(args, { host: server.host, workspace: WS, cwd: FIXTURES })

test('schedules are listed with their cron in words, and a pause shows without a reload', async () => {
  expect((await cli(['manifests', 'register', 'scheduled'])).code).toBe(0)
  const created = await cli(['schedules', 'create', 'scheduled/on_demand', '3', '--cron', '30 6 * * mon-fri', '--timezone', 'Europe/Paris', '-o', 'json'])
  expect(created.code).toBe(0)
  const id: string = created.json.id

  const page = await browser.open(`${server.url}/#/ws/${WS}/schedules`)
  const row = page.locator(`tr[data-schedule="${id}"]`)
  await row.waitFor()
  expect(await row.innerText()).toContain('At 06:30, Monday through Friday')
  expect(await row.innerText()).toContain('Europe/Paris')
  expect(await row.locator('.badge').first().innerText()).toBe('active')
  const declared = page.locator('tr[data-schedule]', { hasText: 'hourly_report' })
  expect(await declared.innerText()).toContain('Every hour')
  expect(await declared.innerText()).toContain('decorator')
  expect(await page.locator('.sidebar a', { hasText: 'Schedules' }).innerText()).toContain('2')

  expect((await cli(['schedules', 'pause', id])).code).toBe(0)
  await row.locator('.badge', { hasText: 'paused' }).waitFor()
  await browser.screenshot(page, 'schedules')
  expect(browser.errors()).toEqual([])
}, 60_000)
