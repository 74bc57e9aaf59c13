/**
 * Content-addressed blob stores (values.md §6.3–§6.4, http-api.md §10). Writes go to the first
 * configured store, reads try each in order. Keys are the lowercase hex SHA-256 of the bytes,
 * checked on every download, so a store can never hand us content under the wrong key.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, rename, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { BlobStoreConfig } from '../config/types.ts'
import type { ApiClient } from './api-client.ts'

const BLOB_KEY = /^[0-9a-f]{64}$/

export function isBlobKey(key: string): boolean {
  return BLOB_KEY.test(key)
}

/** A blob that no configured store has. */
export class BlobNotFoundError extends Error {
  override readonly name = 'BlobNotFoundError'
  constructor(readonly key: string) {
    super(`blob not found: ${key}`)
  }
}

/** One place blobs live: the server's `/blobs`, another http endpoint, or an S3 bucket. */
export interface BlobStore {
  has(key: string): Promise<boolean>
  /** null when the store doesn't have it */
  open(key: string): Promise<ReadableStream<Uint8Array> | null>
  put(key: string, body: Blob | Uint8Array): Promise<void>
}

type Fetcher = (url: string, init: RequestInit) => Promise<Response>

class HttpBlobStore implements BlobStore {
  constructor(
    readonly base: string,
    readonly fetcher: Fetcher,
  ) {}

  async has(key: string): Promise<boolean> {
    const res = await this.fetcher(`${this.base}/${key}`, { method: 'HEAD' })
    if (res.status === 404) return false
    if (!res.ok) throw new Error(`HEAD ${this.base}/${key}: HTTP ${res.status}`)
    return true
  }

  async open(key: string): Promise<ReadableStream<Uint8Array> | null> {
    const res = await this.fetcher(`${this.base}/${key}`, { method: 'GET' })
    if (res.status === 404) {
      await res.body?.cancel()
      return null
    }
    if (!res.ok || !res.body) throw new Error(`GET ${this.base}/${key}: HTTP ${res.status}`)
    return res.body
  }

  async put(key: string, body: Blob | Uint8Array): Promise<void> {
    const res = await this.fetcher(`${this.base}/${key}`, {
      method: 'PUT',
      body,
      headers: { 'content-type': 'application/octet-stream' },
    })
    const text = res.ok ? '' : await res.text().catch(() => '')
    if (!res.ok) throw new Error(`PUT ${this.base}/${key}: HTTP ${res.status}${text ? ` ${text.slice(0, 200)}` : ''}`)
  }
}

/** S3 through Bun's built-in client; credentials come from the usual AWS/S3 environment variables. */
class S3BlobStore implements BlobStore {
  readonly #client: Bun.S3Client
  readonly #prefix: string

  constructor(config: BlobStoreConfig) {
    this.#client = new Bun.S3Client({ bucket: config.bucket, region: config.region, endpoint: config.url })
    this.#prefix = config.prefix ? config.prefix.replace(/\/+$/, '') + '/' : ''
  }

  /** keys are sharded `aa/bb/rest` (cli.md §5.2) */
  #path(key: string): string {
    return `${this.#prefix}${key.slice(0, 2)}/${key.slice(2, 4)}/${key.slice(4)}`
  }

  has(key: string): Promise<boolean> {
    return this.#client.file(this.#path(key)).exists()
  }

  async open(key: string): Promise<ReadableStream<Uint8Array> | null> {
    const file = this.#client.file(this.#path(key))
    if (!(await file.exists())) return null
    return file.stream()
  }

  async put(key: string, body: Blob | Uint8Array): Promise<void> {
    await this.#client.file(this.#path(key)).write(body)
  }
}

export interface BlobStoresOptions {
  /** `[[blobs.stores]]`; empty = the server's own `/blobs` */
  stores?: BlobStoreConfig[]
  /** bearer token for http stores without their own (the session token for workers) */
  token?: string
}

/**
 * The configured stores as one: `upload` hashes first and skips blobs that already exist,
 * `download` streams into a temporary file and renames it into place only after the hash matched.
 *
 * @example
 * const blobs = new BlobStores(client, { token: sessionToken })
 * const key = await blobs.upload(new TextEncoder().encode('"hello"'))
 * await blobs.download(key, '/tmp/x.json')
 */
