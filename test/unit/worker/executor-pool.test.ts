/** The executor pool (executor-protocol.md §12) with real executor processes. */
import { afterEach, describe, expect, test } from 'bun:test'
import { ExecutorStartError } from '../../../internal/worker/executor.ts'
import { SpawnExecutorLauncher } from '../../../internal/worker/executor-process.ts'
import { ExecutorPool } from '../../../internal/worker/executor-pool.ts'
import { fakeSpawnOptions, recordingLog } from './support/harness.ts'

const pools: ExecutorPool[] = []

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.stop()))
})

function makePool(concurrency: number, env: Record<string, string> = {}, onFatal?: (e: ExecutorStartError) => void) {
  const log = recordingLog()
  const pool = new ExecutorPool(new SpawnExecutorLauncher(fakeSpawnOptions(env), log.log), log.log, { concurrency, onFatal })
  pools.push(pool)
  return { pool, log }
}

describe('executor pool', () => {
  test('starts W = min(C, 4) executors', async () => {
    const { pool } = makePool(10)
    expect(pool.warm).toBe(4)
    pool.start()
    await pool.until((p) => p.idleCount === 4)
    expect(makePool(1).pool.warm).toBe(1)
  })

  test('refills right after a take, and after an exit, within the concurrency', async () => {
    const { pool } = makePool(5)
    pool.start()
    await pool.until((p) => p.idleCount === 4)
    const executor = await pool.take()
    expect(pool.busyCount).toBe(1)
    await pool.until((p) => p.idleCount === 4)
    executor.closeInput()
    await executor.exited
    await pool.until((p) => p.busyCount === 0)
    expect(pool.idleCount).toBe(4)

    const small = makePool(2).pool
    small.start()
    await small.until((p) => p.idleCount === 2)
    const [a, b] = [await small.take(), await small.take()]
    // at the concurrency limit: nothing spawned until one exits
    await Bun.sleep(150)
    expect(small.idleCount).toBe(0)
    a.kill()
    await small.until((p) => p.idleCount === 1)
    b.kill()
    await small.until((p) => p.idleCount === 2)
  })

  test('an executor blocked in a wait holds no slot: the warm set refills against running = busy − waiting', async () => {
    const { pool } = makePool(2)
    pool.start()
    await pool.until((p) => p.idleCount === 2)
    const [a, b] = [await pool.take(), await pool.take()]
    await Bun.sleep(150)
    expect(pool.idleCount).toBe(0) // both slots running

    pool.markWaiting(a)
    expect(pool.waitingCount).toBe(1)
    await pool.until((p) => p.idleCount === 1) // one slot free again
    pool.markWaiting(b)
    await pool.until((p) => p.idleCount === 2) // both free, but never more than W
    expect(pool.busyCount).toBe(2)

    // the wait is over: it counts again; nothing is spawned while running + idle ≥ C
    pool.markRunning(a)
    expect(pool.waitingCount).toBe(1)
    const c = await pool.take()
    await Bun.sleep(150)
    expect(pool.idleCount).toBe(1)
    expect(pool.busyCount).toBe(3)

    // a waiting executor that exits stops counting as waiting
    b.kill()
    await pool.until((p) => p.busyCount === 2)
    expect(pool.waitingCount).toBe(0)
    c.kill()
    await pool.until((p) => p.busyCount === 1 && p.idleCount === 1)
  })

  test('the warm target stays W = min(C, 4) however many wait', async () => {
    const { pool } = makePool(5)
    pool.start()
    await pool.until((p) => p.idleCount === 4)
    const taken = [await pool.take(), await pool.take()]
    await pool.until((p) => p.idleCount === 3) // 2 running + 3 idle = C
    taken.forEach((e) => pool.markWaiting(e))
    await pool.until((p) => p.idleCount === 4)
    await Bun.sleep(150)
    expect(pool.idleCount).toBe(4)
    expect(pool.waitingCount).toBe(2)
  })

  test('marking an executor that is not busy changes nothing', async () => {
    const { pool } = makePool(1)
    pool.start()
    await pool.until((p) => p.idleCount === 1)
    const e = await pool.take()
    pool.release(e)
    pool.markWaiting(e)
    expect(pool.waitingCount).toBe(0)
    pool.markRunning(e)
    expect(pool.waitingCount).toBe(0)
  })

  test('takes the longest-idle executor first', async () => {
    const { pool } = makePool(2)
    pool.start()
    await pool.until((p) => p.idleCount === 2)
    const first = await pool.take()
    pool.release(first)
    // released executors go to the front: they were idle the longest
    expect((await pool.take()).pid).toBe(first.pid)
  })

  test('replaces an idle executor that died', async () => {
    const { pool } = makePool(1)
    pool.start()
    await pool.until((p) => p.idleCount === 1)
    const victim = await pool.take()
    pool.release(victim)
    victim.kill()
    await victim.exited
    await pool.until((p) => p.idleCount === 1)
    const replacement = await pool.take()
    expect(replacement.pid).not.toBe(victim.pid)
  })

  test('spawns on demand when nothing is idle, even while draining', async () => {
    const { pool } = makePool(3)
    pool.drain()
    expect(pool.idleCount).toBe(0)
    const executor = await pool.take()
    expect(executor.isAlive).toBe(true)
    expect(pool.idleCount).toBe(0)
  })

  test('draining closes idle executors, which exit 0', async () => {
    const { pool } = makePool(2)
    pool.start()
    await pool.until((p) => p.idleCount === 2)
    const idle = [await pool.take(), await pool.take()]
    idle.forEach((e) => pool.release(e))
    pool.drain()
    const exits = await Promise.all(idle.map((e) => e.exited))
    expect(exits.map((e) => e.code)).toEqual([0, 0])
  })

  test('an incompatible adapter is fatal once; takes fail with the message', async () => {
    const fatal: ExecutorStartError[] = []
    const { pool, log } = makePool(2, { FAKE_VERSION: '0.9' }, (e) => fatal.push(e))
    pool.start()
    const err = await pool.take().catch((e) => e)
    expect(err.message).toStartWith('adapter version mismatch: CLI expects protocol version 0.12, but the adapter reports 0.9')
    await pool.until(() => fatal.length === 1)
    expect(fatal.length).toBe(1)
    expect(log.lines.filter((l) => l.level === 'warn').length).toBe(0)
  })

  test('a failed warm spawn is logged and skipped', async () => {
    const { pool, log } = makePool(1, { FAKE_READY: 'exit' })
    pool.start()
    await pool.until(() => log.has(/failed to start executor: executor closed before ready/))
    expect(pool.idleCount).toBe(0)
  })
})
