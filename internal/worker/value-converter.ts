/**
 * Value conversions done by the worker (executor-protocol.md §8.4, values.md §5):
 * executor → server (canonicalise, raw or blob by size, files and fragments uploaded),
 * executor → log (the object form, files deleted after reading), and server → executor
 * (blobs and fragments downloaded once into the shared blob cache and passed as paths).
 */
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { BlobStores } from '../client/index.ts'
import { parseJson, RawJson } from '../protocol/json.ts'
import {
  canonicalizeData,
  parseExecutorValue,
  parseServerValue,
  type ExecutorReference,
  type ExecutorValue,
  type LogReference,
  type LogValue,
  type ServerReference,
  type ServerValue,
} from '../protocol/values.ts'

export const DEFAULT_BLOB_THRESHOLD = 100

const NULL_DATA = new RawJson('null')
const encoder = new TextEncoder()

export class ValueConverter {
  readonly #downloads = new Map<string, Promise<string>>()
  #isCacheReady: Promise<unknown> | null = null

  constructor(
    readonly blobs: BlobStores,
    /** `<tmp>/coflux-worker-<random>/blobs` */
    readonly cacheDir: string,
    readonly threshold = DEFAULT_BLOB_THRESHOLD,
  ) {}

  /** Executor value → `["raw", …]` / `["blob", …]`. Throws on a malformed value or unreadable file. */
  async toServer(raw: unknown): Promise<ServerValue> {
    const value = parseExecutorValue(raw)
    const references = await Promise.all((value.references ?? []).map((ref) => this.#uploadReference(ref, false)))
    const { data, bytes } = await this.#canonicalData(value, false)
    if (data.text === 'null') return ['raw', NULL_DATA, references]
    if (value.type === 'file' || bytes.length > this.threshold) {
      return ['blob', await this.blobs.upload(bytes), bytes.length, references]
    }
    return ['raw', data, references]
  }

  /** Executor value → log value; file values and fragment files are deleted once read (§8.3). */
  async toLog(raw: unknown): Promise<LogValue> {
    const value = parseExecutorValue(raw)
    const serverRefs = await Promise.all((value.references ?? []).map((ref) => this.#uploadReference(ref, true)))
    const references = serverRefs.map(toLogReference)
    const { data, bytes } = await this.#canonicalData(value, true)
    if (data.text !== 'null' && bytes.length > this.threshold) {
      return { type: 'blob', key: await this.blobs.upload(bytes), size: bytes.length, references }
    }
    return { type: 'raw', data, references }
  }

  /** Server value → executor value; blob data and fragments become files in the blob cache. */
  async toExecutor(raw: unknown): Promise<ExecutorValue> {
    const value = parseServerValue(raw)
    const refs = value[0] === 'raw' ? value[2] : value[3]
    const references = await Promise.all(refs.map((ref) => this.#localReference(ref)))
    if (value[0] === 'raw') return { type: 'inline', format: 'json', value: value[1], references }
    return { type: 'file', format: 'json', path: await this.cachedBlob(value[1]), references }
  }

  /**
   * The local path of a blob, downloaded into the cache when it isn't there (shared, read-only
   * for executors; checked on every use, so a file an executor deleted anyway is fetched again).
   */
  async cachedBlob(key: string): Promise<string> {
    const path = join(this.cacheDir, key)
    if (await Bun.file(path).exists()) return path
    let pending = this.#downloads.get(key)
    if (!pending) {
      pending = (async () => {
        this.#isCacheReady ??= mkdir(this.cacheDir, { recursive: true })
        await this.#isCacheReady
        await this.blobs.download(key, path)
        return path
      })().finally(() => this.#downloads.delete(key))
      this.#downloads.set(key, pending)
    }
    return pending
  }

  async #canonicalData(value: ExecutorValue, deleteFile: boolean): Promise<{ data: RawJson; bytes: Uint8Array }> {
    let data: RawJson
    if (value.type === 'inline') {
      data = canonicalizeData(value.value)
    } else {
      const text = await Bun.file(value.path).text()
      // NonFiniteNumberError (NaN) and SyntaxError propagate: the request or execution fails
      data = canonicalizeData(parseJson(text))
      if (deleteFile) await rm(value.path, { force: true })
    }
    return { data, bytes: encoder.encode(data.text) }
  }

  async #uploadReference(ref: ExecutorReference, deleteFile: boolean): Promise<ServerReference> {
    if (ref[0] !== 'fragment') return ref
    const [, format, path, , metadata] = ref
    const { key, size } = await this.blobs.uploadFile(path)
    if (deleteFile) await rm(path, { force: true })
    return ['fragment', format, key, size, metadata]
  }

  async #localReference(ref: ServerReference): Promise<ExecutorReference> {
    if (ref[0] !== 'fragment') return ref
    const [, format, key, size, metadata] = ref
    return ['fragment', format, await this.cachedBlob(key), size, metadata]
  }
}

function toLogReference(ref: ServerReference): LogReference {
  switch (ref[0]) {
    case 'execution':
      return { type: 'execution', executionId: ref[1], module: ref[2] ?? null, target: ref[3] ?? null }
    case 'input':
      return { type: 'input', inputId: ref[1] }
    case 'asset':
      return { type: 'asset', assetId: ref[1], name: ref[2] ?? null, totalCount: ref[3] ?? null, totalSize: ref[4] ?? null }
    case 'fragment':
      return { type: 'fragment', format: ref[1], blobKey: ref[2], size: ref[3], metadata: ref[4] }
  }
}

/** The raw-null log value that stands in for a value that could not be converted (§5.1). */
export const NULL_LOG_VALUE: LogValue = { type: 'raw', data: NULL_DATA, references: [] }

