/** S3BlobStore against a real S3-compatible server (s3rver): the disk store's contract, in a bucket. */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Socket, TCPSocketListener } from 'bun'
import { ApiError } from '../../../internal/protocol/errors.ts'
import { BlobHashMismatchError, BlobStoreUnavailableError, BlobTooLargeError, InvalidBlobKeyError } from '../../../internal/server/blob-store.ts'
import type { S3BlobsConfig } from '../../../internal/server/blobs-url.ts'
import { createS3Client, S3BlobStore, s3BlobStores } from '../../../internal/server/s3-blob-store.ts'
import { startTestS3, type TestS3 } from '../../e2e/support/s3.ts'

import { bytes, KEY_00, sha256, streamOf } from './support/blob-bytes.ts'

const read = async (store: S3BlobStore, key: string): Promise<Buffer | null> => {
  const blob = await store.open(key)
  return blob ? Buffer.from(await new Response(blob.body).arrayBuffer()) : null
}

let s3: TestS3
let config: S3BlobsConfig
let staging: string
let store: S3BlobStore

beforeAll(async () => {
  s3 = await startTestS3()
  config = { bucket: s3.bucket, prefix: 'team/a', endpoint: s3.endpoint, region: 'us-east-1', ...s3.credentials }
})
afterAll(async () => {
  await s3.stop()
})

let project = 0
beforeEach(async () => {
  staging = await mkdtemp(join(tmpdir(), 'coflux-s3-staging-'))
  // a small memory limit, so bodies of a few KiB already go through a staged file
  store = s3BlobStores(config, staging, { memoryLimit: 1024 })(`p${++project}`)
})
afterEach(async () => {
  await rm(staging, { recursive: true, force: true })
})

const staged = async (): Promise<string[]> => readdir(staging).catch(() => [] as string[])
const stored = (): Promise<string[]> => s3.list(`${store.root}/`)

describe('layout', () => {
  test('each project under <prefix>/projects/<id>/blobs/<aa>/<bb>/<rest>', async () => {
    expect(store.root).toBe(`team/a/projects/p${project}/blobs`)
    expect(store.objectName(KEY_00)).toBe(`${store.root}/6e/34/${KEY_00.slice(4)}`)
    expect(() => store.objectName('../x')).toThrow(InvalidBlobKeyError)
    await store.put(KEY_00, new Uint8Array([0]), 100)
    expect(await stored()).toEqual([store.objectName(KEY_00)])
    const other = s3BlobStores({ ...config, prefix: '' }, staging)('other')
    expect(other.root).toBe('projects/other/blobs')
    expect(await other.has(KEY_00)).toBeNull()
  })

  test('invalid keys never reach the bucket', async () => {
    expect(await store.has('../../x')).toBeNull()
    expect(await store.open('zz')).toBeNull()
    await expect(store.put('abc', bytes('x'), 100)).rejects.toBeInstanceOf(InvalidBlobKeyError)
    expect(await stored()).toEqual([])
  })
})

