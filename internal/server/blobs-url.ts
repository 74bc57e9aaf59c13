/**
 * `--blobs-url s3://bucket/prefix` (issue 10): the server keeps blobs in an S3-compatible bucket
 * instead of under its data directory. Parsed once at start-up, so a bad URL stops the server with a
 * clear message rather than failing its first upload.
 *
 * Credentials never go in the URL (it is printed at start-up); they come from the environment, as
 * the AWS tools and Bun's own S3 client read them. For each setting the first one set wins:
 *
 *   bucket         the URL's host; only `s3:///prefix` (no host) falls back to S3_BUCKET, AWS_BUCKET
 *   endpoint       ?endpoint=, S3_ENDPOINT, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, AWS_ENDPOINT
 *   region         ?region=, S3_REGION, AWS_REGION, AWS_DEFAULT_REGION
 *   access key     S3_ACCESS_KEY_ID, AWS_ACCESS_KEY_ID
 *   secret key     S3_SECRET_ACCESS_KEY, AWS_SECRET_ACCESS_KEY
 *   session token  S3_SESSION_TOKEN, AWS_SESSION_TOKEN
 *
 * The query only names where the bucket is (endpoint, region), so it may override the environment;
 * without an endpoint Bun addresses AWS S3 itself.
 */

export interface S3BlobsConfig {
  bucket: string
  /** '' or `a/b`, without a slash at either end */
  prefix: string
  endpoint?: string
  region?: string
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

export class BlobsUrlError extends Error {
  override readonly name = 'BlobsUrlError'
}

const QUERY_KEYS = ['endpoint', 'region'] as const
// S3's bucket naming rules (lowercase, 3–63 characters, no leading or trailing dot or hyphen)
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/
// S3's "safe characters" for object key segments
const PREFIX_SEGMENT = /^[A-Za-z0-9!_.*'()-]+$/
const REGION = /^[a-z0-9-]+$/

type Env = Record<string, string | undefined>

/**
 * @example
 * parseBlobsUrl('s3://coflux/prod?endpoint=http://127.0.0.1:9000', process.env)
 * // { bucket: 'coflux', prefix: 'prod', endpoint: 'http://127.0.0.1:9000', accessKeyId: …, … }
 */
export function parseBlobsUrl(raw: string, env: Env): S3BlobsConfig {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new BlobsUrlError(`not a URL: ${raw} (expected s3://bucket/prefix)`)
  }
  if (url.protocol !== 's3:') throw new BlobsUrlError(`unsupported scheme ${url.protocol}// in ${raw} (expected s3://bucket/prefix)`)
  if (!/^s3:\/\//i.test(raw)) throw new BlobsUrlError(`expected s3://bucket/prefix, not ${raw}`)
  if (url.username || url.password) {
    throw new BlobsUrlError('credentials do not belong in the URL: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY)')
  }
  if (url.port) throw new BlobsUrlError(`the bucket takes no port (${raw}); name the server with ?endpoint=http://host:port`)
  if (url.hash) throw new BlobsUrlError(`unexpected fragment in ${raw}`)

  const bucket = url.hostname || first(env, 'S3_BUCKET', 'AWS_BUCKET')
  if (!bucket) throw new BlobsUrlError(`no bucket in ${raw} (expected s3://bucket/prefix)`)
  if (!BUCKET.test(bucket)) throw new BlobsUrlError(`invalid bucket name "${bucket}" (3–63 lowercase letters, digits, dots and hyphens)`)

  // from the text as written: URL parsing would resolve `a/../b` to `b` without a word
  const path = raw.split(/[?#]/)[0]!.slice('s3://'.length)
  const prefix = parsePrefix(path.includes('/') ? path.slice(path.indexOf('/')) : '')
  for (const key of url.searchParams.keys()) {
    if (!(QUERY_KEYS as readonly string[]).includes(key)) throw new BlobsUrlError(`unknown parameter "${key}" in ${raw} (known: ${QUERY_KEYS.join(', ')})`)
  }

  const endpoint = url.searchParams.get('endpoint') || first(env, 'S3_ENDPOINT', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT')
  if (endpoint !== undefined) checkEndpoint(endpoint)
  const region = url.searchParams.get('region') || first(env, 'S3_REGION', 'AWS_REGION', 'AWS_DEFAULT_REGION')
  if (region !== undefined && !REGION.test(region)) throw new BlobsUrlError(`invalid region "${region}"`)

  const accessKeyId = first(env, 'S3_ACCESS_KEY_ID', 'AWS_ACCESS_KEY_ID')
  const secretAccessKey = first(env, 'S3_SECRET_ACCESS_KEY', 'AWS_SECRET_ACCESS_KEY')
  if (!accessKeyId || !secretAccessKey) {
    const missing = !accessKeyId ? 'AWS_ACCESS_KEY_ID (or S3_ACCESS_KEY_ID)' : 'AWS_SECRET_ACCESS_KEY (or S3_SECRET_ACCESS_KEY)'
    throw new BlobsUrlError(`S3 blobs need credentials: ${missing} is not set`)
  }
  const sessionToken = first(env, 'S3_SESSION_TOKEN', 'AWS_SESSION_TOKEN')

  const config: S3BlobsConfig = { bucket, prefix, accessKeyId, secretAccessKey }
  if (endpoint !== undefined) config.endpoint = endpoint.replace(/\/+$/, '')
  if (region !== undefined) config.region = region
  if (sessionToken !== undefined) config.sessionToken = sessionToken
  return config
}

/** For the start-up line: where blobs go, never the credentials. */
export function describeBlobs(config: S3BlobsConfig): string {
  const where = `s3://${config.bucket}${config.prefix ? `/${config.prefix}` : ''}`
  return config.endpoint ? `${where} at ${config.endpoint}` : where
}

/**
 * Where one project's blobs live in the bucket: `<prefix>/projects/<project>/blobs`, the disk
 * layout under the data directory, so several projects and servers can share a bucket.
 */
export function projectBlobsRoot(config: S3BlobsConfig, projectId: string): string {
  return `${config.prefix ? `${config.prefix}/` : ''}projects/${projectId}/blobs`
}

function parsePrefix(pathname: string): string {
  let decoded: string
  try {
    decoded = decodeURIComponent(pathname)
  } catch {
    throw new BlobsUrlError(`invalid prefix ${pathname}`)
  }
  const prefix = decoded.replace(/^\/+|\/+$/g, '')
  if (prefix === '') return ''
  for (const segment of prefix.split('/')) {
    if (segment === '' || segment === '.' || segment === '..' || !PREFIX_SEGMENT.test(segment)) {
      throw new BlobsUrlError(`invalid prefix "${prefix}": segments of letters, digits and !_.*'()- separated by single slashes`)
    }
  }
  return prefix
}

function checkEndpoint(endpoint: string): void {
  let url: URL
  try {
    url = new URL(endpoint)
  } catch {
    throw new BlobsUrlError(`invalid endpoint "${endpoint}" (expected http://host:port or https://host)`)
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) {
    throw new BlobsUrlError(`invalid endpoint "${endpoint}" (expected http://host:port or https://host)`)
  }
}

function first(env: Env, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = env[name]
    if (value !== undefined && value !== '') return value
  }
  return undefined
}
