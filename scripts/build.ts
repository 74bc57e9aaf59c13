/**
 * Builds dist/coflux: one executable with the Python adapter and the web UI's bundle embedded
 * as assets, and the PostgreSQL bridge thread (internal/store/postgres/bridge-worker.ts) as a second
 * entry point, which `new Worker(new URL(...))` finds inside the executable.
 * --bytecode (which needs --format=esm) cuts startup from ~43 ms to ~17 ms (notes/toolchain.md).
 */
import { $ } from 'bun'
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { bundleUi } from '../internal/server/ui/bundle.ts'

mkdirSync('dist', { recursive: true })
const started = performance.now()
// the web UI (internal/web-ui) as hashed files, embedded under web-ui/ (server/ui/routes.ts)
rmSync('dist/web-ui', { recursive: true, force: true })
mkdirSync('dist/web-ui')
for (const file of await bundleUi()) writeFileSync(join('dist/web-ui', file.name), file.bytes)
// --asset=<dir> embeds the tree under its last path component (coflux/__init__.py, …); the
// outfile may not share that name, so we compile under another name and rename.
await $`bun build --compile --minify --bytecode --format=esm --asset=src/python/coflux --asset=dist/web-ui cmd/coflux/main.ts internal/store/postgres/bridge-worker.ts --outfile dist/coflux-build`.quiet()
renameSync('dist/coflux-build', 'dist/coflux')
console.error(`built dist/coflux in ${Math.round(performance.now() - started)} ms`)
