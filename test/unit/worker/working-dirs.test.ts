/** Each execution's working directory: new, empty and private; an empty one kept under a new name. */
import { afterEach, beforeEach, expect, test } from 'bun:test'
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { WorkingDirectories } from '../../../internal/worker/working-dirs.ts'

let root: string
let keep: string
let dirs: WorkingDirectories

/** A process group with nothing left in it: a child that led its own group, reaped. */
async function endedGroup(): Promise<number> {
  const proc = Bun.spawn(['true'], { detached: true } as Parameters<typeof Bun.spawn>[1])
  await proc.exited
  return proc.pid
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'coflux-wd-test-'))
  keep = mkdtempSync(join(tmpdir(), 'coflux-wd-keep-'))
  dirs = new WorkingDirectories({ root, keep, capacity: 2 })
})

afterEach(() => {
  rmSync(root, { recursive: true, force: true })
  rmSync(keep, { recursive: true, force: true })
})

const mode = (dir: string) => statSync(dir).mode & 0o777

test('a new directory is empty, private and named apart from the others', () => {
  const a = dirs.take()
  const b = dirs.take()
  expect(a).not.toBe(b)
  for (const dir of [a, b]) {
    expect(dir.startsWith(join(root, 'coflux-exec-'))).toBe(true)
    expect(readdirSync(dir)).toEqual([])
    expect(mode(dir)).toBe(0o700)
  }
})

test('a directory left empty by an ended group: its path goes at once; it comes back under a new name, mode reset', async () => {
  const first = dirs.take()
  const inode = statSync(first).ino
  chmodSync(first, 0o755)
  await dirs.release(first, await endedGroup())
  expect(existsSync(first)).toBe(false)
  const second = dirs.take()
  expect(second).not.toBe(first)
  expect(statSync(second).ino).toBe(inode)
  expect(second.startsWith(join(root, 'coflux-exec-'))).toBe(true)
  expect(readdirSync(second)).toEqual([])
  expect(mode(second)).toBe(0o700)
})

test('a directory with files left in it is removed, never kept', async () => {
  const dir = dirs.take()
  writeFileSync(join(dir, 'out.txt'), 'data')
  await dirs.release(dir, await endedGroup())
  expect(existsSync(dir)).toBe(false)
  expect(readdirSync(root)).toEqual([])
})

test('a directory whose group still has a process (a subprocess left running) is removed', async () => {
  const dir = dirs.take()
  const sleeper = Bun.spawn(['sleep', '30'], { cwd: dir, detached: true } as Parameters<typeof Bun.spawn>[1])
  try {
    await dirs.release(dir, sleeper.pid)
    expect(existsSync(dir)).toBe(false)
    expect(readdirSync(root)).toEqual([])
  } finally {
    sleeper.kill()
  }
})

test('no group known (the executor never started): removed', async () => {
  const dir = dirs.take()
  await dirs.release(dir, null)
  expect(existsSync(dir)).toBe(false)
})

test('at most `capacity` are kept, in the private directory; close removes them', async () => {
  const taken = [dirs.take(), dirs.take(), dirs.take()]
  const group = await endedGroup()
  for (const dir of taken) await dirs.release(dir, group)
  expect(readdirSync(root)).toEqual([])
  expect(readdirSync(keep).length).toBe(2)
  dirs.close()
  expect(readdirSync(keep)).toEqual([])
})

test('a kept directory removed from outside is replaced by a new one', async () => {
  await dirs.release(dirs.take(), await endedGroup())
  rmSync(join(keep, readdirSync(keep)[0]!), { recursive: true })
  const next = dirs.take()
  expect(next.startsWith(join(root, 'coflux-exec-'))).toBe(true)
  expect(readdirSync(next)).toEqual([])
  expect(mode(next)).toBe(0o700)
})
