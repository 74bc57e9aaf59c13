/**
 * Values on every channel (values.md §4–§5): their types, the parsers that check them at the
 * boundary, content hashes and step keys, CLI argument conversion, and the small helpers that
 * travel with values (tracebacks of failed executions, MIME types of asset entries).
 *
 * Once a value has entered the system its data is canonical JSON text in a `RawJson`
 * (values.md §6.1): never a JS number tree, so numbers stay exact and the text can be hashed,
 * stored and spliced into outgoing JSON (`stringifyJson`) as is.
 *
 * Longer than most files on purpose: every shape a value takes on every channel, and every
 * conversion between them, is checked against values.md in one place. Tracebacks and MIME types
 * are small and self-contained; they can move to files of their own if this grows further.
 */
import { ProtocolError } from './errors.ts'
import { canonicalJson, compareCodePoints, JsonNumber, parseJson, RawJson, toNumber, type Json } from './json.ts'
import { pythonStringRepr } from './python-repr.ts'

// ---------------------------------------------------------------------------------------------
// Types

/** Fragment metadata (`{}`, `{"type": "Point"}`, `{"model": "app.models.M"}`), a JSON object. */
export type FragmentMetadata = { [key: string]: Json }

/**
 * Array references of the worker ⇄ server channel (values.md §4.2). Inbound, only the id of an
 * execution or asset is read; outbound the server fills the rest (`null` when unknown).
 */
export type ExecutionReference = ['execution', string, (string | null)?, (string | null)?]
export type InputReference = ['input', string]
export type AssetReference = ['asset', string, (string | null)?, (number | null)?, (number | null)?]
/** `['fragment', format, blobKey, size, metadata]` */
export type FragmentReference = ['fragment', string, string, number, FragmentMetadata]
export type ServerReference = ExecutionReference | InputReference | AssetReference | FragmentReference

/** `['raw', canonical data, refs]` or `['blob', key, size, refs]` (values.md §5.2). */
export type ServerValue = ['raw', RawJson, ServerReference[]] | ['blob', string, number, ServerReference[]]

/** Executor-channel references: as on the server channel, but a fragment carries a local path. */
export type ExecutorReference = ServerReference
/** `{"type": "inline" | "file", "format": "json", …}` (executor-protocol.md §8.1). */
export type ExecutorValue =
  | { type: 'inline'; format: 'json'; value: Json; references?: ExecutorReference[] }
  | { type: 'file'; format: 'json'; path: string; references?: ExecutorReference[] }

/** Object references of the log channel (values.md §4.2); topics use them too, except assets. */
export interface ExecutionObjectReference {
  type: 'execution'
  executionId: string
  module: string | null
  target: string | null
}
export interface InputObjectReference {
  type: 'input'
  inputId: string
}
export interface AssetLogReference {
  type: 'asset'
  assetId: string
  name: string | null
  totalCount: number | null
  totalSize: number | null
}
export interface FragmentObjectReference {
  type: 'fragment'
  format: string
  blobKey: string
  size: number
  metadata: FragmentMetadata
}
export type LogReference = ExecutionObjectReference | InputObjectReference | AssetLogReference | FragmentObjectReference

/** `entry` is set when the asset has exactly one entry (cli.md §7.1). */
export interface AssetSummary {
  name: string | null
  totalCount: number | null
  totalSize: number | null
  entry: { path: string; blobKey: string; size: number; metadata: FragmentMetadata } | null
}
export interface AssetTopicReference {
  type: 'asset'
  assetId: string
  asset: AssetSummary
}
export type TopicReference =
  | ExecutionObjectReference
  | InputObjectReference
  | AssetTopicReference
  | FragmentObjectReference

/**
 * Object form of a value (values.md §5.4, §5.5). `data` is canonical JSON text as the server and
 * worker hold it; a reader that parsed the response holds it as a `Json` tree (`D = Json`).
 */
export type ObjectValue<R, D extends Json = RawJson> =
  | { type: 'raw'; data: D; references: R[] }
  | { type: 'blob'; key: string; size: number; references: R[] }
export type LogValue = ObjectValue<LogReference>
export type TopicValue = ObjectValue<TopicReference>

/** What the server knows about referenced objects, to refill references on the way out. */
export interface ReferenceLookup {
  execution(executionId: string): { module: string; target: string } | null
  asset(assetId: string): AssetSummary | null
}

// ---------------------------------------------------------------------------------------------
// Data

const BLOB_KEY = /^[0-9a-f]{64}$/
const NUMBER_TEXT = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/
// JSC's stack allows a few thousand levels; deeper data is refused rather than crashing a frame
const MAX_DEPTH = 2048

