/**
 * What the bench reads about a process from /proc (Linux only): CPU time split into its own and
 * its reaped children's, memory, and the process tree.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'

/** clock ticks per second of /proc/<pid>/stat's time fields (`getconf CLK_TCK`, nearly always 100) */
const TICKS_PER_SECOND = Number(Bun.spawnSync(['getconf', 'CLK_TCK']).stdout.toString().trim()) || 100

/** CPU time in milliseconds: `self` is utime + stime (all threads), `children` is cutime + cstime
 * (children the process has waited for, and their waited-for descendants). */
export interface CpuTimes {
  self: number
  children: number
}

interface Stat {
  ppid: number
  cpu: CpuTimes
}

function stat(pid: number): Stat {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // the command name (field 2) may contain spaces and parentheses: count fields after the last ')'
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  const ticks = (field: number) => (Number(fields[field - 3]) * 1000) / TICKS_PER_SECOND
  return { ppid: Number(fields[4 - 3]), cpu: { self: ticks(14) + ticks(15), children: ticks(16) + ticks(17) } }
}

export function cpuTimes(pid: number): CpuTimes {
  return stat(pid).cpu
}

/**
 * CPU of a whole process tree (a PostgreSQL cluster: the postmaster, its backends and background
 * processes): `self` sums every live process's own, `children` is what the root has reaped (a
 * backend that exited moves from the one to the other, so deltas stay whole).
 */
export function treeCpuTimes(root: number): CpuTimes {
  let self = 0
  for (const pid of processTree(root)) {
    try {
      self += stat(pid).cpu.self
    } catch {
      // exited while we looked: now in the root's children
    }
  }
  return { self, children: stat(root).cpu.children }
}

export function cpuDelta(before: CpuTimes, after: CpuTimes): CpuTimes {
  return { self: after.self - before.self, children: after.children - before.children }
}

/** The resolution of cpuTimes, in milliseconds. */
export const CPU_TICK_MS = 1000 / TICKS_PER_SECOND

export function memory(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0)
  return { rssMiB: kb('VmRSS') / 1024, peakMiB: kb('VmHWM') / 1024 }
}

/** Direct children, by scanning every process's parent (this kernel may lack task/<tid>/children). */
export function childrenOf(pid: number): number[] {
  const out: number[] = []
  for (const name of readdirSync('/proc')) {
    const child = Number(name)
    if (!Number.isInteger(child) || child <= 0) continue
    try {
      if (stat(child).ppid === pid) out.push(child)
    } catch {
      // exited while we looked
    }
  }
  return out
}

/** `pid` and everything below it, parents before children. */
export function processTree(pid: number): number[] {
  const out = [pid]
  for (let i = 0; i < out.length; i++) out.push(...childrenOf(out[i]!))
  return out
}

export function parentOf(pid: number): number {
  return stat(pid).ppid
}

export function commandLine(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1)
}

export function environment(pid: number): Record<string, string> {
  const out: Record<string, string> = {}
  for (const entry of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const eq = entry.indexOf('=')
    if (eq > 0) out[entry.slice(0, eq)] = entry.slice(eq + 1)
  }
  return out
}

export function workingDirectory(pid: number): string {
  return readlinkSync(`/proc/${pid}/cwd`)
}
