/**
 * Each execution's working directory (executor-protocol.md §4.5): a new, empty, private directory
 * of its own, `<root>/coflux-exec-…`, whose path is gone when the execution has ended.
 *
 * A directory an execution left empty, and in which no process of its execution's process group
 * can still be running, is moved at once into the worker's private directory (its path is gone,
 * as if removed), its mode reset, and kept there (up to `capacity`) until a later execution needs
 * one: it is then moved back under a name never handed out, and that execution sees a new empty
 * directory, as before. Kept directories stay inside the private one, which the worker removes
 * when it stops (a killed worker leaves that one directory, as it always did). Anything else is
 * removed: an empty directory by one rmdir, one with files left in it asynchronously, so the
 * event loop never waits for a large tree.
 */
import { chmodSync, mkdtempSync, opendirSync, renameSync, rmdirSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'

const PREFIX = 'coflux-exec-'
const MODE = 0o700

export class WorkingDirectories {
  readonly #root: string
  readonly #keep: string
  readonly #capacity: number
  readonly #spare: string[] = []
  /** names unique among live workers (pid) and within this one (counter) */
  readonly #tag = `${process.pid.toString(36)}${Math.random().toString(36).slice(2, 6)}`
  #counter = 0

  /** `root`: where the directories are handed out; `keep`: the worker's private directory, on the same file system. */
  constructor(options: { root: string; keep: string; capacity: number }) {
    this.#root = options.root
    this.#keep = options.keep
    this.#capacity = options.capacity
  }

  /** A new empty directory, mode 0700. */
  take(): string {
    for (let spare = this.#spare.pop(); spare !== undefined; spare = this.#spare.pop()) {
      const dir = this.#newName(this.#root, PREFIX)
      try {
        renameSync(spare, dir)
        return dir
      } catch {
        void remove(spare)
      }
    }
    return mkdtempSync(join(this.#root, PREFIX)) // mode 0700
  }

  /**
   * The execution that had `dir` has ended; `processGroup` is its executor's process group, whose
   * members (the executor's subprocesses) could still write there. Its path is gone either way.
   */
  async release(dir: string, processGroup: number | null): Promise<void> {
    if (this.#spare.length < this.#capacity && processGroup !== null && !groupExists(processGroup) && isEmptyDirectory(dir)) {
      const spare = this.#newName(this.#keep, 'coflux-spare-')
      try {
        chmodSync(dir, MODE)
        renameSync(dir, spare)
        this.#spare.push(spare)
        return
      } catch {
        // gone, or not ours to change: removed below
      }
    }
    await remove(dir)
  }

  #newName(parent: string, prefix: string): string {
    return join(parent, `${prefix}${this.#tag}-${(++this.#counter).toString(36)}`)
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
