/**
 * Debian's Chromium driven by playwright-core, for the web UI's tests. The machine's network is
 * closed: every flag that would make Chromium call home is off, and each launch gets a fresh
 * profile. Screenshots go to test/output/screenshots/ (git-ignored) for a reviewer to look at.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { REPO } from './binary.ts'

export const CHROMIUM = '/usr/bin/chromium'
export const SCREENSHOTS = join(REPO, 'test', 'output', 'screenshots')

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export interface TestBrowser {
  context: BrowserContext
  /** a new tab at `url`; page errors fail the test through `errors()` */
  open(url: string): Promise<Page>
  /** closes every tab opened so far (a browser keeps six connections per server, streams hold them) */
  closePages(): Promise<void>
  /** uncaught exceptions and console errors seen so far */
  errors(): string[]
  /** a full-page screenshot as test/output/screenshots/<name>.png; returns the path */
  screenshot(page: Page, name: string): Promise<string>
  close(): Promise<void>
}

export async function launchBrowser(): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'coflux-ui-chromium-'))
  // the profile directory is Chromium's --user-data-dir; playwright passes it for a persistent context
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: ARGS,
    headless: true,
    viewport: { width: 1360, height: 900 },
    timeout: 60_000,
  })
  context.setDefaultTimeout(30_000)
  const errors: string[] = []
  const pages: Page[] = []
  mkdirSync(SCREENSHOTS, { recursive: true })
  return {
    context,
    async open(url) {
      const page = await context.newPage()
      pages.push(page)
      page.on('pageerror', (err) => errors.push(`page error: ${err.message}`))
      page.on('console', (msg) => {
        if (msg.type() === 'error') errors.push(`console error: ${msg.text()}`)
      })
      await page.goto(url)
      return page
    },
    async closePages() {
      for (const page of pages.splice(0)) await page.close().catch(() => {})
    },
    errors: () => errors,
    async screenshot(page, name) {
      const path = join(SCREENSHOTS, `${name}.png`)
      await page.screenshot({ path, fullPage: true })
      return path
    },
    async close() {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    },
  }
}
