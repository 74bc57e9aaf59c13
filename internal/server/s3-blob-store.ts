/**
 * Content-addressed blobs of one project in an S3-compatible bucket (issue 10), with the disk
 * store's contract (blob-store.ts): objects `<root>/<aa>/<bb>/<rest>`, where the root is
 * `<prefix>/projects/<project>/blobs` (blobs-url.ts), so several projects and servers share a bucket.
 *
 * S3 has no rename, and Bun's multipart writer completes the upload even when it is ended with an
 * error, so a body cannot be streamed to its key and withdrawn after a hash mismatch. Instead it is
 * hashed while it is received into a staging area (memory up to 8 MiB, then a private temporary
 * file under the server's data directory) and written under its key only once the digest matched:
 * nothing wrong or partial is ever visible under a key. Bun uploads a staged file in parts, so
 * memory stays bounded for any size; a failed multipart upload leaves only incomplete parts, which
 * a bucket lifecycle rule (AbortIncompleteMultipartUpload) removes.
 *
 * Every S3 call has a deadline (30 s by default; an upload gets one more second per MiB, i.e. it
 * may run as slowly as 1 MiB/s), and any failure or timeout is a 502 `blob_store_unavailable`,
 * so a stalled or unreachable endpoint fails the request instead of hanging it.
 */
import type { FileHandle } from 'node:fs/promises'
import { mkdir, open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { ApiError } from '../protocol/errors.ts'
import {
  BlobStoreUnavailableError,
  BlobTooLargeError,
  InsufficientStorageError,
  InvalidBlobKeyError,
  isDiskFull,
  isValidBlobKey,
  receiveBlob,
  UPLOAD_PREFIX,
  writeAll,
  type BlobStore,
  type PutBlobResult,
  type StoredBlob,
} from './blob-store.ts'
import { projectBlobsRoot, type S3BlobsConfig } from './blobs-url.ts'

const MiB = 1024 * 1024

export interface S3BlobStoreOptions {
  /** where bodies larger than `memoryLimit` wait for their hash check; created on demand */
  stagingDir: string
  /** deadline of one S3 request, in ms (default 30 s); an upload gets one more second per MiB */
  timeoutMs?: number
  /** bodies up to this many bytes are staged in memory (default 8 MiB) */
  memoryLimit?: number
}

export class S3BlobStore implements BlobStore {
  readonly #client: Bun.S3Client
  readonly #stagingDir: string
  readonly #timeoutMs: number
  readonly #memoryLimit: number

  /** `root`: the object name prefix of this project's blobs, without a trailing slash */
  constructor(
    client: Bun.S3Client,
    readonly root: string,
    options: S3BlobStoreOptions,
  ) {
    this.#client = client
    this.#stagingDir = options.stagingDir
    this.#timeoutMs = options.timeoutMs ?? 30_000
    this.#memoryLimit = options.memoryLimit ?? 8 * MiB
  }

  /** The object name of a blob; only valid keys ever become names. */
  objectName(key: string): string {
    if (!isValidBlobKey(key)) throw new InvalidBlobKeyError()
    return `${this.root}/${key.slice(0, 2)}/${key.slice(2, 4)}/${key.slice(4)}`
  }

  async has(key: string): Promise<{ size: number } | null> {
    if (!isValidBlobKey(key)) return null
    try {
      const info = await this.#within('lookup', this.#timeoutMs, () => this.#client.file(this.objectName(key)).stat())
      return { size: info.size }
    } catch (err) {
      if (isMissing(err)) return null
      throw unavailable('lookup', err)
    }
  }

  async open(key: string): Promise<StoredBlob | null> {
    const info = await this.has(key)
    if (!info) return null
    if (info.size === 0) return { size: 0, body: new Blob([]) }
    // Not `new Response(s3file)`: Bun answers that with a redirect to a presigned URL, which the
    // clients of this server may not be able to reach. The first chunk is read here, so a failing
    // read is still a 502 rather than a response cut short.
    const reader = this.#client.file(this.objectName(key)).stream().getReader()
    const read = async () => {
      try {
        return await this.#within('read', this.#timeoutMs, () => reader.read())
      } catch (err) {
        reader.cancel().catch(() => {})
        throw err
      }
    }
    let first: Awaited<ReturnType<typeof read>>
    try {
      first = await read()
    } catch (err) {
      if (isMissing(err)) return null
      throw unavailable('read', err)
    }
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        if (first.done) controller.close()
        else controller.enqueue(first.value)
      },
      async pull(controller) {
        try {
          const next = await read()
          if (next.done) controller.close()
          else controller.enqueue(next.value)
        } catch (err) {
          controller.error(unavailable('read', err))
        }
      },
      cancel: (reason) => reader.cancel(reason),
    })
    return { size: info.size, body }
  }

  async put(key: string, body: ReadableStream<Uint8Array> | Uint8Array, maxBytes: number): Promise<PutBlobResult> {
    const name = this.objectName(key)
    if (body instanceof Uint8Array && body.byteLength > maxBytes) throw new BlobTooLargeError(maxBytes)
    // A stored blob only needs the upload verified, not written again.
    if (await this.has(key)) return { created: false, size: await receiveBlob(body, key, maxBytes) }
    const staged = new StagedUpload(this.#stagingDir, this.#memoryLimit)
    try {
      const size = await receiveBlob(body, key, maxBytes, async (chunk) => {
        try {
          await staged.write(chunk)
        } catch (err) {
          throw isDiskFull(err) ? new InsufficientStorageError(err) : err
        }
      })
      const content = await staged.content()
      const deadline = this.#timeoutMs + Math.ceil(size / MiB) * 1000
      try {
        await this.#within('upload', deadline, () => this.#client.write(name, content, { type: 'application/octet-stream' }))
      } catch (err) {
        throw unavailable('upload', err)
      }
      return { created: true, size }
    } finally {
      await staged.discard()
    }
  }

  async putBytes(bytes: Uint8Array): Promise<string> {
    const key = new Bun.CryptoHasher('sha256').update(bytes).digest('hex')
    await this.put(key, bytes, Number.POSITIVE_INFINITY)
    return key
  }

  /** `op`, or a 502 once `ms` have passed; Bun's S3 calls take no abort signal, so a late result is dropped. */
  async #within<T>(what: string, ms: number, op: () => Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const started = Promise.resolve().then(op)
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new BlobStoreUnavailableError(`S3 ${what} timed out after ${ms} ms`)), ms)
    })
    try {
      return await Promise.race([started, timeout])
    } finally {
      clearTimeout(timer)
      started.catch(() => {})
    }
  }
}

