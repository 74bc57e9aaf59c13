import { describe, expect, test } from 'bun:test'
import { ExecutorStartError } from '../../../internal/worker/executor.ts'
import { SpawnExecutorLauncher, spawnExecutor } from '../../../internal/worker/executor-process.ts'
import { parseLine, replaceNonFinite } from '../../../internal/worker/executor.ts'
import { LineReader } from '../../../internal/worker/line-reader.ts'
import { fakeSpawnOptions, recordingLog } from './support/harness.ts'

function launch(env: Record<string, string>, readyTimeoutMs?: number) {
  return new SpawnExecutorLauncher(fakeSpawnOptions(env), recordingLog().log, readyTimeoutMs).launch()
}

describe('ready handshake (executor-protocol.md §13)', () => {
  test('accepts 0.12 and dev versions', async () => {
    for (const version of ['0.12', 'dev', '0.13-dev']) {
      const executor = await launch({ FAKE_VERSION: version })
      expect(executor.isAlive).toBe(true)
      executor.closeInput()
      expect((await executor.exited).code).toBe(0)
    }
  })

  test('rejects a different version with the upgrade message and kills the executor', async () => {
    const err = await launch({ FAKE_VERSION: '0.11' }).catch((e) => e)
    expect(err).toBeInstanceOf(ExecutorStartError)
    expect(err.isVersionMismatch).toBe(true)
    expect(err.message).toBe(
      'adapter version mismatch: CLI expects protocol version 0.12, but the adapter reports 0.11 — update the coflux Python package',
    )
  })

  test('rejects a ready without version', async () => {
    for (const env of [{ FAKE_VERSION: 'none' }, { FAKE_READY: 'noparams' }] as Record<string, string>[]) {
      const err = await launch(env).catch((e) => e)
      expect(err.message).toBe('adapter did not send a protocol version in the ready message — update the coflux Python package')
      expect(err.isVersionMismatch).toBe(true)
    }
  })

  test('rejects a first message that is not ready', async () => {
    const err = await launch({ FAKE_READY: 'other' }).catch((e) => e)
    expect(err.message).toBe('expected ready message, got log')
    expect(err.isVersionMismatch).toBe(false)
  })

  test('reports an executor that closes before ready', async () => {
    const err = await launch({ FAKE_READY: 'exit' }).catch((e) => e)
    expect(err.message).toBe('executor closed before ready')
  })

  test('kills an executor that stays silent past the ready timeout', async () => {
    const err = await launch({ FAKE_READY: 'silent' }, 300).catch((e) => e)
    expect(err.message).toBe('executor did not send ready within 0.3s')
  })

  test('runs as the leader of its own process group, and a kill reaches the group', async () => {
    const log = recordingLog()
    const executor = spawnExecutor(fakeSpawnOptions(), log.log)
    await executor.ready
    const pgid = Number((await Bun.$`ps -o pgid= -p ${executor.pid}`.text()).trim())
    expect(pgid).toBe(executor.pid)
    executor.kill()
    expect((await executor.exited).signal).toBe('SIGKILL')
  })

  test('reads stderr continuously and keeps the last lines', async () => {
    const log = recordingLog()
    const executor = spawnExecutor(fakeSpawnOptions(), log.log)
    await executor.ready
    executor.closeInput()
    await executor.exited
    expect(executor.stderrTail()).toEqual(['warm stderr line'])
    expect(log.has(/stderr: warm stderr line/)).toBe(true)
  })
})

describe('lines', () => {
  test('splits chunks into lines, including very long ones', () => {
    const reader = new LineReader()
    expect(reader.push(new TextEncoder().encode('a\nb'))).toEqual(['a'])
    const big = 'x'.repeat(3 * 1024 * 1024)
    const bytes = new TextEncoder().encode(big)
    for (let i = 0; i < bytes.length; i += 65536) expect(reader.push(bytes.subarray(i, i + 65536))).toEqual([])
    const lines = reader.push(new TextEncoder().encode('\nc\r\n'))
    expect(lines.length).toBe(2)
    expect(lines[0]!.length).toBe(big.length + 1)
    expect(lines[1]).toBe('c')
    expect(reader.end()).toBeNull()
  })

  test('classifies protocol and non-protocol lines', () => {
    expect(parseLine('{"method":"log","params":{"level":1}}').kind).toBe('notification')
    expect(parseLine('{"id":3,"method":"select","params":{}}').kind).toBe('request')
    expect(parseLine('plain text').kind).toBe('other')
    expect(parseLine('{"no":"method"}').kind).toBe('other')
    expect(parseLine('{"id":-1,"method":"x"}').kind).toBe('other')
  })

  test('parses NaN and Infinity leniently, outside strings only', () => {
    expect(replaceNonFinite('{"a":NaN,"b":"NaN \\" Infinity","c":[-Infinity,Infinity]}')).toBe(
      '{"a":null,"b":"NaN \\" Infinity","c":[null,null]}',
    )
    const event = parseLine('{"method":"execution_result","params":{"result":{"value":NaN}}}')
    expect(event.kind === 'notification' && event.lenient).toBe(true)
  })
})
