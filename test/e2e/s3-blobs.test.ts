/**
 * `coflux server --blobs-url s3://…` (issue 10): blobs in a real S3-compatible bucket (s3rver).
 * A worker's large result, `coflux blobs get`, the HTTP API's checks, start-up refusals, and a
 * bucket that goes away.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { coflux } from './support/cli.ts'
import { startTestS3, type TestS3 } from './support/s3.ts'
import { startTestServer } from './support/server.ts'
import { finalResult, startStack, type Stack } from './support/worker.ts'

const sha256 = (bytes: Uint8Array | string): string => new Bun.CryptoHasher('sha256').update(bytes).digest('hex')
const objectName = (root: string, key: string) => `${root}/${key.slice(0, 2)}/${key.slice(2, 4)}/${key.slice(4)}`

let s3: TestS3
let stack: Stack
beforeAll(async () => {
  s3 = await startTestS3()
  stack = await startStack({ server: { args: ['--blobs-url', `s3://${s3.bucket}/team-a?endpoint=${s3.endpoint}`], env: s3.env } })
})
afterAll(async () => {
  await stack?.stop()
  await s3?.stop()
})

test('a result over the blob threshold goes to the bucket, and `coflux blobs get` reads it back', async () => {
  const res = await stack.cli(['submit', 'flows/large', '200000', '-o', 'json'])
  expect(res.code).toBe(0)
  const runId = Object.keys(res.json.steps)[0]!.split(':')[0]!
  const value = finalResult(res.json, runId).value
  expect(value.type).toBe('blob')
  expect(value.size).toBe(200002)
  const blob = await stack.cli(['blobs', 'get', value.key])
  expect(blob.code).toBe(0)
  expect(blob.stdout).toBe(JSON.stringify('x'.repeat(200000)))
  expect(await s3.list('team-a/projects/default/blobs/')).toContain(objectName('team-a/projects/default/blobs', value.key))
  // nothing under the data directory
  expect(existsSync(join(stack.server.dataDir, 'projects', 'default', 'blobs'))).toBe(false)
})

test('the blob API on S3: a wrong body is refused and stores nothing; HEAD and GET', async () => {
  const content = new TextEncoder().encode('hello s3 blobs')
  const key = sha256(content)
  const before = await s3.list('team-a/')
  const bad = await fetch(`${stack.server.url}/blobs/${sha256('something else')}`, { method: 'PUT', body: content })
  expect(bad.status).toBe(400)
  expect(await bad.json()).toMatchObject({ error: 'hash_mismatch' })
  expect(await s3.list('team-a/')).toEqual(before)
  expect((await fetch(`${stack.server.url}/blobs/${key}`, { method: 'PUT', body: content })).status).toBe(204)
  expect(await s3.client.file(objectName('team-a/projects/default/blobs', key)).text()).toBe('hello s3 blobs')
  const head = await fetch(`${stack.server.url}/blobs/${key}`, { method: 'HEAD' })
  expect(head.status).toBe(200)
  expect(head.headers.get('content-length')).toBe(String(content.length))
  const got = await fetch(`${stack.server.url}/blobs/${key}`)
  expect(got.status).toBe(200)
  expect(await got.text()).toBe('hello s3 blobs')
  expect((await fetch(`${stack.server.url}/blobs/${sha256('never stored')}`)).status).toBe(404)
})

test('COFLUX_BLOBS_URL with the endpoint from AWS_ENDPOINT_URL; a second server shares the bucket under its own prefix', async () => {
  const server = await startTestServer({ env: { ...s3.env, COFLUX_BLOBS_URL: `s3://${s3.bucket}/team-b`, AWS_ENDPOINT_URL: s3.endpoint } })
  try {
    const content = new TextEncoder().encode('team b')
    expect((await fetch(`${server.url}/blobs/${sha256(content)}`, { method: 'PUT', body: content })).status).toBe(204)
    expect(await s3.list('team-b/')).toEqual([objectName('team-b/projects/default/blobs', sha256(content))])
  } finally {
    await server.cleanup()
  }
})

test('a bad blobs URL or missing credentials stop the server at start-up with the reason', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'coflux-test-data-'))
  try {
    const start = (url: string, env: Record<string, string>) => coflux(['server', '--port', '0', '--data-dir', dataDir, '--blobs-url', url], { env })
    const badBucket = await start('s3://Not_A_Bucket/x', s3.env)
    expect(badBucket.code).toBe(1)
    expect(badBucket.stderr).toContain('invalid blobs_url: invalid bucket name "Not_A_Bucket"')
    const noCredentials = await start(`s3://${s3.bucket}`, { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', S3_ACCESS_KEY_ID: '', S3_SECRET_ACCESS_KEY: '' })
    expect(noCredentials.code).toBe(1)
    expect(noCredentials.stderr).toContain('invalid blobs_url: S3 blobs need credentials: AWS_ACCESS_KEY_ID (or S3_ACCESS_KEY_ID) is not set')
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
})

test('a bucket that goes away: 502 blob_store_unavailable, and the server goes on serving', async () => {
  const gone = await startTestS3()
  const server = await startTestServer({ args: ['--blobs-url', `s3://${gone.bucket}?endpoint=${gone.endpoint}`], env: gone.env })
  try {
    const content = new TextEncoder().encode('soon unreachable')
    const key = sha256(content)
    expect((await fetch(`${server.url}/blobs/${key}`, { method: 'PUT', body: content })).status).toBe(204)
    await gone.stop()
    const get = await fetch(`${server.url}/blobs/${key}`)
    expect(get.status).toBe(502)
    expect(await get.json()).toMatchObject({ error: 'blob_store_unavailable', message: expect.stringContaining('S3 lookup failed') })
    const put = await fetch(`${server.url}/blobs/${sha256('x')}`, { method: 'PUT', body: 'x' })
    expect(put.status).toBe(502)
    expect((await server.get('/topics/workspaces')).status).toBe(200)
    expect(server.stderr()).toContain('blob store: S3 lookup failed')
  } finally {
    await server.cleanup()
    await gone.stop()
  }
})
