import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ApiError } from '../../../internal/protocol/errors.ts'
import {
  BlobHashMismatchError,
  BlobStore,
  BlobTooLargeError,
  DiskBlobStore,
  InvalidBlobKeyError,
} from '../../../internal/server/blob-store.ts'

import { bytes, KEY_00, sha256, streamOf } from './support/blob-bytes.ts'

let dir: string
let store: DiskBlobStore

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'coflux-blobs-'))
  store = new DiskBlobStore(join(dir, 'projects', 'p1', 'blobs'))
})

afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Files under the root other than stored blobs (leftover uploads). */
async function strayFiles(): Promise<string[]> {
  const names = await readdir(store.root).catch(() => [] as string[])
  return names.filter((n) => !/^[0-9a-f]{2}$/.test(n))
}

describe('keys', () => {
  test('only 64 lowercase hex characters are valid', () => {
    expect(DiskBlobStore.isValidKey(KEY_00)).toBe(true)
    expect(BlobStore.isValidKey(KEY_00)).toBe(true)
    for (const bad of ['abc', 'z'.repeat(64), KEY_00.toUpperCase(), `${KEY_00}0`, '....%2F..%2F..%2Fetc%2Fpasswd', `../${KEY_00.slice(3)}`]) {
      expect(DiskBlobStore.isValidKey(bad)).toBe(false)
    }
  })

  test('layout is <aa>/<bb>/<rest>', () => {
    expect(store.path(KEY_00)).toBe(join(store.root, '6e', '34', KEY_00.slice(4)))
    expect(() => store.path('../etc/passwd')).toThrow(InvalidBlobKeyError)
  })

  test('invalid keys never touch the filesystem', async () => {
    expect(await store.has('../../x')).toBeNull()
    expect(await store.open('zz')).toBeNull()
    await expect(store.put('abc', bytes('x'), 100)).rejects.toBeInstanceOf(InvalidBlobKeyError)
    expect(await readdir(dir)).toEqual([])
  })
})