export function isBlobKey(key: unknown): key is string {
  return typeof key === 'string' && BLOB_KEY.test(key)
}

/**
 * Canonical text of value data (values.md §6.1), checking it is JSON data: nested `RawJson` is
 * re-read, non-finite numbers and non-JSON objects are refused with a `ProtocolError`.
 *
 * @example
 * canonicalizeData({ type: 'dict', items: ['n', 1] }).text // '{"items":["n",1],"type":"dict"}'
 */
export function canonicalizeData(data: Json): RawJson {
  return new RawJson(canonicalJson(checkData(data, 0)))
}

/** Returns `v` itself when it is valid data, or a copy with nested RawJson replaced by trees. */
function checkData(v: unknown, depth: number): Json {
  if (depth > MAX_DEPTH) throw new ProtocolError('value data is nested too deeply')
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new ProtocolError('value data contains a non-finite number')
    return v
  }
  if (v instanceof JsonNumber) {
    if (!NUMBER_TEXT.test(v.text)) throw new ProtocolError(`value data contains a bad number: ${v.text}`)
    return v
  }
  if (v instanceof RawJson) return checkData(readJson(v.text), depth)
  if (Array.isArray(v)) {
    let copy: Json[] | undefined
    for (let i = 0; i < v.length; i++) {
      const item = checkData(v[i], depth + 1)
      if (item !== v[i]) (copy ??= v.slice())[i] = item
    }
    return copy ?? v
  }
  if (isPlainObject(v)) {
    let copy: { [key: string]: Json } | undefined
    for (const key of Object.keys(v)) {
      const item = checkData(v[key], depth + 1)
      if (item !== v[key]) defineOwn((copy ??= { ...(v as { [key: string]: Json }) }), key, item)
    }
    return copy ?? (v as { [key: string]: Json })
  }
  throw new ProtocolError(`value data contains a ${v === undefined ? 'missing value' : typeof v} that is not JSON`)
}

function readJson(text: string): Json {
  try {
    return parseJson(text)
  } catch (err) {
    throw new ProtocolError(`value data is not valid JSON: ${(err as Error).message}`, { cause: err })
  }
}

/** Plain assignment would treat a `__proto__` key as the prototype; JSON keys are just keys. */
function defineOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true })
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

// ---------------------------------------------------------------------------------------------
// Parsing untrusted values

/** Checks a `["raw", …]` / `["blob", …]` value from a frame; data may be a tree or RawJson. */
export function parseServerValue(raw: unknown): ServerValue {
  if (!Array.isArray(raw)) throw new ProtocolError('value must be an array')
  if (raw[0] === 'raw' && raw.length === 3) {
    return ['raw', canonicalizeData(raw[1] as Json), parseReferences(raw[2], 'blob key')]
  }
  if (raw[0] === 'blob' && raw.length === 4) {
    if (!isBlobKey(raw[1])) throw new ProtocolError('blob value key must be 64 lowercase hex characters')
    return ['blob', raw[1], size(raw[2], 'blob value size'), parseReferences(raw[3], 'blob key')]
  }
  throw new ProtocolError('value must be ["raw", data, references] or ["blob", key, size, references]')
}

/** Checks an executor-channel Value object (executor-protocol.md §8.1); inline data is checked when canonicalised. */
export function parseExecutorValue(raw: unknown): ExecutorValue {
  if (!isPlainObject(raw)) throw new ProtocolError('value must be an object')
  // absent means json: 0.12's worker read every value as JSON, and its own suite sends some without a format
  if (raw.format != null && raw.format !== 'json') throw new ProtocolError(`unsupported value format: ${String(raw.format)}`)
  const references = raw.references == null ? [] : parseReferences(raw.references, 'path')
  if (raw.type === 'inline') return { type: 'inline', format: 'json', value: (raw.value ?? null) as Json, references }
  if (raw.type === 'file') {
    if (typeof raw.path !== 'string' || raw.path === '') throw new ProtocolError('file value needs a path')
    return { type: 'file', format: 'json', path: raw.path, references }
  }
  throw new ProtocolError('value type must be "inline" or "file"')
}

/** `location` names the fragment's third element: a blob key (server) or a local path (executor). */
function parseReferences(raw: unknown, location: 'blob key' | 'path'): ServerReference[] {
  if (!Array.isArray(raw)) throw new ProtocolError('references must be an array')
  return raw.map((ref, i) => parseReference(ref, i, location))
}