export class BlobStores {
  readonly #stores: BlobStore[]
  /** keys known to exist in the first store (uploaded or seen by HEAD) */
  readonly #present = new Set<string>()
  readonly #uploading = new Map<string, Promise<void>>()

  constructor(client: ApiClient, options: BlobStoresOptions = {}) {
    const configs = options.stores?.length ? options.stores : [{ type: 'http' as const }]
    this.#stores = configs.map((config) => createStore(client, config, options.token))
  }

  async has(key: string): Promise<boolean> {
    checkKey(key)
    for (const store of this.#stores) if (await store.has(key)) return true
    return false
  }

  /** The whole blob, verified, or null when no store has it. */
  async get(key: string): Promise<Uint8Array | null> {
    checkKey(key)
    for (const store of this.#stores) {
      const stream = await store.open(key)
      if (!stream) continue
      const bytes = new Uint8Array(await new Response(stream).arrayBuffer())
      if (sha256Hex(bytes) !== key) throw new Error('hash mismatch')
      return bytes
    }
    return null
  }

  /** Writes the blob to `path` (parents created, an existing file replaced); throws BlobNotFoundError. */
  async download(key: string, path: string): Promise<void> {
    checkKey(key)
    await mkdir(dirname(path), { recursive: true })
    for (const store of this.#stores) {
      const stream = await store.open(key)
      if (!stream) continue
      const tmp = `${path}.part-${randomBytes(6).toString('hex')}`
      try {
        const hasher = new Bun.CryptoHasher('sha256')
        const writer = Bun.file(tmp).writer()
        for await (const chunk of stream) {
          hasher.update(chunk)
          writer.write(chunk)
        }
        await writer.end()
        if (hasher.digest('hex') !== key) throw new Error('hash mismatch')
        await rename(tmp, path)
        return
      } catch (err) {
        await rm(tmp, { force: true })
        throw err
      }
    }
    throw new BlobNotFoundError(key)
  }

  /** Uploads bytes or a file's content as-is; returns the key. */
  async upload(source: string | Uint8Array): Promise<string> {
    const key = typeof source === 'string' ? await hashFile(source) : sha256Hex(source)
    await this.#ensure(key, typeof source === 'string' ? Bun.file(source) : source)
    return key
  }

  /** Uploads a file's content; returns its key and size. */
  async uploadFile(path: string): Promise<{ key: string; size: number }> {
    const file = Bun.file(path)
    const key = await hashFile(path)
    await this.#ensure(key, file)
    return { key, size: file.size }
  }

  async #ensure(key: string, body: Blob | Uint8Array): Promise<void> {
    if (this.#present.has(key)) return
    let pending = this.#uploading.get(key)
    if (!pending) {
      const store = this.#stores[0]!
      pending = (async () => {
        if (!(await store.has(key))) await store.put(key, body)
        this.#present.add(key)
      })().finally(() => this.#uploading.delete(key))
      this.#uploading.set(key, pending)
    }
    await pending
  }
}

function createStore(client: ApiClient, config: BlobStoreConfig, token: string | undefined): BlobStore {
  if (config.type === 's3') {
    if (!config.bucket) throw new Error('s3 blob store needs a bucket')
    return new S3BlobStore(config)
  }
  const storeToken = config.token ?? token
  if (!config.url) {
    // the server's own store: ApiClient keeps the original Host and the project header
    return new HttpBlobStore('/blobs', (path, init) => client.fetch(path, { ...init, token: storeToken }))
  }
  const base = config.url.replace(/\/+$/, '')
  return new HttpBlobStore(base, (url, init) => {
    const headers = new Headers(init.headers)
    if (storeToken) headers.set('authorization', `Bearer ${storeToken}`)
    return fetch(url, { ...init, headers })
  })
}

function checkKey(key: string): void {
  if (!isBlobKey(key)) throw new Error('invalid blob key')
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return new Bun.CryptoHasher('sha256').update(bytes).digest('hex')
}

async function hashFile(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher('sha256')
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk)
  return hasher.digest('hex')
}
