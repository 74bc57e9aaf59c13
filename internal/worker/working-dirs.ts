/**
 * Each execution's working directory (executor-protocol.md §4.5): a new, empty, private directory
 * of its own, `<root>/coflux-exec-…`, whose path is gone when the execution has ended.
 *
 * A directory an execution left empty, and in which no process of its execution's process group
 * can still be running, is renamed at once (its path is gone, as if removed), its mode reset,
 * and kept (up to `capacity`) for a later execution: what that one sees is a new empty directory,
 * as before. Anything else is removed: an empty directory by one rmdir, one with files left in it
 * asynchronously, so the event loop never waits for a large tree.
 */
import { chmodSync, mkdtempSync, opendirSync, renameSync, rmdirSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'

const PREFIX = 'coflux-exec-'
const MODE = 0o700

export class WorkingDirectories {
  readonly #root: string
  readonly #capacity: number
  readonly #spare: string[] = []
  /** names unique among live workers (pid) and within this one (counter) */
  readonly #tag = `${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`
  #counter = 0

  constructor(root: string, capacity: number) {
    this.#root = root
    this.#capacity = capacity
  }

  /** A new empty directory, mode 0700. */
  take(): string {
    return this.#spare.pop() ?? mkdtempSync(join(this.#root, PREFIX)) // mode 0700
  }

  /**
   * The execution that had `dir` has ended; `processGroup` is its executor's process group, whose
   * members (the executor's subprocesses) could still write there. Its path is gone either way.
   */
  async release(dir: string, processGroup: number | null): Promise<void> {
    if (this.#spare.length < this.#capacity && processGroup !== null && !groupExists(processGroup) && isEmptyDirectory(dir)) {
      const spare = join(this.#root, `${PREFIX}${this.#tag}-${(++this.#counter).toString(36)}`)
      try {
        renameSync(dir, spare)
      } catch {
        return remove(dir)
      }
      try {
        chmodSync(spare, MODE)
        this.#spare.push(spare)
      } catch {
        await remove(spare)
      }
      return
    }
    await remove(dir)
  }

  /** Removes the kept directories (the worker is stopping). */
  close(): void {
    for (const dir of this.#spare.splice(0)) void remove(dir)
  }
}

/** Whether any process is in the group (signal 0 sends nothing, it only checks). */
function groupExists(group: number): boolean {
  try {
    process.kill(-group, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}

function isEmptyDirectory(dir: string): boolean {
  try {
    const handle = opendirSync(dir)
    try {
      return handle.readSync() === null
    } finally {
      handle.closeSync()
    }
  } catch {
    return false
  }
}

/**
 * Most directories are empty: one `rmdir` then, kept synchronous (moved to the thread pool it
 * cost the worker as much CPU, and the server more: the worker's frames then reached it one by
 * one, each in its own turn). Anything else is removed asynchronously.
 */
export async function remove(dir: string): Promise<void> {
  try {
    rmdirSync(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
    await rm(dir, { recursive: true, force: true }).catch(() => {})
  }
}
