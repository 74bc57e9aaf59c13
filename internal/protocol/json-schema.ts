/**
 * JSON Schema (draft 2020-12) for input responses (semantics.md §26), validated by
 * @cfworker/json-schema (no dependencies; drafts 4 to 2020-12, formats included).
 * What stays here:
 * - the schema is checked when the input is submitted (json-schema-check.ts says why);
 * - lossless numbers (`JsonNumber`, json.ts) become plain numbers, which the library compares;
 * - errors are `{path, keyword}`, a JSON pointer into the value and the failing keyword, printed
 *   as `/age: type` (http-api.md §7, 422 `validation_failed`). The library reports every level
 *   (`properties` → `$ref` → `type`) and the failed branches of `anyOf`; `toValidationErrors`
 *   keeps what a form has to fix, with a missing property at its own path.
 */
import { dereference, format, validate, type OutputUnit, type Schema } from '@cfworker/json-schema'
import { JsonNumber, parseJson, type Json } from './json.ts'
import { checkReferences, checkSchema, InvalidSchemaError, isSchemaObject, mapSchema, type SchemaObject } from './json-schema-check.ts'

export { InvalidSchemaError } from './json-schema-check.ts'

export interface ValidationError {
  /** JSON pointer into the validated value (`''` = the value itself) */
  path: string
  keyword: string
}

/** Errors beyond this many are dropped: enough to fix a form, bounded for huge values. */
const MAX_ERRORS = 20

/** Keywords that report "a subschema failed" before the subschema's own errors. */
const WRAPPERS: ReadonlySet<string> = new Set([
  'properties', 'patternProperties', 'additionalProperties', 'unevaluatedProperties', 'items', 'prefixItems',
  'additionalItems', 'unevaluatedItems', '$ref', 'allOf', 'if', 'dependentSchemas',
])
/** Keywords that try subschemas: a failed try is not a problem of the value, only the keyword is. */
const PROBES: ReadonlySet<string> = new Set(['anyOf', 'oneOf', 'not', 'contains', 'propertyNames'])
/** Keywords followed in a keyword location by a property name or an index, not by a keyword. */
const NAMED: ReadonlySet<string> = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas', 'allOf', 'anyOf', 'oneOf', 'prefixItems'])

/** The library's messages that name a property (messages of @cfworker/json-schema 4.1.6, pinned). */
const MISSING = /^Instance does not have required property "(.*)"\.$/s
const MISSING_DEPENDENT = /^Instance has ".*" but does not have "(.*)"\.$/s
const BAD_NAME = /^Property name "(.*)" does not match schema\.$/s

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1')
}

/** `#/a%20b/0` (the library's URI fragment) → `/a b/0` */
function pointerOf(location: string): string {
  return decodeURI(location.slice(1)).replace(/%23/g, '#')
}

/** Whether a keyword location passes through a probe's subschema (`#/anyOf/0/type`). */
function isInsideProbe(location: string): boolean {
  const parts = location.split('/').slice(1)
  for (let i = 0; i < parts.length - 1; i++) {
    if (PROBES.has(parts[i]!)) return true
    if (NAMED.has(parts[i]!) || (parts[i] === 'items' && /^\d+$/.test(parts[i + 1]!))) i++
  }
  return false
}

function leaf(e: OutputUnit): ValidationError {
  const path = pointerOf(e.instanceLocation)
  const named = e.keyword === 'required' ? MISSING : e.keyword === 'dependentRequired' ? MISSING_DEPENDENT : e.keyword === 'propertyNames' ? BAD_NAME : null
  const name = named?.exec(e.error)?.[1]
  return { path: name === undefined ? path : `${path}/${escapePointer(name)}`, keyword: e.keyword }
}

/** The library's output units as the problems a form shows. */
function toValidationErrors(units: readonly OutputUnit[]): ValidationError[] {
  const out: ValidationError[] = []
  let wrapper: OutputUnit | null = null
  for (const [i, e] of units.entries()) {
    const parent = wrapper
    wrapper = null
    if (e.keyword === 'false') {
      // a `false` subschema is reported under the keyword that led to it (`items`, `additionalProperties`)
      if (parent) out.push({ path: pointerOf(e.instanceLocation), keyword: parent.keyword === 'if' ? (/"then"/.test(parent.error) ? 'then' : 'else') : parent.keyword })
      else if (i === 0) out.push({ path: '', keyword: 'false' })
    } else if (!isInsideProbe(e.keywordLocation)) {
      if (WRAPPERS.has(e.keyword)) wrapper = e
      else out.push(leaf(e))
    }
    if (out.length === MAX_ERRORS) break
  }
  return out
}

/** Plain numbers for the library; formats it does not know are annotations, so they are dropped. */
function toPlain(node: Json): Json {
  if (node instanceof JsonNumber) return Number(node.text)
  if (Array.isArray(node)) return node.map(toPlain)
  if (!isSchemaObject(node)) return node
  const out: SchemaObject = {}
  for (const [key, value] of Object.entries(node)) {
    Object.defineProperty(out, key, { value: toPlain(value), enumerable: true, writable: true, configurable: true })
  }
  return out
}

function withKnownFormats(s: SchemaObject): SchemaObject {
  if (typeof s.format === 'string' && !Object.hasOwn(format, s.format)) delete s.format
  return s
}

/** A checked schema, ready to validate values. */
export class JsonSchema {
  readonly #root: Json
  readonly #schema: Schema | boolean
  readonly #lookup: Record<string, Schema | boolean>

  private constructor(root: Json) {
    this.#root = root
    this.#schema = mapSchema(toPlain(root), withKnownFormats) as Schema | boolean
    try {
      this.#lookup = dereference(this.#schema)
    } catch (err) {
      // `$id`s that name the same URI twice
      throw new InvalidSchemaError((err as Error).message)
    }
    checkReferences(this.#schema as Json, this.#lookup)
  }

  /** Checks a parsed schema; throws InvalidSchemaError with the reason. */
  static from(root: Json): JsonSchema {
    checkSchema(root)
    return new JsonSchema(root)
  }

  /** Parses and checks schema text (an input's `schema`, executor-protocol.md §6.9). */
  static parse(text: string): JsonSchema {
    let root: Json
    try {
      root = parseJson(text)
    } catch (err) {
      throw new InvalidSchemaError(`not valid JSON (${(err as Error).message})`)
    }
    return JsonSchema.from(root)
  }

  /** Every problem with `value` (none = valid), at most 20. */
  validate(value: unknown): ValidationError[] {
    const result = validate(toPlain(value as Json), this.#schema, '2020-12', this.#lookup, false)
    return result.valid ? [] : toValidationErrors(result.errors)
  }

  /** The same schema without any `required`: what a pre-filled partial form must satisfy. */
  withoutRequired(): JsonSchema {
    return new JsonSchema(
      mapSchema(this.#root, (s) => {
        delete s.required
        delete s.dependentRequired
        return s
      }),
    )
  }
}

/** `/age: type; /name: required` (the root is shown as `/`). */
export function describeErrors(errors: readonly ValidationError[]): string {
  return errors.map((e) => `${e.path || '/'}: ${e.keyword}`).join('; ')
}
