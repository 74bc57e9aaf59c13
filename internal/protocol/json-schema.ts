/**
 * JSON Schema (draft 2020-12) for input responses (semantics.md §26): the subset real prompt
 * schemas use — what Pydantic's `model_json_schema()` and hand-written form schemas contain.
 *
 * - Checked once when an input is submitted (`invalid_schema: <reason>`), so validating a
 *   response later never meets a malformed keyword.
 * - Supported: `type` (also `integer`, and lists such as `["string", "null"]`), `enum`, `const`,
 *   `properties`, `required`, `additionalProperties`, `patternProperties`, `propertyNames`,
 *   `min/maxProperties`, `dependentRequired`, `items`, `prefixItems`, `contains`,
 *   `min/maxItems`, `uniqueItems`, `min/maxLength`, `pattern`, `format` (known formats, see
 *   json-schema-formats.ts), `minimum`, `maximum`, `exclusiveMinimum/Maximum`, `multipleOf`,
 *   `allOf`, `anyOf`, `oneOf`, `not`, `if/then/else`, and `$ref` into the same document
 *   (`#`, `#/$defs/…`, `#/definitions/…`, any JSON pointer). Annotations and unknown keywords
 *   are ignored, as the specification says.
 * - Errors are `{path, keyword}` — a JSON pointer into the value and the failing keyword —
 *   printed as `/age: type` (http-api.md §7, 422 `validation_failed`).
 */
import { JsonNumber, parseJson, toNumber, type Json } from './json.ts'
import { matchesFormat } from './json-schema-formats.ts'

/** A schema that is not valid JSON Schema; `message` is the reason. */
export class InvalidSchemaError extends Error {
  override readonly name = 'InvalidSchemaError'
}

export interface ValidationError {
  /** JSON pointer into the validated value (`''` = the value itself) */
  path: string
  keyword: string
}

const TYPES: ReadonlySet<string> = new Set(['null', 'boolean', 'object', 'array', 'number', 'string', 'integer'])

/** Keywords whose value is one subschema, a map of them, or a list of them. */
const SCHEMA_KEYWORDS = [
  'additionalProperties',
  'propertyNames',
  'items',
  'additionalItems',
  'contains',
  'not',
  'if',
  'then',
  'else',
  'unevaluatedItems',
  'unevaluatedProperties',
]
const SCHEMA_MAP_KEYWORDS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']
const SCHEMA_LIST_KEYWORDS = ['allOf', 'anyOf', 'oneOf', 'prefixItems']
const COUNT_KEYWORDS = ['minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties', 'minContains', 'maxContains']
const NUMBER_KEYWORDS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum']

/** Errors beyond this many are dropped: enough to fix a form, bounded for huge values. */
const MAX_ERRORS = 20
/** Nesting of schemas (and of `$ref` hops) beyond this is refused rather than overflowing the stack. */
const MAX_DEPTH = 256

type SchemaObject = { [key: string]: Json }

function isObject(v: unknown): v is SchemaObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof JsonNumber)
}

function isNumber(v: unknown): boolean {
  return typeof v === 'number' || v instanceof JsonNumber
}

function isCount(v: unknown): boolean {
  const n = toNumber(v)
  return n !== undefined && Number.isInteger(n) && n >= 0
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1')
}

function compileRegex(source: string): RegExp | null {
  try {
    return new RegExp(source, 'u')
  } catch {
    return null
  }
}

/** Resolves a `$ref` within the document, or undefined. */
function resolveRef(root: Json, ref: string): Json | undefined {
  if (!ref.startsWith('#')) return undefined
  let fragment: string
  try {
    fragment = decodeURIComponent(ref.slice(1))
  } catch {
    return undefined
  }
  if (fragment === '') return root
  if (!fragment.startsWith('/')) return undefined // named anchors are not supported
  let node: Json | undefined = root
  for (const raw of fragment.slice(1).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (Array.isArray(node) && /^(0|[1-9]\d*)$/.test(token)) node = node[Number(token)]
    else if (isObject(node) && Object.hasOwn(node, token)) node = node[token]
    else return undefined
  }
  return node
}

// ---------------------------------------------------------------------------------------------
// Checking a schema

