/**
 * A real `coflux worker` process on the test fixtures (or any modules), with real Python.
 */
import type { Subprocess } from 'bun'
import { join } from 'node:path'
import { isStepDone, latestAttempt } from '../../../internal/client/index.ts'
import { cofluxCommand, REPO, testEnv, track, until } from './binary.ts'
import type { TestServer } from './server.ts'

export const FIXTURES = join(REPO, 'test', 'e2e', 'fixtures')

export interface TestWorker {
  proc: Subprocess<'ignore', 'pipe', 'pipe'>
  output(): string
  /** SIGTERM: drain and exit */
  stop(): Promise<number>
  kill(): Promise<void>
}

export async function startTestWorker(
  server: TestServer,
  options: { workspace: string; modules?: string[]; args?: string[]; env?: Record<string, string>; cwd?: string; waitForSession?: boolean },
): Promise<TestWorker> {
  const proc = track(Bun.spawn([...cofluxCommand(), 'worker', ...(options.args ?? []), ...(options.modules ?? ['flows'])], {
    cwd: options.cwd ?? FIXTURES,
    env: testEnv({ COFLUX_HOST: server.host, COFLUX_WORKSPACE: options.workspace, COFLUX_LOG_LEVEL: 'debug', ...options.env }),
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  }))
  let text = ''
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) text += new TextDecoder().decode(chunk)
  }
  drain(proc.stdout)
  drain(proc.stderr)
  const worker: TestWorker = {
    proc,
    output: () => text,
    async stop() {
      proc.kill('SIGTERM')
      return await proc.exited
    },
    async kill() {
      proc.kill('SIGKILL')
      await proc.exited
    },
  }
  if (options.waitForSession !== false) {
    await until(
      async () => {
        if (proc.exitCode !== null) throw new Error(`worker exited (${proc.exitCode}):\n${text}`)
        const ws = await workspaceId(server, options.workspace)
        if (!ws) return false
        const sessions = await server.get(`/topics/workspaces/${ws}/sessions`)
        return Object.values(sessions.body ?? {}).some((s: any) => s.connected && Object.keys(s.targets ?? {}).length > 0)
      },
      { timeoutMs: 30_000, message: `worker session in ${options.workspace}` },
    ).catch((err) => {
      throw new Error(`${err.message}\nworker output:\n${text}`)
    })
  }
  return worker
}

export async function workspaceId(server: TestServer, name: string): Promise<string | null> {
  const res = await server.get('/topics/workspaces')
  for (const [id, ws] of Object.entries(res.body ?? {})) {
    if ((ws as any).name === name && (ws as any).state !== 'archived') return id
  }
  return null
}

export async function ensureWorkspace(server: TestServer, name: string): Promise<string> {
  const existing = await workspaceId(server, name)
  if (existing) return existing
  const res = await server.api('create_workspace', { name })
  return res.body.id
}

/** Waits for a run's initial step to reach a final result (the CLI's own rule, cli.md §7.5) and returns the snapshot. */
export async function waitForRun(server: TestServer, workspace: string, runId: string, timeoutMs = 30_000): Promise<any> {
  return until(
    async () => {
      const res = await server.get(`/topics/workspaces/${workspace}/runs/${runId}`)
      const step = res.body?.steps?.[`${runId}:1`]
      return step && isStepDone(step) ? res.body : false
    },
    { timeoutMs, message: `run ${runId}` },
  )
}

/** The final result of a run's initial step (following retries and redirects). */
export function finalResult(snapshot: any, runId: string, step = 1): any {
  let result: any = latestAttempt(snapshot.steps[`${runId}:${step}`])![1].result
  while (result && ['cached', 'deferred', 'spawned'].includes(result.type)) result = result.result
  return result
}

/** A server with one real worker on the fixtures, in a fresh workspace. */
export interface Stack {
  server: import('./server.ts').TestServer
  worker: TestWorker
  workspace: string
  workspaceId: string
  /** runs the CLI against this server and workspace */
  cli(args: string[], options?: { env?: Record<string, string>; cwd?: string; timeoutMs?: number }): Promise<import('./cli.ts').CliResult>
  stop(): Promise<void>
}

export async function startStack(
  options: { workspace?: string; workerArgs?: string[]; modules?: string[]; env?: Record<string, string>; server?: { args?: string[]; env?: Record<string, string> } } = {},
): Promise<Stack> {
  const { startTestServer } = await import('./server.ts')
  const { coflux } = await import('./cli.ts')
  const server = await startTestServer(options.server)
  const workspace = options.workspace ?? 'e2e'
  const worker = await startTestWorker(server, { workspace, args: ['--register', ...(options.workerArgs ?? [])], modules: options.modules, env: options.env })
  const workspaceId = (await workspaceIdOf(server, workspace))!
  const stack: Stack = {
    server,
    worker,
    workspace,
    workspaceId,
    cli: (args, o = {}) => coflux(args, { host: server.host, workspace, ...o }),
    async stop() {
      // the current worker: a test may have replaced the first one
      await stack.worker.kill()
      await server.cleanup()
    },
  }
  return stack
}

const workspaceIdOf = workspaceId
