/**
 * A real Docker daemon for the docker tests. No registry is reachable, so images are built here
 * from the host's own files (`FROM scratch`, scripts/image.ts). The daemon must be there
 * (`make test` starts one: scripts/test-setup.sh); the tests fail without it, never skip.
 */
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DockerEngine, DEFAULT_DOCKER_HOST } from '../../../internal/server/launchers/docker-engine.ts'
import { buildImage, stageDirectories, stageExecutable } from '../../../scripts/image.ts'

export const engine = new DockerEngine(process.env.DOCKER_HOST || DEFAULT_DOCKER_HOST)

/** Whether a daemon answers; in CI a missing one is an error, never a skip. */
export async function requireDocker(): Promise<void> {
  const res = await fetch('http://docker/_ping', { unix: '/var/run/docker.sock', signal: AbortSignal.timeout(5_000) } as RequestInit).catch(() => null)
  if (res?.status !== 200) throw new Error('no Docker daemon at /var/run/docker.sock (`make test` starts one: scripts/test-setup.sh)')
}

/** `docker …` with the output; throws on failure. */
export function docker(args: string[]): string {
  const proc = Bun.spawnSync(['docker', ...args], { stdout: 'pipe', stderr: 'pipe' })
  if (proc.exitCode !== 0) throw new Error(`docker ${args.join(' ')} failed: ${proc.stderr.toString()}`)
  return proc.stdout.toString().trim()
}

/** The host's python3 as the image needs it: its real executable, standard library and libraries. */
function pythonFiles(): { executable: string; stdlib: string[] } {
  const script = 'import json,os,sys,sysconfig; p=sysconfig.get_paths(); print(json.dumps([os.path.realpath(sys.executable), p["stdlib"], p["platstdlib"]]))'
  const candidates = ['/usr/bin/python3', 'python3']
  for (const python of candidates) {
    const proc = Bun.spawnSync([python, '-c', script], { stdout: 'pipe', stderr: 'pipe' })
    if (proc.exitCode !== 0) continue
    const [executable, ...stdlib] = JSON.parse(proc.stdout.toString()) as string[]
    return { executable: executable!, stdlib: [...new Set(stdlib)] }
  }
  throw new Error('python3 not found on this machine')
}

/**
 * Builds a worker image: `coflux` on the PATH, python3 with its standard library (tests, caches
 * and site-packages left out), and `app` (the test fixtures) as the working directory.
 */
export function buildWorkerImage(tag: string, binary: string, app: string): void {
  const context = mkdtempSync(join(tmpdir(), 'coflux-worker-image-'))
  try {
    const rootfs = join(context, 'rootfs')
    stageExecutable(rootfs, binary, '/usr/local/bin/coflux')
    const python = pythonFiles()
    stageExecutable(rootfs, python.executable)
    // a link, so that Python finds its standard library from the real path, as on the host
    symlinkSync(python.executable, join(rootfs, 'usr/local/bin/python3'))
    const isLeftOut = (path: string) => /\/(test|tests|__pycache__|site-packages|dist-packages|idlelib|tkinter|ensurepip)(\/|$)/.test(path)
    for (const dir of python.stdlib) {
      cpSync(dir, join(rootfs, dir), { recursive: true, dereference: true, filter: (src) => !isLeftOut(src.slice(dir.length)) })
    }
    // the extension modules' own libraries (libz, libffi, libssl, …)
    const found = Bun.spawnSync(['find', ...python.stdlib, '-name', '*.so'], { stdout: 'pipe' }).stdout.toString()
    for (const so of found.split('\n')) if (so && !isLeftOut(so)) stageExecutable(rootfs, so)
    cpSync(app, join(rootfs, 'app'), { recursive: true, filter: (src) => !src.includes('__pycache__') })
    stageDirectories(rootfs, ['/tmp', '/root'])
    writeFileSync(
      join(context, 'Dockerfile'),
      ['FROM scratch', 'COPY rootfs/ /', 'ENV PATH=/usr/local/bin:/usr/bin:/bin HOME=/root', 'WORKDIR /app', ''].join('\n'),
    )
    buildImage(context, tag)
  } finally {
    rmSync(context, { recursive: true, force: true })
  }
}

/** Containers carrying a label (`coflux.pool=…`), running or not. */
export function containersLabelled(label: string): string[] {
  return docker(['ps', '--all', '--quiet', '--no-trunc', '--filter', `label=${label}`]).split('\n').filter(Boolean)
}
