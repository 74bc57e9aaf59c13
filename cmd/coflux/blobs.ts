import { defineCommand } from 'citty'
import { resolve } from 'node:path'
import { BlobNotFoundError, BlobStores, isBlobKey } from '../../internal/client/index.ts'
import { connect } from './_shared.ts'

const get = defineCommand({
  meta: { name: 'get', description: 'Fetch a blob through the configured blob stores' },
  args: {
    key: { type: 'positional', description: 'Blob key (64 lowercase hex)' },
    to: { type: 'string', valueHint: 'FILE', description: 'Write to this file instead of stdout' },
  },
  async run(ctx) {
    const key = ctx.args.key as string
    if (!isBlobKey(key)) throw new Error(`invalid blob key: '${key}' (expected 64 lowercase hex characters)`)
    // 0.12's `-o FILE` means --to FILE here
    const { client, out, config, outputFile } = await connect(ctx, { outputFileCompat: true })
    const to = (ctx.args.to as string | undefined) ?? outputFile
    const stores = new BlobStores(client, { stores: [...config.blobs.stores], token: client.address.token })
    if (to !== undefined) {
      const path = resolve(to)
      await stores.download(key, path)
      if (out.isJson) out.json({ key, size: Bun.file(path).size, path })
      return
    }
    const bytes = await stores.get(key)
    if (!bytes) throw new BlobNotFoundError(key)
    if (out.isJson) out.json({ key, size: bytes.length, encoding: 'base64', data: Buffer.from(bytes).toString('base64') })
    else out.raw(bytes)
  },
})

/** `coflux blobs get <key> [--to FILE]` (cli.md §8.14) */
export default defineCommand({
  meta: { name: 'blobs', description: 'Read blobs' },
  subCommands: { get },
})