function checkSchema(root: Json, node: Json, at: string, depth: number): void {
  const fail = (problem: string, where = at): never => {
    throw new InvalidSchemaError(where ? `${problem} at ${where}` : problem)
  }
  if (depth > MAX_DEPTH) fail('schema is nested too deeply')
  if (typeof node === 'boolean') return
  if (!isObject(node)) return fail('a schema must be an object or a boolean')
  const sub = (key: string) => `${at}/${escapePointer(key)}`

  if (node.type !== undefined) {
    const types = Array.isArray(node.type) ? node.type : [node.type]
    if (types.length === 0) fail('type must not be an empty list', sub('type'))
    for (const t of types) {
      if (typeof t !== 'string') fail('type must be a string or a list of strings', sub('type'))
      if (!TYPES.has(t as string)) fail(`unknown type ${JSON.stringify(t)}`, sub('type'))
    }
    if (new Set(types).size !== types.length) fail('type lists a type twice', sub('type'))
  }
  if (node.enum !== undefined && !Array.isArray(node.enum)) fail('enum must be a list', sub('enum'))
  if (node.required !== undefined && (!Array.isArray(node.required) || node.required.some((r) => typeof r !== 'string'))) {
    fail('required must be a list of strings', sub('required'))
  }
  if (node.dependentRequired !== undefined) {
    if (!isObject(node.dependentRequired)) fail('dependentRequired must be an object', sub('dependentRequired'))
    for (const list of Object.values(node.dependentRequired as SchemaObject)) {
      if (!Array.isArray(list) || list.some((r) => typeof r !== 'string')) fail('dependentRequired values must be lists of strings', sub('dependentRequired'))
    }
  }
  for (const key of COUNT_KEYWORDS) {
    if (node[key] !== undefined && !isCount(node[key])) fail(`${key} must be a non-negative integer`, sub(key))
  }
  for (const key of NUMBER_KEYWORDS) {
    if (node[key] !== undefined && !isNumber(node[key])) fail(`${key} must be a number`, sub(key))
  }
  if (node.multipleOf !== undefined && !(isNumber(node.multipleOf) && toNumber(node.multipleOf)! > 0)) {
    fail('multipleOf must be a number greater than 0', sub('multipleOf'))
  }
  if (node.uniqueItems !== undefined && typeof node.uniqueItems !== 'boolean') fail('uniqueItems must be a boolean', sub('uniqueItems'))
  if (node.format !== undefined && typeof node.format !== 'string') fail('format must be a string', sub('format'))
  if (node.pattern !== undefined && (typeof node.pattern !== 'string' || !compileRegex(node.pattern))) {
    fail('pattern must be a valid regular expression', sub('pattern'))
  }
  if (node.$ref !== undefined) {
    if (typeof node.$ref !== 'string') fail('$ref must be a string', sub('$ref'))
    const target = resolveRef(root, node.$ref as string)
    if (target === undefined) fail(`$ref ${JSON.stringify(node.$ref)} does not point into this schema`, sub('$ref'))
    if (typeof target !== 'boolean' && !isObject(target)) fail(`$ref ${JSON.stringify(node.$ref)} does not point at a schema`, sub('$ref'))
  }

  for (const key of SCHEMA_KEYWORDS) {
    const value = node[key]
    if (value === undefined) continue
    // draft-07 tuple form `items: [...]` is accepted and read as `prefixItems`
    if (key === 'items' && Array.isArray(value)) value.forEach((s, i) => checkSchema(root, s, `${sub(key)}/${i}`, depth + 1))
    else checkSchema(root, value, sub(key), depth + 1)
  }
  for (const key of SCHEMA_MAP_KEYWORDS) {
    const value = node[key]
    if (value === undefined) continue
    if (!isObject(value)) fail(`${key} must be an object`, sub(key))
    for (const [name, s] of Object.entries(value as SchemaObject)) {
      if (key === 'patternProperties' && !compileRegex(name)) fail(`patternProperties key ${JSON.stringify(name)} is not a valid regular expression`, sub(key))
      checkSchema(root, s, `${sub(key)}/${escapePointer(name)}`, depth + 1)
    }
  }
  for (const key of SCHEMA_LIST_KEYWORDS) {
    const value = node[key]
    if (value === undefined) continue
    if (!Array.isArray(value) || value.length === 0) fail(`${key} must be a non-empty list of schemas`, sub(key))
    ;(value as Json[]).forEach((s, i) => checkSchema(root, s, `${sub(key)}/${i}`, depth + 1))
  }
}