describe('put', () => {
  test('stores bytes under their hash with private permissions', async () => {
    const result = await store.put(KEY_00, new Uint8Array([0]), 100)
    expect(result).toEqual({ created: true, size: 1 })
    expect(await store.has(KEY_00)).toEqual({ size: 1 })
    const file = await store.open(KEY_00)
    expect(new Uint8Array(await new Response(file!.body).arrayBuffer())).toEqual(new Uint8Array([0]))
    expect((await stat(store.path(KEY_00))).mode & 0o777).toBe(0o600)
    expect((await stat(join(store.root, '6e', '34'))).mode & 0o777).toBe(0o700)
    expect((await stat(join(store.root, '6e'))).mode & 0o777).toBe(0o700)
    expect((await stat(store.root)).mode & 0o777).toBe(0o700)
    expect(await strayFiles()).toEqual([])
  })

  test('streams a body of many chunks', async () => {
    const chunks = Array.from({ length: 50 }, (_, i) => bytes(`chunk ${i} `.repeat(100)))
    const whole = Buffer.concat(chunks)
    const key = sha256(whole)
    const result = await store.put(key, streamOf(chunks).stream, 10 * 1024 * 1024)
    expect(result).toEqual({ created: true, size: whole.length })
    expect(Buffer.from(await new Response((await store.open(key))!.body).arrayBuffer()).equals(whole)).toBe(true)
  })

  test('an existing blob is kept and the upload discarded', async () => {
    await store.put(KEY_00, new Uint8Array([0]), 100)
    const before = await stat(store.path(KEY_00))
    expect(await store.put(KEY_00, streamOf([new Uint8Array([0])]).stream, 100)).toEqual({ created: false, size: 1 })
    expect((await stat(store.path(KEY_00))).ino).toBe(before.ino)
    expect(await strayFiles()).toEqual([])
  })

  test('a body that does not match its key is refused and nothing is kept', async () => {
    const err = await store.put(KEY_00, streamOf([bytes('not zero')]).stream, 100).catch((e) => e)
    expect(err).toBeInstanceOf(BlobHashMismatchError)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).status).toBe(400)
    expect((err as ApiError).code).toBe('hash_mismatch')
    expect(await store.has(KEY_00)).toBeNull()
    expect(await strayFiles()).toEqual([])
  })

  test('a wrong body for an existing key is still refused', async () => {
    await store.put(KEY_00, new Uint8Array([0]), 100)
    await expect(store.put(KEY_00, bytes('x'), 100)).rejects.toBeInstanceOf(BlobHashMismatchError)
  })

  test('a body over the limit is refused while streaming and the sender cancelled', async () => {
    const chunks = [new Uint8Array(60), new Uint8Array(60), new Uint8Array(60)]
    const { stream, cancelled } = streamOf(chunks)
    const err = await store.put(sha256(Buffer.concat(chunks)), stream, 100).catch((e) => e)
    expect(err).toBeInstanceOf(BlobTooLargeError)
    expect((err as ApiError).status).toBe(413)
    expect((err as ApiError).toBody()).toMatchObject({ error: 'payload_too_large', details: { limit: 100 } })
    expect(cancelled()).toBe(true)
    expect(await strayFiles()).toEqual([])
  })

  test('a byte body over the limit is refused before anything is written', async () => {
    const body = new Uint8Array(101)
    await expect(store.put(sha256(body), body, 100)).rejects.toBeInstanceOf(BlobTooLargeError)
    expect(await readdir(dir)).toEqual([])
  })

  test('exactly the limit is accepted', async () => {
    const body = new Uint8Array(100).fill(7)
    expect((await store.put(sha256(body), body, 100)).created).toBe(true)
  })

  test('a broken upload leaves no temporary file', async () => {
    const { stream } = streamOf([bytes('partial')], new Error('connection reset'))
    await expect(store.put(KEY_00, stream, 100)).rejects.toThrow('connection reset')
    expect(await strayFiles()).toEqual([])
    expect(await store.has(KEY_00)).toBeNull()
  })

  test('concurrent uploads of the same key are safe', async () => {
    const body = bytes('same content '.repeat(1000))
    const key = sha256(body)
    const results = await Promise.all(
      Array.from({ length: 8 }, () => store.put(key, streamOf([body.slice(0, 5000), body.slice(5000)]).stream, 1e6)),
    )
    expect(results.some((r) => r.created)).toBe(true)
    expect(results.every((r) => r.size === body.length)).toBe(true)
    expect(Buffer.from(await new Response((await store.open(key))!.body).arrayBuffer()).equals(Buffer.from(body))).toBe(true)
    expect(await strayFiles()).toEqual([])
  })

  test('the empty blob', async () => {
    const key = sha256(new Uint8Array(0))
    expect(await store.put(key, streamOf([]).stream, 0)).toEqual({ created: true, size: 0 })
    expect(await store.has(key)).toEqual({ size: 0 })
  })
})

describe('putBytes', () => {
  test('returns the key of what it stored (values.md §10: the single byte 00)', async () => {
    expect(await store.putBytes(new Uint8Array([0]))).toBe(KEY_00)
    expect(await store.putBytes(new Uint8Array([0]))).toBe(KEY_00)
    const json = bytes('"' + 'x'.repeat(200) + '"')
    expect(await store.putBytes(json)).toBe(sha256(json))
    expect(await store.has(sha256(json))).toEqual({ size: 202 })
  })
})

describe('reads', () => {
  test('missing blobs', async () => {
    expect(await store.has(KEY_00)).toBeNull()
    expect(await store.open(KEY_00)).toBeNull()
  })

  test('open streams the file', async () => {
    const body = bytes('hello blob')
    const key = await store.putBytes(body)
    const blob = await store.open(key)
    expect(blob!.size).toBe(body.length)
    expect(await new Response(blob!.body).text()).toBe('hello blob')
  })
})

test('removeStaleUploads removes only old leftovers', async () => {
  await store.putBytes(new Uint8Array([0]))
  await writeFile(join(store.root, '.upload-old'), 'x')
  await writeFile(join(store.root, '.upload-new'), 'y')
  const old = new Date(Date.now() - 2 * 60 * 60 * 1000)
  await utimes(join(store.root, '.upload-old'), old, old)
  expect(await store.removeStaleUploads()).toBe(1)
  expect((await readdir(store.root)).sort()).toEqual(['.upload-new', '6e'])
  expect(await new DiskBlobStore(join(dir, 'nowhere')).removeStaleUploads()).toBe(0)
})