/**
 * The server's S3 blob stores: one client, one store per project.
 *
 * @example
 * const blobStoreFor = s3BlobStores(settings.blobs, join(settings.dataDir, 'blob-uploads'))
 * const store = blobStoreFor('default') // objects under <prefix>/projects/default/blobs/
 */
export function s3BlobStores(config: S3BlobsConfig, stagingDir: string, options: Omit<S3BlobStoreOptions, 'stagingDir'> = {}): (projectId: string) => S3BlobStore {
  const client = createS3Client(config)
  return (projectId) => new S3BlobStore(client, projectBlobsRoot(config, projectId), { ...options, stagingDir })
}

/** Bun's client with exactly the settings resolved from the URL and the given environment. */
export function createS3Client(config: S3BlobsConfig): Bun.S3Client {
  const options: Bun.S3Options = { bucket: config.bucket, accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey }
  if (config.endpoint) options.endpoint = config.endpoint
  if (config.region) options.region = config.region
  if (config.sessionToken) options.sessionToken = config.sessionToken
  return new Bun.S3Client(options)
}

/** An upload waiting for its hash check: in memory up to `memoryLimit` bytes, then in a temporary file. */
class StagedUpload {
  #chunks: Uint8Array[] = []
  #size = 0
  #path: string | null = null
  #handle: FileHandle | null = null

  constructor(
    readonly dir: string,
    readonly memoryLimit: number,
  ) {}

  async write(chunk: Uint8Array): Promise<void> {
    this.#size += chunk.byteLength
    if (this.#path === null && this.#size <= this.memoryLimit) {
      this.#chunks.push(chunk)
      return
    }
    if (this.#path === null) {
      await mkdir(this.dir, { recursive: true, mode: 0o700 })
      this.#path = join(this.dir, UPLOAD_PREFIX + crypto.randomUUID())
      this.#handle = await open(this.#path, 'wx', 0o600)
      for (const held of this.#chunks.splice(0)) await writeAll(this.#handle, held)
    }
    await writeAll(this.#handle!, chunk)
  }

  /** Everything received, ready to upload. */
  async content(): Promise<Uint8Array | Blob> {
    if (this.#path === null) return Buffer.concat(this.#chunks)
    await this.#handle?.close()
    this.#handle = null
    return Bun.file(this.#path)
  }

  async discard(): Promise<void> {
    this.#chunks = []
    await this.#handle?.close().catch(() => {})
    this.#handle = null
    if (this.#path !== null) await rm(this.#path, { force: true }).catch(() => {})
  }
}

/** S3's answer for an absent object (a HEAD has no body, so Bun names it too). */
function isMissing(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return code === 'NoSuchKey' || code === 'NotFound'
}

function unavailable(what: string, err: unknown): ApiError {
  if (err instanceof ApiError) return err
  const code = (err as { code?: unknown } | null)?.code
  // a refused HEAD (a lookup) has no body to say why, and Bun then reports only UnknownError
  if (code === 'UnknownError') {
    return new BlobStoreUnavailableError(`S3 ${what} refused without a reason: check the credentials, the bucket and the endpoint`, err)
  }
  const message = err instanceof Error ? err.message : String(err)
  return new BlobStoreUnavailableError(`S3 ${what} failed: ${typeof code === 'string' ? `${code}: ` : ''}${message}`, err)
}