function parseReference(ref: unknown, i: number, location: 'blob key' | 'path'): ServerReference {
  const at = `reference ${i}`
  if (!Array.isArray(ref) || !nonEmpty(ref[1])) throw new ProtocolError(`${at} must be [kind, id, …]`)
  switch (ref[0]) {
    case 'execution':
      return ['execution', ref[1], optionalString(ref[2]), optionalString(ref[3])]
    case 'input':
      return ['input', ref[1]]
    case 'asset':
      return ['asset', ref[1], optionalString(ref[2]), optionalCount(ref[3]), optionalCount(ref[4])]
    case 'fragment': {
      if (location === 'blob key' ? !isBlobKey(ref[2]) : !nonEmpty(ref[2])) {
        throw new ProtocolError(`${at}: fragment needs a ${location === 'blob key' ? 'valid blob key' : 'path'}`)
      }
      return ['fragment', ref[1], ref[2], size(ref[3], `${at} size`), metadata(ref[4], at)]
    }
    default:
      throw new ProtocolError(`${at} has unknown kind ${JSON.stringify(ref[0])}`)
  }
}

/**
 * Checks one log value posted by a worker (http-api.md §12), re-canonicalising its data.
 *
 * @example
 * parseLogValue({ type: 'raw', data: { id: 42 }, references: [] }).data.text // '{"id":42}'
 */
export function parseLogValue(raw: unknown): LogValue {
  if (!isPlainObject(raw)) throw new ProtocolError('log value must be an object')
  const refs = raw.references === undefined ? [] : raw.references
  if (!Array.isArray(refs)) throw new ProtocolError('log value references must be an array')
  const references = refs.map(parseLogReference)
  if (raw.type === 'raw') {
    if (!('data' in raw)) throw new ProtocolError('raw log value needs data')
    return { type: 'raw', data: canonicalizeData(raw.data as Json), references }
  }
  if (raw.type === 'blob') {
    if (!isBlobKey(raw.key)) throw new ProtocolError('blob log value key must be 64 lowercase hex characters')
    return { type: 'blob', key: raw.key, size: size(raw.size, 'blob log value size'), references }
  }
  throw new ProtocolError('log value type must be "raw" or "blob"')
}

/** The `values` map of a log entry: absent or `null` is `{}`. */
export function parseLogValues(raw: unknown): Record<string, LogValue> {
  if (raw == null) return {}
  if (!isPlainObject(raw)) throw new ProtocolError('log values must be an object')
  const out: Record<string, LogValue> = {}
  for (const key of Object.keys(raw)) defineOwn(out, key, parseLogValue(raw[key]))
  return out
}

function parseLogReference(ref: unknown, i: number): LogReference {
  const at = `reference ${i}`
  if (!isPlainObject(ref)) throw new ProtocolError(`${at} must be an object`)
  switch (ref.type) {
    case 'execution':
      if (!nonEmpty(ref.executionId)) throw new ProtocolError(`${at} needs an executionId`)
      return {
        type: 'execution',
        executionId: ref.executionId,
        module: optionalString(ref.module),
        target: optionalString(ref.target),
      }
    case 'input':
      if (!nonEmpty(ref.inputId)) throw new ProtocolError(`${at} needs an inputId`)
      return { type: 'input', inputId: ref.inputId }
    case 'asset':
      if (!nonEmpty(ref.assetId)) throw new ProtocolError(`${at} needs an assetId`)
      return {
        type: 'asset',
        assetId: ref.assetId,
        name: optionalString(ref.name),
        totalCount: optionalCount(ref.totalCount),
        totalSize: optionalCount(ref.totalSize),
      }
    case 'fragment':
      if (!nonEmpty(ref.format)) throw new ProtocolError(`${at} needs a format`)
      if (!isBlobKey(ref.blobKey)) throw new ProtocolError(`${at} needs a valid blobKey`)
      return {
        type: 'fragment',
        format: ref.format,
        blobKey: ref.blobKey,
        size: size(ref.size, `${at} size`),
        metadata: metadata(ref.metadata, at),
      }
    default:
      throw new ProtocolError(`${at} has unknown type ${JSON.stringify(ref.type)}`)
  }
}

function nonEmpty(v: unknown): v is string {
  return typeof v === 'string' && v !== ''
}

/** Optional metadata fields: only the id of a reference is authoritative, so junk becomes null. */
function optionalString(v: unknown): string | null {
  return typeof v === 'string' ? v : null
}

/** 0.12 adapters may send counts as floats (`10752.0`); integral ones are accepted. */
function optionalCount(v: unknown): number | null {
  const n = toNumber(v)
  return n !== undefined && Number.isSafeInteger(n) && n >= 0 ? n : null
}

