/**
 * `coflux submit` on a terminal (cli.md §8.2): the live step tree ends with each step's duration
 * and, under it, the run's result, or the error with the user's traceback (exit 1). The CLI
 * runs under `script`, which gives it a pseudo-terminal as a user's shell would.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { cofluxCommand, testEnv } from './support/binary.ts'
import { startStack, type Stack } from './support/worker.ts'

let stack: Stack
beforeAll(async () => {
  stack = await startStack({ workspace: 'terminal' })
})
afterAll(async () => {
  await stack.stop()
})

const shellQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`

/** Runs the CLI on a pseudo-terminal; returns the exit code and the screen it leaves (no escapes). */
async function onTerminal(args: string[]): Promise<{ code: number; screen: string[] }> {
  const command = [...cofluxCommand(), ...args].map(shellQuote).join(' ')
  const proc = Bun.spawn(['script', '--quiet', '--return', '--command', command, '/dev/null'], {
    env: testEnv({ COFLUX_HOST: stack.server.host, COFLUX_WORKSPACE: stack.workspace, COLUMNS: '120', LINES: '40' }),
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [raw, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited])
  // the last redraw of the live region starts after its last cursor-up; what follows is final
  const cursorUps = [...raw.matchAll(/\x1b\[\d+F/g)]
  const last = cursorUps.length > 0 ? raw.slice(cursorUps[cursorUps.length - 1]!.index! ) : raw
  // eslint-disable-next-line no-control-regex
  const plain = last.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '')
  return { code, screen: plain.split('\n').filter((l, i, all) => l !== '' || (i > 0 && i < all.length - 1)) }
}

const DURATION = /\d+(ms|(\.\d)?s|m\d+s)/

test('a value: the finished tree with a duration per step, then the result', async () => {
  const { code, screen } = await onTerminal(['submit', 'flows/fan_out', '2'])
  expect(code).toBe(0)
  expect(screen).toHaveLength(5)
  expect(screen[0]).toMatch(new RegExp(`^● 1:1 flows/fan_out \\[\\w+\\] ${DURATION.source}$`))
  expect(screen[1]).toMatch(new RegExp(`^├─ ● 2:1 flows/noop ${DURATION.source}$`))
  expect(screen[2]).toMatch(new RegExp(`^└─ ● 3:1 flows/noop ${DURATION.source}$`))
  expect(screen[3]).toBe('')
  expect(screen[4]).toBe('1')
})

test("an error: the failing step's message in the tree, the user's traceback under it, exit 1", async () => {
  const { code, screen } = await onTerminal(['submit', 'flows/errors'])
  expect(code).toBe(1)
  const text = screen.join('\n')
  expect(screen[0]).toMatch(new RegExp(`^● 1:1 flows/errors \\[\\w+\\] ${DURATION.source} flows.CustomError: bad thing$`))
  expect(screen[1]).toMatch(new RegExp(`^└─ ● 2:1 flows/fails ${DURATION.source} flows.CustomError: bad thing$`))
  expect(text).toContain('\n\nTraceback (most recent call last):\n')
  expect(text).toMatch(/File ".*flows\.py", line \d+, in errors\n {4}fails\("bad thing"\)/)
  expect(screen[screen.length - 1]).toBe('flows.CustomError: bad thing')
  // adapter frames are not the user's
  expect(text).not.toContain('coflux/')
})
