/**
 * Headless Chromium driven over the DevTools protocol, for tests of the web UI. A page is read
 * once it shows what the test waits for (its data arrives over the topics WebSocket), instead of
 * after a fixed budget of virtual time, which a loaded machine can outrun.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { track, until } from './binary.ts'

export const CHROMIUM = '/usr/bin/chromium'

export class Browser {
  #nextId = 1
  readonly #pending = new Map<number, { resolve: (result: any) => void; reject: (error: Error) => void }>()

  private constructor(
    readonly proc: Subprocess,
    readonly ws: WebSocket,
    readonly profile: string,
  ) {
    ws.onmessage = (event) => {
      const message = JSON.parse(String(event.data))
      const pending = this.#pending.get(message.id)
      if (!pending) return // an event
      this.#pending.delete(message.id)
      if (message.error) pending.reject(new Error(`${message.error.message} (${message.error.code})`))
      else pending.resolve(message.result)
    }
    ws.onclose = () => {
      for (const pending of this.#pending.values()) pending.reject(new Error('DevTools connection closed'))
      this.#pending.clear()
    }
  }

  static async launch(): Promise<Browser> {
    const profile = mkdtempSync(join(tmpdir(), 'coflux-ui-chromium-'))
    const proc = track(
      Bun.spawn([CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu', `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank'], {
        stdin: 'ignore',
        stdout: 'ignore',
        stderr: 'ignore',
      }),
    )
    // Chromium names the port it bound, and the browser's DevTools path, in this file
    const portFile = join(profile, 'DevToolsActivePort')
    const [port, path] = await until(
      () => {
        if (proc.exitCode !== null) throw new Error(`chromium exited with ${proc.exitCode}`)
        const lines = existsSync(portFile) ? readFileSync(portFile, 'utf8').split('\n') : []
        return lines.length >= 2 && lines[1] ? lines : null
      },
      { timeoutMs: 60_000, message: 'chromium to start' },
    )
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`)
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve()
      ws.onerror = () => reject(new Error('cannot connect to chromium'))
    })
    return new Browser(proc, ws, profile)
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<any> {
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      this.ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }))
    })
  }

  /**
   * Opens `url` in a new tab and returns its DOM once `isReady(dom)` holds, or whatever it shows
   * when `timeoutMs` runs out (so the test's own assertions report what is missing).
   */
  async dom(url: string, isReady: (dom: string) => boolean, timeoutMs = 30_000): Promise<string> {
    const { targetId } = await this.send('Target.createTarget', { url })
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true })
    let dom = ''
    try {
      await until(
        async () => {
          const { result } = await this.send('Runtime.evaluate', { expression: 'document.documentElement.outerHTML', returnByValue: true }, sessionId)
          dom = String(result.value ?? '')
          return isReady(dom)
        },
        { timeoutMs, intervalMs: 100 },
      )
    } catch {
      // timed out: the caller's assertions say what is missing
    }
    await this.send('Target.closeTarget', { targetId }).catch(() => {})
    return dom
  }

  async close(): Promise<void> {
    await this.send('Browser.close').catch(() => {})
    const exited = await Promise.race([this.proc.exited.then(() => true), Bun.sleep(10_000).then(() => false)])
    if (!exited) {
      this.proc.kill('SIGKILL')
      await this.proc.exited
    }
    this.ws.close()
    rmSync(this.profile, { recursive: true, force: true })
  }
}
