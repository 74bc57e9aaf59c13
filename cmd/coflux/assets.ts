import { defineCommand } from 'citty'
import { resolve } from 'node:path'
import { formatSize, renderTable, rootCause } from '../../internal/cli-ui/index.ts'
import { BlobStores, matchEntries, planDownload, type CofluxClient } from '../../internal/client/index.ts'
import { connect } from './_shared.ts'

const matchArg = { match: { type: 'string', valueHint: 'GLOB', description: 'Only entries whose path matches (** crosses directories)' } } as const

async function getAsset(client: CofluxClient, assetId: string) {
  try {
    return await client.getAsset(assetId)
  } catch (err) {
    const cause = rootCause(err) as { code?: string }
    if (cause?.code === 'not_found') throw new Error(`asset '${assetId}' not found`)
    throw err
  }
}

const inspect = defineCommand({
  meta: { name: 'inspect', description: 'List the entries of an asset' },
  args: { 'asset-id': { type: 'positional', description: 'Asset id' }, ...matchArg },
  async run(ctx) {
    const { client, out } = await connect(ctx)
    const asset = await getAsset(client, ctx.args['asset-id'] as string)
    const entries = matchEntries(asset.entries, ctx.args.match as string | undefined)
    out.result({ name: asset.name, entries }, (_, c) => {
      const lines = [`Name: ${asset.name ?? '(untitled)'}`]
      const total = Object.keys(asset.entries).length
      if (ctx.args.match) lines.push(`Matched ${Object.keys(entries).length} of ${total} entries.`)
      const rows = Object.entries(entries)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([path, e]) => [path, formatSize(e.size), typeof e.metadata?.type === 'string' ? e.metadata.type : '-', e.blobKey])
      if (rows.length) lines.push('', ...renderTable(['Path', 'Size', 'Type', 'Blob key'], rows, c))
      return lines
    })
  },
})

const download = defineCommand({
  meta: { name: 'download', description: "Download an asset's files" },
  args: {
    'asset-id': { type: 'positional', description: 'Asset id' },
    to: { type: 'string', valueHint: 'DIR', description: 'Destination directory (default: .)' },
    force: { type: 'boolean', description: 'Overwrite existing files' },
    ...matchArg,
  },
  async run(ctx) {
    const assetId = ctx.args['asset-id'] as string
    const { client, out, config, io } = await connect(ctx)
    const asset = await getAsset(client, assetId)
    const to = resolve(io.cwd, (ctx.args.to as string | undefined) ?? '.')
    const files = planDownload(matchEntries(asset.entries, ctx.args.match as string | undefined), to, ctx.args.force === true)
    const stores = new BlobStores(client, { stores: [...config.blobs.stores], token: client.address.token })
    if (!out.isJson) {
      if (files.length === 0) return out.text('Nothing to download')
      out.text(`Downloading ${files.length} file${files.length === 1 ? '' : 's'} (${formatSize(files.reduce((n, f) => n + f.size, 0))})...`)
    }
    for (const f of files) {
      await stores.download(f.blobKey, f.dest)
      if (!out.isJson) out.text(`  ${f.path}`)
    }
    if (out.isJson) out.json({ assetId, to, files: files.map(({ path, blobKey, size }) => ({ path, blobKey, size })) })
    else out.text('Download complete.')
  },
})

/** `coflux assets …` (cli.md §8.13) */
export default defineCommand({
  meta: { name: 'assets', description: 'Inspect and download assets' },
  subCommands: { inspect, download },
})