/** A copy of a schema with every `required` (and `dependentRequired`) removed: a partial form. */
function stripRequired(node: Json): Json {
  if (!isObject(node)) return node
  const out: SchemaObject = {}
  for (const [key, value] of Object.entries(node)) {
    if (key === 'required' || key === 'dependentRequired') continue
    let copy: Json = value
    if (SCHEMA_KEYWORDS.includes(key)) copy = Array.isArray(value) ? value.map(stripRequired) : stripRequired(value)
    else if (SCHEMA_MAP_KEYWORDS.includes(key) && isObject(value)) {
      copy = Object.fromEntries(Object.entries(value).map(([k, s]) => [k, stripRequired(s)]))
    } else if (SCHEMA_LIST_KEYWORDS.includes(key) && Array.isArray(value)) copy = value.map(stripRequired)
    Object.defineProperty(out, key, { value: copy, enumerable: true, writable: true, configurable: true })
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// Validating a value

function typeOf(v: unknown): string {
  if (v === null) return 'null'
  if (typeof v === 'boolean') return 'boolean'
  if (isNumber(v)) return 'number'
  if (typeof v === 'string') return 'string'
  if (Array.isArray(v)) return 'array'
  return 'object'
}

function hasType(v: unknown, type: string): boolean {
  const actual = typeOf(v)
  if (type === 'integer') return actual === 'number' && Number.isInteger(toNumber(v))
  return actual === type
}

/** JSON equality: numbers by value (`1` = `1.0`), objects regardless of key order. */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (isNumber(a) && isNumber(b)) return toNumber(a) === toNumber(b)
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]))
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a)
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]))
  }
  return a === b
}

function isMultiple(value: number, of: number): boolean {
  const q = value / of
  if (!Number.isFinite(q)) return false
  // relative tolerance: 0.3 is a multiple of 0.1 although 0.3 / 0.1 = 2.9999999999999996
  return Math.abs(q - Math.round(q)) <= 1e-9 * Math.max(1, Math.abs(q))
}

class Validation {
  readonly errors: ValidationError[] = []
  readonly #root: Json
  readonly #regexes: Map<string, RegExp>
  /**
   * `$ref` targets being applied, with the value paths they are applied at: re-entering one at
   * the same path is a cycle that consumes nothing of the value and would never end.
   */
  readonly #active: Map<object, Set<string>>

  constructor(root: Json, regexes: Map<string, RegExp>, active: Map<object, Set<string>> = new Map()) {
    this.#root = root
    this.#regexes = regexes
    this.#active = active
  }