function size(v: unknown, what: string): number {
  const n = toNumber(v)
  if (n === undefined || !Number.isSafeInteger(n) || n < 0) {
    throw new ProtocolError(`${what} must be a non-negative integer`)
  }
  return n
}

function metadata(v: unknown, at: string): FragmentMetadata {
  if (!isPlainObject(v)) throw new ProtocolError(`${at}: fragment metadata must be an object`)
  return checkData(v, 0) as FragmentMetadata
}

// ---------------------------------------------------------------------------------------------
// Content addressing (values.md §6.3, semantics.md §6.2)

/** Hex SHA-256 of the value's canonical data; for a blob value that is its key. */
export function contentHash(value: ServerValue): string {
  if (value[0] === 'blob') return value[1]
  return new Bun.CryptoHasher('sha256').update(value[1].text).digest('hex')
}

/** What a reference contributes to a step key (semantics.md §6.2): its identity, without sizes or names. */
export function referenceKeyIdentity(ref: ServerReference): Json[] {
  if (ref[0] === 'fragment') return ['fragment', ref[1], ref[2], ref[4]]
  return [ref[0], ref[1]]
}

/**
 * Cache, memo and defer key (semantics.md §6.2): SHA-256 of the canonical JSON of
 * `[namespace, version or "", entries]`, 32 bytes. An index beyond the submitted arguments
 * contributes `null`.
 */
export function computeStepKey(
  namespace: string,
  version: string | null | undefined,
  args: readonly ServerValue[],
  params: true | readonly number[],
): Uint8Array {
  const indexes = params === true ? args.map((_, i) => i) : params
  const entries = indexes.map((i) => {
    const arg = Number.isInteger(i) && i >= 0 ? args[i] : undefined
    if (arg === undefined) return null
    const refs = arg[0] === 'raw' ? arg[2] : arg[3]
    return [contentHash(arg), refs.map(referenceKeyIdentity)]
  })
  const text = canonicalJson([namespace, version ?? '', entries])
  return new Uint8Array(new Bun.CryptoHasher('sha256').update(text).digest())
}

// ---------------------------------------------------------------------------------------------
// CLI-submitted arguments (values.md §8)

/**
 * Encoded data for one CLI-submitted JSON text: objects become dict tags ordered by the Python
 * repr of their keys, arrays are converted element-wise, everything else is kept (numbers
 * verbatim). Throws `SyntaxError` when the text is not JSON.
 *
 * @example
 * convertCliArgument('{"b": 1, "a": 2}').text // '{"items":["a",2,"b",1],"type":"dict"}'
 */
export function convertCliArgument(text: string): RawJson {
  return new RawJson(canonicalJson(toEncodedData(parseJson(text))))
}

function toEncodedData(v: Json): Json {
  if (Array.isArray(v)) return v.map(toEncodedData)
  if (!isPlainObject(v)) return v
  const keys = Object.keys(v).map((key) => ({ key, repr: pythonStringRepr(key) }))
  keys.sort((a, b) => compareCodePoints(a.repr, b.repr))
  return { type: 'dict', items: keys.flatMap(({ key }) => [key, toEncodedData(v[key] as Json)]) }
}

// ---------------------------------------------------------------------------------------------
// Outgoing object forms (values.md §5.4, §5.5)

/** A stored value as topics and the CLI show it, with references refilled from `lookup`. */
export function toTopicValue(value: ServerValue, lookup: ReferenceLookup): TopicValue {
  return toObjectValue(value, (ref) => toTopicReference(ref, lookup))
}

/** A value in the log channel's form (flat asset references). */
export function toLogValue(value: ServerValue, lookup: ReferenceLookup): LogValue {
  return toObjectValue(value, (ref) => {
    const topic = toTopicReference(ref, lookup)
    if (topic.type !== 'asset') return topic
    const { name, totalCount, totalSize } = topic.asset
    return { type: 'asset', assetId: topic.assetId, name, totalCount, totalSize }
  })
}

function toObjectValue<R>(value: ServerValue, convert: (ref: ServerReference) => R): ObjectValue<R> {
  if (value[0] === 'raw') return { type: 'raw', data: value[1], references: value[2].map(convert) }
  return { type: 'blob', key: value[1], size: value[2], references: value[3].map(convert) }
}

