/**
 * Executor processes that end without a result (executor-protocol.md §10.4), with a real server,
 * worker and Python: the step's error names the exit status or signal and quotes the process's
 * last stderr lines, and like any error it is retried when the task allows.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { finalResult, startStack, type Stack } from './support/worker.ts'

let stack: Stack
beforeAll(async () => {
  stack = await startStack({ modules: ['crashes'] })
})
afterAll(async () => {
  await stack.stop()
})

async function crashError(target: string, args: string[] = []): Promise<{ type: string; message: string }> {
  const res = await stack.cli(['submit', `crashes/${target}`, ...args, '-o', 'json'])
  expect(res.code).toBe(1)
  const runId = Object.keys(res.json.steps)[0]!.split(':')[0]!
  const attempts = res.json.steps[`${runId}:1`].executions
  expect(Object.keys(attempts)).toEqual(['1'])
  return finalResult(res.json, runId).error
}

/**
 * The quoted stderr lines. Those written to fd 2 and those captured from `sys.stderr` travel on
 * separate channels, so they may arrive in either order.
 */
function quoted(message: string): string[] {
  return message.split('\n').slice(1)
}

test('os._exit(3) is an error naming the exit code, with the last stderr lines', async () => {
  const error = await crashError('exits', ['3'])
  expect(error.type).toBe('internal')
  expect(error.message).toStartWith('executor exited unexpectedly (exit code 3)\n')
  expect(quoted(error.message).sort()).toEqual(['about to exit with 3', 'written to fd 2, as native code or a subprocess would'])
})

test("a segfault is an error naming SIGSEGV, with Python's stack and the last stderr lines", async () => {
  const error = await crashError('segfaults')
  expect(error.type).toBe('internal')
  expect(error.message).toStartWith('executor exited unexpectedly (signal SIGSEGV)\n')
  const lines = quoted(error.message)
  expect(lines).toContain('about to dereference NULL')
  // faulthandler's dump, most recent call first, without the adapter's entry frames
  const dump = lines.slice(lines.indexOf('Fatal Python error: Segmentation fault'))
  expect(dump[0]).toBe('Fatal Python error: Segmentation fault')
  expect(dump.filter((l) => l.startsWith('  File '))).toEqual([
    expect.stringMatching(/ctypes[\\/]__init__\.py", line \d+ in string_at$/),
    expect.stringMatching(/fixtures[\\/]crashes\.py", line \d+ in segfaults$/),
  ])
})

test('SIGKILL (as from the OOM killer) is an error naming SIGKILL, with the last stderr lines', async () => {
  const error = await crashError('killed')
  expect(error.type).toBe('internal')
  expect(error.message).toBe('executor exited unexpectedly (signal SIGKILL)\nabout to be killed')
})

test('a crashed task with retries is retried', async () => {
  const marker = `/tmp/coflux-e2e-crash-${process.pid}-${Date.now()}`
  const res = await stack.cli(['submit', 'crashes/retried', JSON.stringify(marker), '-o', 'json'])
  expect(res.code).toBe(0)
  const runId = Object.keys(res.json.steps)[0]!.split(':')[0]!
  expect(finalResult(res.json, runId).value.data).toBe('succeeded on attempt 2')
  const attempts = res.json.steps[`${runId}:2`].executions
  expect(Object.keys(attempts)).toEqual(['1', '2'])
  expect(attempts['1'].result).toMatchObject({ type: 'error', retry: 2 })
  expect(attempts['1'].result.error).toMatchObject({ type: 'internal', message: 'executor exited unexpectedly (exit code 3)\nabout to exit with 3' })
})
