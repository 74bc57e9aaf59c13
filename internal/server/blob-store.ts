/**
 * Content-addressed blob storage of one project (http-api.md §2.4, §10): `<root>/<aa>/<bb>/<rest>`,
 * directories 0700, files 0600. Uploads stream to a temporary file beside the blobs while being
 * hashed, and become visible only by an atomic rename after the digest matched and the data was
 * fsynced, so a reader never sees a partial or wrong blob and concurrent uploads of one key are
 * harmless (both rename identical content).
 */
import type { FileHandle } from 'node:fs/promises'
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { ApiError } from '../protocol/errors.ts'

const KEY = /^[0-9a-f]{64}$/
// uploads are named so they can never collide with the two-hex-character shard directories
export const UPLOAD_PREFIX = '.upload-'

/** 400 `invalid_key`: not 64 lowercase hex characters. */
export class InvalidBlobKeyError extends ApiError {
  constructor() {
    super(400, 'invalid_key', 'blob key must be 64 lowercase hex characters')
  }
}

/** 413 `payload_too_large`: the body passed `maxBytes`; nothing was stored. */
export class BlobTooLargeError extends ApiError {
  constructor(readonly limit: number) {
    super(413, 'payload_too_large', `blob is larger than ${limit} bytes`, { limit })
  }
}

/** 400 `hash_mismatch`: the body's SHA-256 is not the key it was uploaded under. */
export class BlobHashMismatchError extends ApiError {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(400, 'hash_mismatch', `content hashes to ${actual}, not ${expected}`)
  }
}

/** 502 `blob_store_unavailable`: the blob service (S3) failed, refused or did not answer in time. */
export class BlobStoreUnavailableError extends ApiError {
  constructor(message: string, cause?: unknown) {
    super(502, 'blob_store_unavailable', message)
    this.cause = cause
  }
}

/** 507 `insufficient_storage`: the disk (or quota) is full. */
export class InsufficientStorageError extends ApiError {
  constructor(cause: unknown) {
    super(507, 'insufficient_storage', 'no space left to store the blob')
    this.cause = cause
  }
}

export interface PutBlobResult {
  /** false when the blob was already stored and the upload was discarded */
  created: boolean
  size: number
}

/** A stored blob opened for reading: `new Response(body)` streams it. */
export interface StoredBlob {
  size: number
  body: Blob | ReadableStream<Uint8Array>
}

/** What the server needs from a blob store: this disk store, or `S3BlobStore` (s3-blob-store.ts). */
export interface BlobStore {
  has(key: string): Promise<{ size: number } | null>
  /** The blob's content for streaming, or null when missing or invalid. */
  open(key: string): Promise<StoredBlob | null>
  /** Stores `body` under `key` after checking its digest; throws the typed errors above. */
  put(key: string, body: ReadableStream<Uint8Array> | Uint8Array, maxBytes: number): Promise<PutBlobResult>
  /** Stores bytes the server created itself and returns their key. */
  putBytes(bytes: Uint8Array): Promise<string>
}

/** Only 64 lowercase hex characters are keys, so a key never becomes a path or object name of its own choosing. */
export function isValidBlobKey(key: string): boolean {
  return KEY.test(key)
}

export class DiskBlobStore implements BlobStore {
  constructor(readonly root: string) {}

  static isValidKey(key: string): boolean {
    return isValidBlobKey(key)
  }

  /** Where a blob lives; only valid keys ever become paths. */
  path(key: string): string {
    if (!DiskBlobStore.isValidKey(key)) throw new InvalidBlobKeyError()
    return join(this.root, key.slice(0, 2), key.slice(2, 4), key.slice(4))
  }

  async has(key: string): Promise<{ size: number } | null> {
    if (!DiskBlobStore.isValidKey(key)) return null
    try {
      const info = await stat(this.path(key))
      return info.isFile() ? { size: info.size } : null
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return null
      throw err
    }
  }

  async open(key: string): Promise<StoredBlob | null> {
    if (!DiskBlobStore.isValidKey(key)) return null
    const file = Bun.file(this.path(key))
    return (await file.exists()) ? { size: file.size, body: file } : null
  }