describe('put', () => {
  test('stores bytes under their hash; has and open find them', async () => {
    expect(await store.put(KEY_00, new Uint8Array([0]), 100)).toEqual({ created: true, size: 1 })
    expect(await store.has(KEY_00)).toEqual({ size: 1 })
    const blob = await store.open(KEY_00)
    expect(blob!.size).toBe(1)
    expect(new Uint8Array(await new Response(blob!.body).arrayBuffer())).toEqual(new Uint8Array([0]))
    expect(await staged()).toEqual([])
  })

  test('streams a body of many chunks through a staged file', async () => {
    const chunks = Array.from({ length: 50 }, (_, i) => bytes(`chunk ${i} `.repeat(100)))
    const whole = Buffer.concat(chunks)
    const key = sha256(whole)
    expect(await store.put(key, streamOf(chunks).stream, 10 * 1024 * 1024)).toEqual({ created: true, size: whole.length })
    expect((await read(store, key))!.equals(whole)).toBe(true)
    expect(await staged()).toEqual([])
  })

  test('a body larger than one multipart part', async () => {
    const chunk = new Uint8Array(1024 * 1024).map((_, i) => i % 251)
    const chunks = Array.from({ length: 7 }, () => chunk)
    const whole = Buffer.concat(chunks)
    const key = sha256(whole)
    expect(await store.put(key, streamOf(chunks).stream, 100 * 1024 * 1024)).toEqual({ created: true, size: whole.length })
    expect(await store.has(key)).toEqual({ size: whole.length })
    expect((await read(store, key))!.equals(whole)).toBe(true)
    expect(await staged()).toEqual([])
  })

  test('an existing blob is kept and the upload only verified', async () => {
    await store.put(KEY_00, new Uint8Array([0]), 100)
    expect(await store.put(KEY_00, streamOf([new Uint8Array([0])]).stream, 100)).toEqual({ created: false, size: 1 })
    await expect(store.put(KEY_00, bytes('x'), 100)).rejects.toBeInstanceOf(BlobHashMismatchError)
    expect(await stored()).toEqual([store.objectName(KEY_00)])
  })

  test('a body that does not match its key is refused and nothing is stored', async () => {
    for (const body of [bytes('not zero'), bytes('not zero, and staged in a file '.repeat(100))]) {
      const err = await store.put(KEY_00, streamOf([body]).stream, 1e6).catch((e) => e)
      expect(err).toBeInstanceOf(BlobHashMismatchError)
      expect((err as ApiError).status).toBe(400)
      expect((err as ApiError).code).toBe('hash_mismatch')
    }
    expect(await store.has(KEY_00)).toBeNull()
    expect(await stored()).toEqual([])
    expect(await staged()).toEqual([])
  })

  test('a body over the limit is refused while streaming and the sender cancelled', async () => {
    const chunks = [new Uint8Array(600), new Uint8Array(600), new Uint8Array(600)]
    const { stream, cancelled } = streamOf(chunks)
    const err = await store.put(sha256(Buffer.concat(chunks)), stream, 1000).catch((e) => e)
    expect(err).toBeInstanceOf(BlobTooLargeError)
    expect((err as ApiError).toBody()).toMatchObject({ error: 'payload_too_large', details: { limit: 1000 } })
    expect(cancelled()).toBe(true)
    expect(await stored()).toEqual([])
    expect(await staged()).toEqual([])
  })

  test('a byte body over the limit is refused before anything is sent', async () => {
    const body = new Uint8Array(101)
    await expect(store.put(sha256(body), body, 100)).rejects.toBeInstanceOf(BlobTooLargeError)
    expect(await stored()).toEqual([])
  })

  test('a broken upload stores nothing', async () => {
    const { stream } = streamOf([bytes('partial '.repeat(500))], new Error('connection reset'))
    await expect(store.put(KEY_00, stream, 1e6)).rejects.toThrow('connection reset')
    expect(await stored()).toEqual([])
    expect(await staged()).toEqual([])
  })

  test('the empty blob', async () => {
    const key = sha256(new Uint8Array(0))
    expect(await store.put(key, streamOf([]).stream, 0)).toEqual({ created: true, size: 0 })
    expect(await store.has(key)).toEqual({ size: 0 })
    expect((await read(store, key))!.length).toBe(0)
  })

  test('putBytes returns the key of what it stored', async () => {
    const json = bytes('"' + 'x'.repeat(200) + '"')
    expect(await store.putBytes(json)).toBe(sha256(json))
    expect(await store.putBytes(json)).toBe(sha256(json))
    expect(await store.has(sha256(json))).toEqual({ size: 202 })
  })
})

test('missing blobs', async () => {
  expect(await store.has(KEY_00)).toBeNull()
  expect(await store.open(KEY_00)).toBeNull()
})

describe('an unavailable bucket is a 502, never a hang', () => {
  const expectUnavailable = async (pending: Promise<unknown>, text: string) => {
    const err = await pending.catch((e) => e)
    expect(err).toBeInstanceOf(BlobStoreUnavailableError)
    expect((err as ApiError).status).toBe(502)
    expect((err as ApiError).code).toBe('blob_store_unavailable')
    expect((err as Error).message).toContain(text)
  }

  test('nothing listening', async () => {
    const port = await closedPort()
    const down = new S3BlobStore(createS3Client({ ...config, endpoint: `http://127.0.0.1:${port}` }), 'x', { stagingDir: staging })
    await expectUnavailable(down.has(KEY_00), 'S3 lookup failed')
    await expectUnavailable(down.open(KEY_00), 'S3 lookup failed')
    await expectUnavailable(down.put(KEY_00, new Uint8Array([0]), 100), 'S3 lookup failed')
  })

  test('a server that accepts and never answers', async () => {
    const sockets: Socket<unknown>[] = []
    const silent: TCPSocketListener<unknown> = Bun.listen<unknown>({ hostname: '127.0.0.1', port: 0, socket: { open: (s) => void sockets.push(s), data() {} } })
    try {
      const stalled = new S3BlobStore(createS3Client({ ...config, endpoint: `http://127.0.0.1:${silent.port}` }), 'x', { stagingDir: staging, timeoutMs: 300 })
      await expectUnavailable(stalled.has(KEY_00), 'S3 lookup timed out after 300 ms')
      await expectUnavailable(stalled.put(KEY_00, new Uint8Array([0]), 100), 'timed out')
    } finally {
      for (const s of sockets) s.end()
      sockets.length = 0
      silent.stop(true)
    }
  })

  test('unknown credentials', async () => {
    const denied = s3BlobStores({ ...config, accessKeyId: 'NOBODY' }, staging)('p')
    await expectUnavailable(denied.has(KEY_00), 'S3 lookup refused without a reason: check the credentials')
    await expectUnavailable(denied.open(KEY_00), 'check the credentials')
    await expectUnavailable(denied.put(KEY_00, new Uint8Array([0]), 100), 'check the credentials')
  })

  test('a missing bucket', async () => {
    const nowhere = s3BlobStores({ ...config, bucket: 'no-such-bucket' }, staging)('p')
    await expectUnavailable(nowhere.put(KEY_00, new Uint8Array([0]), 100), 'NoSuchBucket')
    expect(await staged()).toEqual([])
  })
})

/** A loopback port nobody listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const listener = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = listener.port
  listener.stop(true)
  return port
}
