/** Pure pieces of the worker: no processes, no sockets. */
import { describe, expect, test } from 'bun:test'
import type { NewMetricPoint } from '../../../internal/protocol/metrics.ts'
import { Batcher, RejectedBatchError } from '../../../internal/worker/batcher.ts'
import { Deliveries } from '../../../internal/worker/deliveries.ts'
import { truncateTemplate } from '../../../internal/worker/execution-messages.ts'
import { crashMessage } from '../../../internal/worker/execution-runner.ts'
import { MetricRecorder } from '../../../internal/worker/metrics.ts'
import { isWatchedPath } from '../../../internal/worker/watcher.ts'
import { recordingLog } from './support/harness.ts'

describe('crash messages (§10.4)', () => {
  test('name the exit code or signal, then the stderr tail', () => {
    expect(crashMessage({ code: 1, signal: null }, [])).toBe('executor exited unexpectedly (exit code 1)')
    expect(crashMessage({ code: null, signal: 'SIGKILL' }, ['Killed'])).toBe('executor exited unexpectedly (signal SIGKILL)\nKilled')
  })
})

describe('log templates (§3)', () => {
  test('over 1 MiB are cut and marked', () => {
    expect(truncateTemplate('short')).toBe('short')
    const long = 'é'.repeat(600_000) // 1.2 MB of UTF-8
    const cut = truncateTemplate(long)
    expect(cut.endsWith('… [truncated]')).toBe(true)
    expect(Buffer.byteLength(cut.slice(0, -'… [truncated]'.length))).toBeLessThanOrEqual(1024 * 1024)
    expect(cut).not.toContain('\uFFFD')
  })
})

describe('metrics (§5.3)', () => {
  function recorder() {
    const sent: NewMetricPoint[] = []
    const batcher = { add: (e: NewMetricPoint) => sent.push(e) } as unknown as Batcher<NewMetricPoint>
    const log = recordingLog()
    return { metrics: new MetricRecorder(batcher, log.log), sent, log }
  }
  const source = { executionId: 'R:1:1', runId: 'R', workspaceId: 'W', receivedAt: 1_000 }

  test('without at: seconds since execute; the key stays automatic', () => {
    const { metrics, sent, log } = recorder()
    metrics.record(source, 'k', 1, undefined, 3_500)
    metrics.record(source, 'k', 2, 99, 4_000)
    expect(sent.map((e) => e.at)).toEqual([2.5, 3])
    expect(log.has(/uses automatic 'at' values/)).toBe(true)
  })

  test('explicit at must increase per key, else the point is dropped (warned once)', () => {
    const { metrics, sent, log } = recorder()
    for (const at of [1, 2, 2, 1, 3]) metrics.record(source, 'k', at, at, 2_000)
    expect(sent.map((e) => e.at)).toEqual([1, 2, 3])
    expect(log.lines.filter((l) => /must increase/.test(l.text)).length).toBe(1)
  })

  test('throttle keeps the leading point and the last of each window; finish flushes it', () => {
    const { metrics, sent } = recorder()
    metrics.define(source, 'k', 1)
    metrics.record(source, 'k', 1, 1, 10_000)
    metrics.record(source, 'k', 2, 2, 10_100)
    metrics.record(source, 'k', 3, 3, 10_200)
    expect(sent.map((e) => e.value)).toEqual([1])
    metrics.finish('R:1:1')
    expect(sent.map((e) => e.value)).toEqual([1, 3])
    const other = { ...source, executionId: 'R:2:1' }
    metrics.record(other, 'k', 9, 1, 10_300)
    expect(sent.at(-1)!.value).toBe(9) // throttles are per execution
  })
})

describe('deliveries (semantics.md §20.6)', () => {
  function channel(connected = true, acks = true) {
    const sent: string[] = []
    return {
      sent,
      channel: { isConnected: connected, hasAcks: acks, sendNow: (f: { request: string; params: unknown[] }) => (connected ? (sent.push(f.request), true) : false) },
    }
  }

  test('keep everything until both acks, re-send in order, settle when done', async () => {
    const { sent, channel: ch } = channel()
    const deliveries = new Deliveries(ch)
    deliveries.complete('E', { request: 'put_result', params: ['E', ['raw', null, []]] })
    deliveries.terminate('E')
    deliveries.resend()
    expect(sent).toEqual(['put_result', 'notify_terminated', 'put_result', 'notify_terminated'])
    const settled = deliveries.whenSettled()
    deliveries.ack('E', 'result')
    expect(deliveries.has('E')).toBe(true)
    deliveries.ack('E', 'terminated')
    await settled
    expect(deliveries.size).toBe(0)
  })

  test('an execution the session frame no longer lists is dropped', () => {
    const { channel: ch } = channel(false)
    const deliveries = new Deliveries(ch)
    deliveries.complete('A', { request: 'put_timeout', params: ['A'] })
    deliveries.complete('B', { request: 'put_timeout', params: ['B'] })
    deliveries.retain(['B'])
    expect([deliveries.has('A'), deliveries.has('B')]).toEqual([false, true])
  })
})

describe('batcher', () => {
  test('batches by size, retries failures, drops refused batches', async () => {
    const posted: number[][] = []
    let failures = 1
    const log = recordingLog()
    const batcher = new Batcher<number>({
      name: 'test',
      batchSize: 3,
      flushIntervalMs: 20,
      log: log.log,
      post: async (entries) => {
        if (entries.includes(99)) throw new RejectedBatchError('HTTP 400')
        if (failures-- > 0) throw new Error('down')
        posted.push(entries)
      },
    })
    for (const n of [1, 2, 3, 4]) batcher.add(n)
    await batcher.flush(Date.now() + 20_000)
    expect(posted).toEqual([[1, 2, 3], [4]])
    batcher.add(99)
    await batcher.flush(Date.now() + 20_000)
    expect(log.has(/server rejected 1 entries: HTTP 400/)).toBe(true)
    expect(batcher.pending).toBe(0)
  })
})

describe('--watch paths', () => {
  test('.py files, outside hidden and tool directories', () => {
    expect(isWatchedPath('app/flows.py')).toBe(true)
    expect(isWatchedPath('flows.py')).toBe(true)
    for (const p of ['app/flows.pyc', '.venv/lib/x.py', 'venv/x.py', 'a/__pycache__/x.py', 'node_modules/x.py', '.git/x.py', 'a/.hidden/x.py']) {
      expect(isWatchedPath(p)).toBe(false)
    }
  })
})
