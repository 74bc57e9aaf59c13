/**
 * `/blobs/<key>` (http-api.md §10): per-project, content-addressed, streamed both ways, through the
 * project's `BlobStore` (on disk, or in S3 with `--blobs-url`).
 */
import type { Hono } from 'hono'
import { ApiError } from '../protocol/errors.ts'
import { BlobStoreUnavailableError, isValidBlobKey, type StoredBlob } from './blob-store.ts'
import { jsonResponse, noContent, projectOf, requireProject, type AppContext, type AppEnv, type ServerContext } from './context.ts'

/** The raw remainder of the path after `/blobs/`, percent-decoded; never normalised into segments. */
function keyOf(c: AppContext): string {
  const raw = new URL(c.req.url).pathname.slice('/blobs/'.length)
  try {
    return decodeURIComponent(raw)
  } catch {
    return raw
  }
}

export function registerBlobRoutes(app: Hono<AppEnv>, server: ServerContext): void {
  app.on(['GET', 'HEAD'], '/blobs/*', async (c) => {
    const key = keyOf(c)
    const isHead = c.req.method === 'HEAD'
    const missing = () => (isHead ? new Response(null, { status: 404 }) : jsonResponse({ error: 'not_found' }, 404))
    if (!isValidBlobKey(key)) return missing()
    const project = projectOf(c, server)
    if (!project) return missing()
    // HEAD asks only for the size: no read is started
    const blob: { size: number; body?: StoredBlob['body'] } | null = isHead
      ? await logUnavailable(server, project.blobs.has(key))
      : await logUnavailable(server, project.blobs.open(key))
    if (!blob) return missing()
    const headers = {
      'content-type': 'application/octet-stream',
      'content-length': String(blob.size),
      etag: `"${key}"`,
      'cache-control': 'public, max-age=31536000, immutable',
    }
    return new Response(blob.body ?? null, { status: 200, headers })
  })

  app.put('/blobs/*', async (c) => {
    const key = keyOf(c)
    if (!isValidBlobKey(key)) throw new ApiError(400, 'invalid_key', 'invalid blob key')
    const length = Number(c.req.header('content-length') ?? NaN)
    const limit = server.settings.maxBlobBytes
    if (Number.isFinite(length) && length > limit) throw new ApiError(413, 'payload_too_large', 'blob too large', { limit })
    const project = requireProject(c, server)
    await logUnavailable(server, project.blobs.put(key, c.req.raw.body ?? new Uint8Array(), limit))
    return noContent()
  })
}

/** The operator should see why blobs fail, not only the client that got the 502. */
async function logUnavailable<T>(server: ServerContext, pending: Promise<T>): Promise<T> {
  try {
    return await pending
  } catch (err) {
    if (err instanceof BlobStoreUnavailableError) server.logger.warn(`blob store: ${err.message}`)
    throw err
  }
}
