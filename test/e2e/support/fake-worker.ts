/**
 * A scripted worker speaking the 0.12 JSON frames over the real `/worker` socket, for tests
 * that need exact control of timing (as Coflux 0.12's own suite did). Values are plain JSON.
 */
import { until } from './binary.ts'
import type { TestServer } from './server.ts'

export interface ExecuteCommand {
  executionId: string
  module: string
  target: string
  arguments: any[]
  runId: string
  workspaceId: string
  timeoutMs: number | null
}

export class FakeWorker {
  readonly executes: ExecuteCommand[] = []
  readonly aborts: string[] = []
  readonly sessionFrames: string[][] = []
  readonly replies = new Map<number, { ok: boolean; value: unknown }>()
  closed: { code: number; reason: string } | null = null
  #ws: WebSocket | null = null
  #nextId = 1

  constructor(
    readonly server: TestServer,
    readonly workspaceId: string,
    readonly token: string,
  ) {}

  static async create(server: TestServer, workspaceId: string, options: { provides?: Record<string, string[]> } = {}): Promise<FakeWorker> {
    const res = await server.api('create_session', { workspaceId, provides: options.provides ?? {} })
    if (res.status !== 200) throw new Error(`create_session: ${JSON.stringify(res.body)}`)
    return new FakeWorker(server, workspaceId, res.body.sessionId)
  }

  async connect(targets: Record<string, { workflow?: string[]; task?: string[] }>, concurrency = 10): Promise<void> {
    this.closed = null
    const framesBefore = this.sessionFrames.length
    const protocol = `session.${Buffer.from(this.token).toString('base64url')}`
    const ws = new WebSocket(`ws://127.0.0.1:${this.server.port}/worker?workspaceId=${this.workspaceId}&version=0.12`, [protocol, 'v1'])
    this.#ws = ws
    ws.onmessage = (event) => this.#receive(JSON.parse(String(event.data)))
    ws.onclose = (event) => {
      this.closed = { code: event.code, reason: event.reason }
    }
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => resolve()
      ws.onerror = () => reject(new Error('worker socket failed'))
    })
    await until(() => this.sessionFrames.length > framesBefore || this.closed, { message: 'session frame' })
    this.notify('declare_targets', [targets, concurrency])
  }

  #receive(frame: any[]): void {
    switch (frame[0]) {
      case 0:
        this.sessionFrames.push(frame[2])
        break
      case 1: {
        const { command, params } = frame[1]
        if (command === 'execute') {
          const [executionId, module, target, args, runId, workspaceId, timeoutMs] = params
          this.executes.push({ executionId, module, target, arguments: args, runId, workspaceId, timeoutMs })
        } else this.aborts.push(params[0])
        break
      }
      case 2:
        this.replies.set(frame[1], { ok: true, value: frame[2] })
        break
      case 3:
        this.replies.set(frame[1], { ok: false, value: frame[2] })
        break
    }
  }

  notify(request: string, params: unknown[]): void {
    this.#ws!.send(JSON.stringify({ request, params }))
  }

  async request(request: string, params: unknown[], key?: string): Promise<{ ok: boolean; value: any }> {
    const id = this.#nextId++
    this.#ws!.send(JSON.stringify({ request, params, id, ...(key ? { key } : {}) }))
    return until(() => this.replies.get(id), { message: `reply to ${request}` })
  }

  sendRaw(text: string): void {
    this.#ws!.send(text)
  }

  async nextExecute(predicate: (e: ExecuteCommand) => boolean = () => true): Promise<ExecuteCommand> {
    return until(() => this.executes.find(predicate), { message: 'execute command' })
  }

  complete(executionId: string, data: unknown): void {
    this.notify('put_result', [executionId, ['raw', data, []]])
    this.notify('notify_terminated', [[executionId]])
  }

  fail(executionId: string, type: string, message: string, retryable?: boolean): void {
    const error: unknown[] = [type, message, [['flows.py', 3, 'fn', 'raise X']]]
    if (retryable !== undefined) error.push(retryable)
    this.notify('put_error', [executionId, error])
    this.notify('notify_terminated', [[executionId]])
  }

  close(): void {
    this.#ws?.close()
  }
}
