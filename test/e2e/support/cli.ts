/**
 * Runs the real `coflux` CLI against a test server and returns what a user sees.
 */
import { cofluxCommand, testEnv } from './binary.ts'

export interface CliResult {
  code: number
  stdout: string
  stderr: string
  /** stdout parsed as JSON, when it is JSON */
  json: any
}

export async function coflux(args: string[], options: { host?: string; workspace?: string; env?: Record<string, string>; cwd?: string; timeoutMs?: number; stdin?: string } = {}): Promise<CliResult> {
  const env = testEnv({
    ...(options.host ? { COFLUX_HOST: options.host } : {}),
    ...(options.workspace ? { COFLUX_WORKSPACE: options.workspace } : {}),
    ...options.env,
  })
  const proc = Bun.spawn([...cofluxCommand(), ...args], {
    env,
    cwd: options.cwd,
    stdin: options.stdin !== undefined ? new TextEncoder().encode(options.stdin) : 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const timer = setTimeout(() => proc.kill('SIGKILL'), options.timeoutMs ?? 60_000)
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  clearTimeout(timer)
  let json: unknown = undefined
  try {
    json = stdout.trim() ? JSON.parse(stdout) : undefined
  } catch {
    // not JSON
  }
  return { code, stdout, stderr, json }
}