function toTopicReference(ref: ServerReference, lookup: ReferenceLookup): TopicReference {
  switch (ref[0]) {
    case 'execution': {
      const known = lookup.execution(ref[1])
      return {
        type: 'execution',
        executionId: ref[1],
        module: known?.module ?? ref[2] ?? null,
        target: known?.target ?? ref[3] ?? null,
      }
    }
    case 'input':
      return { type: 'input', inputId: ref[1] }
    case 'asset': {
      // an asset the server does not know keeps whatever the reference carried
      const fallback = { name: ref[2] ?? null, totalCount: ref[3] ?? null, totalSize: ref[4] ?? null, entry: null }
      return { type: 'asset', assetId: ref[1], asset: lookup.asset(ref[1]) ?? fallback }
    }
    case 'fragment':
      return { type: 'fragment', format: ref[1], blobKey: ref[2], size: ref[3], metadata: ref[4] }
  }
}

// ---------------------------------------------------------------------------------------------
// Tracebacks (executor-protocol.md §5.6, §6.2)

/** `[file, line, name, code]`, as `put_error` carries it. */
export type Frame = [file: string, line: number, name: string, code: string | null]
/** The same frame as topics and the CLI show it. */
export interface FrameObject {
  file: string
  line: number
  name: string
  code: string | null
}

const FRAME_LINE = /^\s*File "(?<file>[^"]+)", line (?<line>\d+), in (?<name>.+)$/

/** Frames of a Python traceback; unparseable text becomes one frame holding all of it. */
export function parseTraceback(text: string | null | undefined): Frame[] {
  if (!text) return []
  const lines = text.split('\n')
  const frames: Frame[] = []
  for (let i = 0; i < lines.length; i++) {
    const m = FRAME_LINE.exec(lines[i]!)
    if (!m) continue
    const next = lines[i + 1]
    const code = next !== undefined && next.startsWith('    ') ? next.trim() : null
    if (code !== null) i++
    frames.push([m.groups!.file!, Number(m.groups!.line), m.groups!.name!, code])
  }
  return frames.length > 0 ? frames : [['', 0, '', text]]
}

/** Traceback text rebuilt from frames, as `select` hands it to an executor. */
export function formatTraceback(frames: readonly (Frame | FrameObject)[]): string {
  return frames
    .map((frame) => {
      const { file, line, name, code } = Array.isArray(frame) ? frameToObject(frame) : frame
      const head = `  File "${file}", line ${line}, in ${name}`
      return code == null ? head : `${head}\n    ${code}`
    })
    .join('\n')
}

export function frameToObject([file, line, name, code]: Frame): FrameObject {
  return { file, line, name, code }
}

// ---------------------------------------------------------------------------------------------
// Asset entry MIME types (executor-protocol.md §6.5)

// Part of an asset's identity (semantics.md §27), so entries are only ever added, never changed.
const MIME_TYPES: Record<string, string> = {
  txt: 'text/plain', log: 'text/plain', csv: 'text/csv', tsv: 'text/tab-separated-values',
  md: 'text/markdown', html: 'text/html', htm: 'text/html', css: 'text/css', xml: 'application/xml',
  json: 'application/json', jsonl: 'application/jsonl', ndjson: 'application/x-ndjson',
  yaml: 'application/yaml', yml: 'application/yaml', toml: 'application/toml',
  js: 'text/javascript', mjs: 'text/javascript', ts: 'text/typescript', py: 'text/x-python',
  ipynb: 'application/x-ipynb+json', sql: 'application/sql', sh: 'application/x-sh',
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp',
  svg: 'image/svg+xml', bmp: 'image/bmp', ico: 'image/vnd.microsoft.icon', tif: 'image/tiff',
  tiff: 'image/tiff', avif: 'image/avif',
  mp3: 'audio/mpeg', wav: 'audio/wav', ogg: 'audio/ogg', flac: 'audio/flac',
  mp4: 'video/mp4', webm: 'video/webm', mov: 'video/quicktime',
  pdf: 'application/pdf', zip: 'application/zip', gz: 'application/gzip', tgz: 'application/gzip',
  tar: 'application/x-tar', bz2: 'application/x-bzip2', xz: 'application/x-xz', zst: 'application/zstd',
  wasm: 'application/wasm', parquet: 'application/vnd.apache.parquet', npy: 'application/x-npy',
  npz: 'application/x-npz', pkl: 'application/x-python-pickle', pickle: 'application/x-python-pickle',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', xls: 'application/vnd.ms-excel',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
}

/** MIME type for a file path by its extension (case-insensitive), or undefined. */
export function mimeTypeFor(path: string): string | undefined {
  const base = path.slice(path.lastIndexOf('/') + 1)
  const dot = base.lastIndexOf('.')
  if (dot <= 0) return undefined
  const ext = base.slice(dot + 1).toLowerCase()
  return Object.hasOwn(MIME_TYPES, ext) ? MIME_TYPES[ext] : undefined
}
