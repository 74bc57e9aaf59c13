/**
 * The fork floor, measured in the same run as everything else: floor.py in an interpreter started
 * like the worker's fork template. The template's command line, environment and working directory
 * are read from /proc, so the floor follows whatever the worker does (embedded adapter on
 * PYTHONPATH, resolved interpreter, preloaded modules) without repeating its logic.
 */
import { join } from 'node:path'
import { BENCH_DIR, childEnv, REPO } from './cluster.ts'
import { commandLine, environment, memory, workingDirectory } from './proc.ts'
import { mean, percentile } from './stats.ts'

export interface Floor {
  /** `template`: started like the running template; `fallback`: no template found, python3 + src/python */
  source: 'template' | 'fallback'
  python: string
  pythonVersion: string
  preloaded: string[]
  /** modules in the interpreter before it forks, and its RSS then (next to the template's RSS:
   * a fork's cost grows with the memory mapped) */
  modules: number
  rssMiB: number
  templateRssMiB: number | null
  forks: number
  /** CPU per fork + exit, ms: the parent's (fork, reap) and the child's (its whole life) */
  parentCpuMs: number
  childCpuMs: number
  cpuMs: number
  /** executions/s the machine could fork and reap at most: cores ÷ cpuMs */
  ceilingPerSecond: number
  /** wall-clock fork → child exits → reaped, one at a time on an otherwise idle interpreter */
  roundTripP50Ms: number
  roundTripP99Ms: number
}

const SCRIPT = join(BENCH_DIR, 'floor.py')

export async function measureFloor(templatePid: number | null, forks: number, cores: number): Promise<Floor> {
  const how = templatePid === null ? fallback() : likeTemplate(templatePid)
  const proc = Bun.spawn([...how.interpreter, SCRIPT, String(forks)], { cwd: how.cwd, env: how.env, stdout: 'pipe', stderr: 'pipe' })
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  if (code !== 0) throw new Error(`floor.py exited with ${code}: ${err.trim()}`)
  const raw = JSON.parse(out)
  const childCpuMs = mean(raw.childCpuMs)
  const cpuMs = raw.parentCpuMs + childCpuMs
  return {
    source: how.source,
    python: raw.python,
    pythonVersion: raw.version,
    preloaded: raw.preloaded,
    modules: raw.modules,
    rssMiB: raw.rssKiB / 1024,
    templateRssMiB: templatePid === null ? null : memory(templatePid).rssMiB,
    forks,
    parentCpuMs: raw.parentCpuMs,
    childCpuMs,
    cpuMs,
    ceilingPerSecond: (cores * 1000) / cpuMs,
    roundTripP50Ms: percentile(raw.roundTripMs, 50),
    roundTripP99Ms: percentile(raw.roundTripMs, 99),
  }
}

interface Launch {
  source: Floor['source']
  interpreter: string[]
  env: Record<string, string>
  cwd: string
}

/** The template runs `<python> [flags] -m coflux execute`: keep the python and its flags. */
function likeTemplate(pid: number): Launch {
  const argv = commandLine(pid)
  const m = argv.findIndex((arg, i) => arg === '-m' && argv[i + 1] === 'coflux')
  const { COFLUX_FORK_SOCKET: _, ...env } = environment(pid)
  return { source: 'template', interpreter: m > 0 ? argv.slice(0, m) : argv.slice(0, 1), env, cwd: workingDirectory(pid) }
}

function fallback(): Launch {
  const env = childEnv({ PYTHONPATH: join(REPO, 'src', 'python'), COFLUX_EXECUTOR_MODULES: 'bench_flows' })
  return { source: 'fallback', interpreter: ['python3'], env, cwd: BENCH_DIR }
}
