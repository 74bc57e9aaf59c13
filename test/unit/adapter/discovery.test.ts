import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DiscoveryError, parseDiscoveryOutput, runDiscovery, sanitizedEnv } from '../../../internal/adapter/index.ts'

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'coflux-discovery-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A fake adapter: a shell script given as `sh <script>`; `discover <modules>` is appended. */
function fakeAdapter(name: string, body: string): { argv: string[]; env: Record<string, string> } {
  const path = join(dir, `${name}.sh`)
  writeFileSync(path, body)
  return { argv: ['sh', path], env: sanitizedEnv() }
}

describe('runDiscovery', () => {
  test('success: stubs dropped, stderr lines become warnings, argv appended in order', async () => {
    const cmd = fakeAdapter(
      'ok',
      `echo "Warning: Failed to import module x: boom" >&2
echo "args: $*" >&2
cat <<'JSON'
{"targets": [
  {"module": "app", "name": "main", "type": "workflow", "parameters": [{"name": "x", "annotation": null, "default": "1"}], "extra": 1},
  {"module": "app", "name": "stub", "type": "task", "parameters": [], "is_stub": true}
]}
JSON`,
    )
    const r = await runDiscovery(cmd, ['app', 'lib.tasks'], dir)
    expect(r.targets).toEqual([
      { module: 'app', name: 'main', type: 'workflow', parameters: [{ name: 'x', annotation: null, default: '1' }] },
    ])
    expect(r.warnings).toEqual(['Warning: Failed to import module x: boom', 'args: discover app lib.tasks'])
  })

  test('non-zero exit: stderr trimmed', async () => {
    const cmd = fakeAdapter('fail', 'echo "  Error during discovery: bad  " >&2; exit 1')
    await expect(runDiscovery(cmd, ['m'], dir)).rejects.toThrow('discovery failed: Error during discovery: bad')
  })

  test('coflux not installed', async () => {
    const cmd = fakeAdapter('nomod', 'echo "/usr/bin/python3: No module named coflux" >&2; exit 1')
    await expect(runDiscovery(cmd, ['m'], dir)).rejects.toThrow(
      "discovery failed: the 'coflux' package does not appear to be installed in this environment",
    )
  })

  test('program cannot be started', async () => {
    const err = await runDiscovery({ argv: [join(dir, 'missing-program')], env: {} }, ['m'], dir).catch((e) => e)
    expect(err).toBeInstanceOf(DiscoveryError)
    expect(err.message).toStartWith('failed to run discovery: ')
  })

  test('invalid output', async () => {
    const cmd = fakeAdapter('garbage', 'echo "hello"')
    await expect(runDiscovery(cmd, ['m'], dir)).rejects.toThrow('failed to parse discovery output: ')
  })

  test('no targets', async () => {
    const cmd = fakeAdapter('empty', `echo '{"targets": []}'`)
    await expect(runDiscovery(cmd, ['a', 'b'], dir)).rejects.toThrow('no targets found in modules [a b]')
  })
})

describe('parseDiscoveryOutput', () => {
  test('optional fields are read, unknown ignored, booleans in requires become strings', () => {
    const [t] = parseDiscoveryOutput(
      JSON.stringify({
        targets: [
          {
            module: 'm', name: 'w', type: 'workflow', parameters: [],
            wait_for: [1], cache: { params: true, max_age_ms: 5 }, defer: { params: [0] }, delay: 3,
            retries: { limit: 2 }, recurrent: true, timeout: 9, requires: { gpu: 'A100', fast: true }, memo: [0],
            resumes: 0, priority: -3, concurrency: { limit: 2, key: '{x}' }, instruction: 'doc', future_field: {},
          },
        ],
      }),
    )
    expect(t).toEqual({
      module: 'm', name: 'w', type: 'workflow', parameters: [],
      wait_for: [1], cache: { params: true, max_age_ms: 5 }, defer: { params: [0] }, delay: 3,
      retries: { limit: 2 }, recurrent: true, timeout: 9, requires: { gpu: ['A100'], fast: ['true'] }, memo: [0],
      resumes: 0, priority: -3, concurrency: { limit: 2, key: '{x}' }, instruction: 'doc',
    })
  })

  test('wrong shapes are rejected', () => {
    expect(() => parseDiscoveryOutput('[]')).toThrow('"targets" array')
    expect(() => parseDiscoveryOutput('{"targets": [{"module": "m", "name": "n", "type": "job"}]}')).toThrow('invalid type')
    expect(() => parseDiscoveryOutput('{"targets": [{"module": 1, "name": "n", "type": "task"}]}')).toThrow('module')
    const target = (type: string, resumes: unknown) => JSON.stringify({ targets: [{ module: 'm', name: 'n', type, resumes }] })
    expect(() => parseDiscoveryOutput(target('workflow', -1))).toThrow('targets[0].resumes is negative')
    expect(() => parseDiscoveryOutput(target('workflow', 1.5))).toThrow('targets[0].resumes is not an integer')
    expect(() => parseDiscoveryOutput(target('task', 2))).toThrow('targets[0].resumes is set on a task')
    expect(parseDiscoveryOutput(target('workflow', null))[0]).not.toHaveProperty('resumes')
  })

  test('priority and concurrency, on tasks and workflows', () => {
    const target = (fields: object) => JSON.stringify({ targets: [{ module: 'm', name: 'n', type: 'task', ...fields }] })
    expect(parseDiscoveryOutput(target({ priority: 5, concurrency: { limit: 1 } }))[0]).toMatchObject({ priority: 5, concurrency: { limit: 1, key: null } })
    expect(parseDiscoveryOutput(target({ priority: null, concurrency: null }))[0]).not.toHaveProperty('concurrency')
    expect(() => parseDiscoveryOutput(target({ priority: 1.5 }))).toThrow('targets[0].priority is not an integer')
    expect(() => parseDiscoveryOutput(target({ concurrency: 2 }))).toThrow('targets[0].concurrency is not an object')
    expect(() => parseDiscoveryOutput(target({ concurrency: { limit: 0 } }))).toThrow('targets[0].concurrency.limit is below 1')
    expect(() => parseDiscoveryOutput(target({ concurrency: { limit: 1, key: 7 } }))).toThrow('targets[0].concurrency.key is not a string')
  })
})
