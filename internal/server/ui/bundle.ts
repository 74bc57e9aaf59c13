/**
 * The web UI's bundle (internal/web-ui): Bun.build of its entry into file names that carry a
 * content hash, so the server can let browsers cache them for good. scripts/build.ts writes the
 * files to dist/web-ui/ and embeds them in the binary; a server running from sources (tests,
 * `bun cmd/coflux/main.ts server`) bundles them in memory on first use.
 */
import { basename, resolve } from 'node:path'

export const UI_ENTRY = resolve(import.meta.dir, '../../web-ui/main.tsx')

export interface UiFile {
  /** `main-<hash>.js`, `main-<hash>.css` */
  name: string
  bytes: Uint8Array
}

export async function bundleUi(options: { minify?: boolean } = {}): Promise<UiFile[]> {
  const result = await Bun.build({
    entrypoints: [UI_ENTRY],
    target: 'browser',
    format: 'esm',
    minify: options.minify ?? true,
    naming: { entry: '[name]-[hash].[ext]', asset: '[name]-[hash].[ext]', chunk: '[name]-[hash].[ext]' },
    throw: false,
  })
  if (!result.success) throw new AggregateError(result.logs, `the web UI did not build: ${result.logs.map(String).join('\n')}`)
  return Promise.all(result.outputs.map(async (o) => ({ name: basename(o.path), bytes: new Uint8Array(await o.arrayBuffer()) })))
}
