/**
 * A real S3-compatible server for blob tests: s3rver, in this process, on a free loopback port
 * with a temporary directory and one bucket. It refuses unknown access key ids (it does not check
 * SigV4 signatures themselves), so the server must be given its credentials.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import S3rver from 's3rver'

export interface TestS3 {
  /** `http://127.0.0.1:<port>` */
  endpoint: string
  bucket: string
  /** s3rver's built-in account */
  credentials: { accessKeyId: string; secretAccessKey: string }
  /** AWS_* variables naming the credentials (not the endpoint) */
  env: Record<string, string>
  /** a client of the bucket, to look at what the server stored */
  client: Bun.S3Client
  /** object names under `prefix`, sorted */
  list(prefix?: string): Promise<string[]>
  stop(): Promise<void>
}

export async function startTestS3(options: { bucket?: string } = {}): Promise<TestS3> {
  const bucket = options.bucket ?? 'coflux-test'
  const directory = mkdtempSync(join(tmpdir(), 'coflux-test-s3-'))
  const s3rver = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true, configureBuckets: [{ name: bucket }] })
  const { port } = await s3rver.run()
  const endpoint = `http://127.0.0.1:${port}`
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }
  const client = new Bun.S3Client({ bucket, endpoint, region: 'us-east-1', ...credentials })
  let running = true
  return {
    endpoint,
    bucket,
    credentials,
    env: { AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, AWS_REGION: 'us-east-1' },
    client,
    async list(prefix = '') {
      const names: string[] = []
      let startAfter: string | undefined
      for (;;) {
        const page = await client.list({ prefix, startAfter, maxKeys: 1000 })
        for (const object of page.contents ?? []) names.push(object.key)
        if (!page.isTruncated || !page.contents?.length) break
        startAfter = page.contents.at(-1)!.key
      }
      return names.sort()
    },
    async stop() {
      if (!running) return
      running = false
      await s3rver.close()
      rmSync(directory, { recursive: true, force: true })
    },
  }
}
