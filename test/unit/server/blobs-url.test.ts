/** `--blobs-url s3://bucket/prefix` (issue 10): parsing, the environment's part, clear refusals. */
import { expect, test } from 'bun:test'
import { BlobsUrlError, describeBlobs, parseBlobsUrl, projectBlobsRoot } from '../../../internal/server/blobs-url.ts'
import { resolveServerSettings, SettingsError } from '../../../internal/server/settings.ts'

const CREDS = { AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'secret' }

test('bucket and prefix from the URL, credentials from the environment', () => {
  expect(parseBlobsUrl('s3://coflux-blobs/prod/eu/', CREDS)).toEqual({ bucket: 'coflux-blobs', prefix: 'prod/eu', accessKeyId: 'AKID', secretAccessKey: 'secret' })
  expect(parseBlobsUrl('s3://coflux-blobs', { ...CREDS, AWS_SESSION_TOKEN: 'tok', AWS_REGION: 'eu-west-1' })).toEqual({
    bucket: 'coflux-blobs',
    prefix: '',
    region: 'eu-west-1',
    accessKeyId: 'AKID',
    secretAccessKey: 'secret',
    sessionToken: 'tok',
  })
})

test('the query overrides the environment; S3_* comes before AWS_*', () => {
  const env = { ...CREDS, S3_ACCESS_KEY_ID: 'S3KEY', AWS_ENDPOINT_URL: 'http://aws-env:1', AWS_DEFAULT_REGION: 'us-west-2' }
  expect(parseBlobsUrl('s3://b1b/p', env)).toMatchObject({ accessKeyId: 'S3KEY', secretAccessKey: 'secret', endpoint: 'http://aws-env:1', region: 'us-west-2' })
  expect(parseBlobsUrl('s3://b1b/p?endpoint=http://127.0.0.1:9000/&region=us-east-1', env)).toMatchObject({ endpoint: 'http://127.0.0.1:9000', region: 'us-east-1' })
  expect(parseBlobsUrl('s3://b1b', { ...env, AWS_ENDPOINT_URL_S3: 'http://s3-specific:2' }).endpoint).toBe('http://s3-specific:2')
  expect(parseBlobsUrl('s3://b1b', { ...env, S3_ENDPOINT: 'https://minio.internal' }).endpoint).toBe('https://minio.internal')
  expect(parseBlobsUrl('s3://b1b', { ...env, S3_REGION: 'auto' }).region).toBe('auto')
})

test('s3:///prefix takes the bucket from S3_BUCKET or AWS_BUCKET', () => {
  expect(parseBlobsUrl('s3:///team', { ...CREDS, AWS_BUCKET: 'from-env' })).toMatchObject({ bucket: 'from-env', prefix: 'team' })
  expect(() => parseBlobsUrl('s3:///team', CREDS)).toThrow('no bucket in s3:///team')
})

test('a bad URL is refused with the reason', () => {
  const refusals: [string, string][] = [
    ['not a url', 'not a URL'],
    ['https://bucket/x', 'unsupported scheme https://'],
    ['s3:bucket/x', 'expected s3://bucket/prefix'],
    ['s3://AKID:secret@bucket/x', 'credentials do not belong in the URL'],
    ['s3://bucket:9000/x', 'takes no port'],
    ['s3://Bucket/x', 'invalid bucket name "Bucket"'],
    ['s3://b/x', 'invalid bucket name "b"'],
    ['s3://bucket/a//b', 'invalid prefix'],
    ['s3://bucket/a/../b', 'invalid prefix'],
    ['s3://bucket/a b', 'invalid prefix'],
    ['s3://bucket/x?endpoint=minio:9000', 'invalid endpoint "minio:9000"'],
    ['s3://bucket/x?endpoint=ftp://h', 'invalid endpoint'],
    ['s3://bucket/x?regoin=eu', 'unknown parameter "regoin"'],
    ['s3://bucket/x?region=EU West', 'invalid region'],
  ]
  for (const [url, reason] of refusals) {
    const err = (() => {
      try {
        parseBlobsUrl(url, CREDS)
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(BlobsUrlError)
    expect((err as Error).message).toContain(reason)
  }
})

test('credentials are required, and a half pair is named', () => {
  expect(() => parseBlobsUrl('s3://bucket', {})).toThrow('S3 blobs need credentials: AWS_ACCESS_KEY_ID (or S3_ACCESS_KEY_ID) is not set')
  expect(() => parseBlobsUrl('s3://bucket', { S3_ACCESS_KEY_ID: 'k' })).toThrow('AWS_SECRET_ACCESS_KEY (or S3_SECRET_ACCESS_KEY) is not set')
})

test('each project has its own root; the description never shows credentials', () => {
  const config = parseBlobsUrl('s3://bucket/prod?endpoint=http://127.0.0.1:9000', CREDS)
  expect(projectBlobsRoot(config, 'default')).toBe('prod/projects/default/blobs')
  expect(projectBlobsRoot({ ...config, prefix: '' }, 'p')).toBe('projects/p/blobs')
  expect(describeBlobs(config)).toBe('s3://bucket/prod at http://127.0.0.1:9000')
  expect(describeBlobs({ ...config, endpoint: undefined, prefix: '' })).toBe('s3://bucket')
})

test('server settings: --blobs-url > COFLUX_SERVER_BLOBS_URL > COFLUX_BLOBS_URL > [server] blobs_url; absent = the data directory', () => {
  const resolve = (flags: Record<string, unknown>, env: Record<string, string>, table: Record<string, unknown> = {}) =>
    resolveServerSettings(flags, { ...CREDS, ...env }, table, '/tmp').blobs?.bucket
  expect(resolveServerSettings({}, {}, {}, '/tmp').blobs).toBeNull()
  expect(resolve({}, { COFLUX_BLOBS_URL: '' })).toBeUndefined()
  expect(resolve({}, {}, { blobs_url: 's3://from-file' })).toBe('from-file')
  expect(resolve({}, { COFLUX_BLOBS_URL: 's3://from-env' }, { blobs_url: 's3://from-file' })).toBe('from-env')
  expect(resolve({}, { COFLUX_SERVER_BLOBS_URL: 's3://prefixed', COFLUX_BLOBS_URL: 's3://from-env' })).toBe('prefixed')
  expect(resolve({ blobs_url: 's3://from-flag' }, { COFLUX_BLOBS_URL: 's3://from-env' })).toBe('from-flag')
  expect(() => resolveServerSettings({ blobs_url: 'bucket/x' }, CREDS, {}, '/tmp')).toThrow(new SettingsError('invalid blobs_url: not a URL: bucket/x (expected s3://bucket/prefix)'))
  expect(() => resolveServerSettings({ blobs_url: 's3://bucket' }, {}, {}, '/tmp')).toThrow(SettingsError)
})
