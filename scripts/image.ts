/**
 * Builds the server image offline (`make image`, or `bun scripts/image.ts --tag coflux:dev`):
 * the Dockerfile is `FROM scratch`, so no base image is pulled; this script stages its context
 * under dist/image/: dist/coflux as /usr/local/bin/coflux, the C libraries it links (as `ldd`
 * lists them, at the same paths), the CA certificates, and empty /data and /tmp.
 *
 * The staging functions are exported for the e2e tests, which build worker images the same way.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'

const REPO = resolve(import.meta.dir, '..')

/** The shared libraries a dynamically linked executable loads, as absolute host paths. */
export function linkedLibraries(executable: string): string[] {
  const ldd = Bun.spawnSync(['ldd', executable], { stdout: 'pipe', stderr: 'pipe' })
  const text = ldd.stdout.toString()
  // a static executable: "not a dynamic executable" (exit 1), nothing to copy
  if (ldd.exitCode !== 0) return []
  const paths = new Set<string>()
  for (const line of text.split('\n')) {
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" or "/lib64/ld-linux-x86-64.so.2 (0x…)"
    const match = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line)
    if (match) paths.add(match[1]!)
  }
  return [...paths]
}

/** Copies a host file into the image root at `imagePath` (symlinks followed), keeping its mode. */
export function stageFile(rootfs: string, hostPath: string, imagePath = hostPath): void {
  const target = join(rootfs, imagePath)
  mkdirSync(dirname(target), { recursive: true })
  copyFileSync(hostPath, target)
  chmodSync(target, statSync(hostPath).mode & 0o7777)
}

/** An executable and every library it links, so that it runs in a `FROM scratch` image. */
export function stageExecutable(rootfs: string, hostPath: string, imagePath = hostPath): void {
  stageFile(rootfs, hostPath, imagePath)
  for (const lib of linkedLibraries(hostPath)) if (!existsSync(join(rootfs, lib))) stageFile(rootfs, lib)
}

/** Empty directories the image needs (`/tmp` world-writable, as everywhere). */
export function stageDirectories(rootfs: string, dirs: string[]): void {
  for (const dir of dirs) mkdirSync(join(rootfs, dir), { recursive: true })
  if (dirs.includes('/tmp')) chmodSync(join(rootfs, 'tmp'), 0o1777)
}

/** Stages dist/image/ (the Dockerfile and rootfs/) for the server image. */
export function stageServerImage(binary = join(REPO, 'dist', 'coflux'), context = join(REPO, 'dist', 'image')): string {
  if (!existsSync(binary)) throw new Error(`${binary} not found: run \`bun scripts/build.ts\` first`)
  rmSync(context, { recursive: true, force: true })
  const rootfs = join(context, 'rootfs')
  stageExecutable(rootfs, binary, '/usr/local/bin/coflux')
  const certs = '/etc/ssl/certs/ca-certificates.crt'
  if (existsSync(certs)) stageFile(rootfs, certs)
  stageDirectories(rootfs, ['/data', '/tmp', '/root'])
  copyFileSync(join(REPO, 'Dockerfile'), join(context, 'Dockerfile'))
  return context
}

/** `docker build` of a staged context; throws with docker's output when it fails. */
export function buildImage(context: string, tag: string): void {
  const build = Bun.spawnSync(['docker', 'build', '--quiet', '--tag', tag, context], { stdout: 'pipe', stderr: 'pipe' })
  if (build.exitCode !== 0) throw new Error(`docker build failed:\n${build.stderr.toString()}${build.stdout.toString()}`)
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { tag: { type: 'string', default: 'coflux:latest' } } })
  const context = stageServerImage()
  buildImage(context, values.tag!)
  console.error(`built image ${values.tag} (context ${context})`)
}