  #regex(source: string): RegExp {
    let re = this.#regexes.get(source)
    if (!re) this.#regexes.set(source, (re = compileRegex(source)!))
    return re
  }

  #fail(path: string, keyword: string): void {
    if (this.errors.length < MAX_ERRORS) this.errors.push({ path, keyword })
  }

  /** Whether the value passes, without reporting (for anyOf, oneOf, not, contains, if). */
  #passes(schema: Json, value: unknown, path: string, depth: number): boolean {
    const probe = new Validation(this.#root, this.#regexes, this.#active)
    probe.apply(schema, value, path, 'false', depth)
    return probe.errors.length === 0
  }

  /** Applies a subschema; a `false` one is reported under the keyword that led to it. */
  apply(schema: Json, value: unknown, path: string, keyword: string, depth: number): void {
    if (schema === true) return
    if (schema === false || !isObject(schema)) return this.#fail(path, keyword)
    if (depth > MAX_DEPTH) return this.#fail(path, '$ref')
    this.#object(schema, value, path, depth)
  }

  #object(s: SchemaObject, value: unknown, path: string, depth: number): void {
    if (typeof s.$ref === 'string') this.#ref(s.$ref, value, path, depth)
    if (s.type !== undefined) {
      const types = (Array.isArray(s.type) ? s.type : [s.type]) as string[]
      if (!types.some((t) => hasType(value, t))) this.#fail(path, 'type')
    }
    if (s.enum !== undefined && !(s.enum as Json[]).some((e) => jsonEqual(e, value))) this.#fail(path, 'enum')
    if (s.const !== undefined && !jsonEqual(s.const, value)) this.#fail(path, 'const')
    if (isNumber(value)) this.#number(s, toNumber(value)!, path)
    else if (typeof value === 'string') this.#string(s, value, path)
    else if (Array.isArray(value)) this.#array(s, value, path, depth)
    else if (isObject(value)) this.#properties(s, value, path, depth)
    this.#combinators(s, value, path, depth)
  }

  #ref(ref: string, value: unknown, path: string, depth: number): void {
    const target = resolveRef(this.#root, ref)!
    if (typeof target !== 'object' || target === null) return this.apply(target, value, path, '$ref', depth + 1)
    let paths = this.#active.get(target)
    if (!paths) this.#active.set(target, (paths = new Set()))
    if (paths.has(path)) return
    paths.add(path)
    try {
      this.apply(target, value, path, '$ref', depth + 1)
    } finally {
      paths.delete(path)
    }
  }

  #number(s: SchemaObject, n: number, path: string): void {
    const bound = (k: string) => (s[k] === undefined ? undefined : toNumber(s[k])!)
    const min = bound('minimum')
    const max = bound('maximum')
    const exMin = bound('exclusiveMinimum')
    const exMax = bound('exclusiveMaximum')
    const of = bound('multipleOf')
    if (min !== undefined && n < min) this.#fail(path, 'minimum')
    if (max !== undefined && n > max) this.#fail(path, 'maximum')
    if (exMin !== undefined && n <= exMin) this.#fail(path, 'exclusiveMinimum')
    if (exMax !== undefined && n >= exMax) this.#fail(path, 'exclusiveMaximum')
    if (of !== undefined && !isMultiple(n, of)) this.#fail(path, 'multipleOf')
  }

  #string(s: SchemaObject, text: string, path: string): void {
    // lengths count code points, not UTF-16 units
    const length = s.minLength !== undefined || s.maxLength !== undefined ? [...text].length : 0
    if (s.minLength !== undefined && length < toNumber(s.minLength)!) this.#fail(path, 'minLength')
    if (s.maxLength !== undefined && length > toNumber(s.maxLength)!) this.#fail(path, 'maxLength')
    if (typeof s.pattern === 'string' && !this.#regex(s.pattern).test(text)) this.#fail(path, 'pattern')
    if (typeof s.format === 'string' && !matchesFormat(s.format, text)) this.#fail(path, 'format')
  }

  #array(s: SchemaObject, items: unknown[], path: string, depth: number): void {
    if (s.minItems !== undefined && items.length < toNumber(s.minItems)!) this.#fail(path, 'minItems')
    if (s.maxItems !== undefined && items.length > toNumber(s.maxItems)!) this.#fail(path, 'maxItems')
    if (s.uniqueItems === true && items.some((x, i) => items.findIndex((y) => jsonEqual(x, y)) !== i)) this.#fail(path, 'uniqueItems')
    const prefix = (Array.isArray(s.prefixItems) ? s.prefixItems : Array.isArray(s.items) ? s.items : []) as Json[]
    const rest = Array.isArray(s.items) ? s.additionalItems : s.items
    const restKeyword = Array.isArray(s.items) ? 'additionalItems' : 'items'
    items.forEach((item, i) => {
      if (i < prefix.length) this.apply(prefix[i]!, item, `${path}/${i}`, 'prefixItems', depth + 1)
      else if (rest !== undefined) this.apply(rest, item, `${path}/${i}`, restKeyword, depth + 1)
    })
    if (s.contains !== undefined) {
      const matches = items.filter((item, i) => this.#passes(s.contains!, item, `${path}/${i}`, depth + 1)).length
      const least = s.minContains !== undefined ? toNumber(s.minContains)! : 1
      if (matches < least) this.#fail(path, 'contains')
      if (s.maxContains !== undefined && matches > toNumber(s.maxContains)!) this.#fail(path, 'maxContains')
    }
  }

  #properties(s: SchemaObject, value: SchemaObject, path: string, depth: number): void {
    const keys = Object.keys(value)
    if (s.minProperties !== undefined && keys.length < toNumber(s.minProperties)!) this.#fail(path, 'minProperties')
    if (s.maxProperties !== undefined && keys.length > toNumber(s.maxProperties)!) this.#fail(path, 'maxProperties')
    // a missing property is reported at its own path: the field a form has to fill in
    for (const name of (s.required ?? []) as string[]) {
      if (!Object.hasOwn(value, name)) this.#fail(`${path}/${escapePointer(name)}`, 'required')
    }
    if (isObject(s.dependentRequired)) {
      for (const [name, needs] of Object.entries(s.dependentRequired)) {
        if (!Object.hasOwn(value, name)) continue
        for (const need of needs as string[]) {
          if (!Object.hasOwn(value, need)) this.#fail(`${path}/${escapePointer(need)}`, 'dependentRequired')
        }
      }
    }
    const properties = isObject(s.properties) ? s.properties : {}
    const patterns = isObject(s.patternProperties) ? Object.entries(s.patternProperties) : []
    for (const key of keys) {
      const at = `${path}/${escapePointer(key)}`
      let evaluated = false
      if (Object.hasOwn(properties, key)) {
        evaluated = true
        this.apply(properties[key]!, value[key], at, 'properties', depth + 1)
      }
      for (const [pattern, schema] of patterns) {
        if (!this.#regex(pattern).test(key)) continue
        evaluated = true
        this.apply(schema, value[key], at, 'patternProperties', depth + 1)
      }
      if (!evaluated && s.additionalProperties !== undefined) this.apply(s.additionalProperties, value[key], at, 'additionalProperties', depth + 1)
      if (s.propertyNames !== undefined && !this.#passes(s.propertyNames, key, at, depth + 1)) this.#fail(at, 'propertyNames')
    }
    if (isObject(s.dependentSchemas)) {
      for (const [name, schema] of Object.entries(s.dependentSchemas)) {
        if (Object.hasOwn(value, name)) this.apply(schema, value, path, 'dependentSchemas', depth + 1)
      }
    }
  }

  #combinators(s: SchemaObject, value: unknown, path: string, depth: number): void {
    if (Array.isArray(s.allOf)) for (const sub of s.allOf) this.apply(sub, value, path, 'allOf', depth + 1)
    if (Array.isArray(s.anyOf) && !s.anyOf.some((sub) => this.#passes(sub, value, path, depth + 1))) this.#fail(path, 'anyOf')
    if (Array.isArray(s.oneOf) && s.oneOf.filter((sub) => this.#passes(sub, value, path, depth + 1)).length !== 1) this.#fail(path, 'oneOf')
    if (s.not !== undefined && this.#passes(s.not, value, path, depth + 1)) this.#fail(path, 'not')
    if (s.if !== undefined) {
      const branch = this.#passes(s.if, value, path, depth + 1) ? s.then : s.else
      if (branch !== undefined) this.apply(branch, value, path, branch === s.then ? 'then' : 'else', depth + 1)
    }
  }
}

// ---------------------------------------------------------------------------------------------

/** A checked schema, ready to validate values. */
export class JsonSchema {
  readonly #root: Json
  readonly #regexes = new Map<string, RegExp>()

  private constructor(root: Json) {
    this.#root = root
  }

  /** Checks a parsed schema; throws InvalidSchemaError with the reason. */
  static from(root: Json): JsonSchema {
    checkSchema(root, root, '', 0)
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
    const v = new Validation(this.#root, this.#regexes)
    v.apply(this.#root, value, '', 'false', 0)
    return v.errors
  }

  /** The same schema without any `required`: what a pre-filled partial form must satisfy. */
  withoutRequired(): JsonSchema {
    return new JsonSchema(stripRequired(this.#root))
  }
}

/** `/age: type; /name: required` (the root is shown as `/`). */
export function describeErrors(errors: readonly ValidationError[]): string {
  return errors.map((e) => `${e.path || '/'}: ${e.keyword}`).join('; ')
}
