/**
 * Builds dist/coflux: one executable with the Python adapter embedded as assets.
 * --bytecode (which needs --format=esm) cuts startup from ~43 ms to ~17 ms (notes/toolchain.md).
 */
import { $ } from 'bun'
import { mkdirSync, renameSync } from 'node:fs'

mkdirSync('dist', { recursive: true })
const started = performance.now()
// --asset=<dir> embeds the tree under its last path component (coflux/__init__.py, …); the
// outfile may not share that name, so we compile under another name and rename.
await $`bun build --compile --minify --bytecode --format=esm --asset=src/python/coflux cmd/coflux/main.ts --outfile dist/coflux-build`.quiet()
renameSync('dist/coflux-build', 'dist/coflux')
console.error(`built dist/coflux in ${Math.round(performance.now() - started)} ms`)