  async put(key: string, body: ReadableStream<Uint8Array> | Uint8Array, maxBytes: number): Promise<PutBlobResult> {
    const final = this.path(key)
    if (body instanceof Uint8Array && body.byteLength > maxBytes) throw new BlobTooLargeError(maxBytes)
    // A stored blob only needs the upload verified, not written again.
    if (await this.has(key)) {
      const size = await receiveBlob(body, key, maxBytes)
      return { created: false, size }
    }
    const temp = join(this.root, UPLOAD_PREFIX + crypto.randomUUID())
    let handle: FileHandle | undefined
    try {
      await mkdir(this.root, { recursive: true, mode: 0o700 })
      handle = await open(temp, 'wx', 0o600)
      const file = handle
      const size = await receiveBlob(body, key, maxBytes, (chunk) => writeAll(file, chunk))
      await handle.sync()
      await handle.close()
      handle = undefined
      await mkdir(dirname(final), { recursive: true, mode: 0o700 })
      // A concurrent upload of the same key may have landed meanwhile; its content is identical.
      if (await this.has(key)) {
        await rm(temp, { force: true })
        return { created: false, size }
      }
      await rename(temp, final)
      await syncDirectory(dirname(final))
      return { created: true, size }
    } catch (err) {
      await handle?.close().catch(() => {})
      await rm(temp, { force: true }).catch(() => {})
      throw isDiskFull(err) ? new InsufficientStorageError(err) : err
    }
  }

  async putBytes(bytes: Uint8Array): Promise<string> {
    const key = new Bun.CryptoHasher('sha256').update(bytes).digest('hex')
    await this.put(key, bytes, Number.POSITIVE_INFINITY)
    return key
  }

  /** Removes uploads left behind by a crash; call at start-up, before serving. */
  removeStaleUploads(olderThanMs?: number): Promise<number> {
    return removeStaleUploads(this.root, olderThanMs)
  }
}

/** Removes the uploads in `dir` left behind by a crash (older than an hour); returns how many. */
export async function removeStaleUploads(dir: string, olderThanMs = 60 * 60 * 1000): Promise<number> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return 0
    throw err
  }
  let removed = 0
  for (const name of names.filter((n) => n.startsWith(UPLOAD_PREFIX))) {
    const path = join(dir, name)
    const info = await stat(path).catch(() => null)
    if (info && Date.now() - info.mtimeMs >= olderThanMs) {
      await rm(path, { force: true })
      removed++
    }
  }
  return removed
}

/**
 * The disk store under the name the server uses: `new BlobStore(dir)` builds one, while the type
 * `BlobStore` is the interface any store satisfies.
 */
export const BlobStore = DiskBlobStore

/**
 * Reads the body, hashing it and handing each chunk to `write` (if any); returns its size. Throws
 * `BlobTooLargeError` past `maxBytes` (cancelling the sender) and `BlobHashMismatchError` at the end.
 */
export async function receiveBlob(
  body: ReadableStream<Uint8Array> | Uint8Array,
  key: string,
  maxBytes: number,
  write?: (chunk: Uint8Array) => Promise<void>,
): Promise<number> {
  const hasher = new Bun.CryptoHasher('sha256')
  let size = 0
  const take = async (chunk: Uint8Array): Promise<void> => {
    size += chunk.byteLength
    if (size > maxBytes) throw new BlobTooLargeError(maxBytes)
    hasher.update(chunk)
    if (write) await write(chunk)
  }
  if (body instanceof Uint8Array) await take(body)
  else {
    const reader = body.getReader()
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        await take(value)
      }
    } catch (err) {
      // stop the sender too: the rest of an oversized or broken upload is never read
      await reader.cancel(err).catch(() => {})
      throw err
    } finally {
      reader.releaseLock()
    }
  }
  const actual = hasher.digest('hex')
  if (actual !== key) throw new BlobHashMismatchError(key, actual)
  return size
}

export async function writeAll(handle: FileHandle, chunk: Uint8Array): Promise<void> {
  for (let offset = 0; offset < chunk.byteLength; ) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.byteLength - offset)
    offset += bytesWritten
  }
}

/** Makes the rename itself durable; not every platform can fsync a directory, which is fine. */
async function syncDirectory(path: string): Promise<void> {
  try {
    const dir = await open(path, 'r')
    try {
      await dir.sync()
    } finally {
      await dir.close()
    }
  } catch {
    // best effort
  }
}

function errorCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code
}

export function isDiskFull(err: unknown): boolean {
  const code = errorCode(err)
  return code === 'ENOSPC' || code === 'EDQUOT'
}
