/**
 * Checking an input's JSON Schema once, when the input is submitted (`invalid_schema: <reason>`,
 * semantics.md §26), so validating a response later never meets a malformed keyword.
 *
 * Kept here rather than left to @cfworker/json-schema, which validates values but trusts its
 * schema: a bad `pattern` or an unresolvable `$ref` throws only while a response is being
 * validated (a 500 to whoever answers the form), `type: "int"` silently never matches, and a
 * `$ref` cycle that never reaches into the value overflows the stack. Checking the schema against
 * the 2020-12 meta-schema would not catch the regexes, the references or the cycles either, and
 * would word its reasons for the meta-schema, not for the person who wrote the form.
 */
import { JsonNumber, toNumber, type Json } from './json.ts'

/** A schema that is not valid JSON Schema; `message` is the reason. */
export class InvalidSchemaError extends Error {
  override readonly name = 'InvalidSchemaError'
}

export type SchemaObject = { [key: string]: Json }

const TYPES: ReadonlySet<string> = new Set(['null', 'boolean', 'object', 'array', 'number', 'string', 'integer'])

/** Keywords whose value is one subschema (`items` may also be a draft-07 list), a map of them, or a list of them. */
const SCHEMA_KEYWORDS = ['additionalProperties', 'propertyNames', 'items', 'additionalItems', 'contains', 'not', 'if', 'then', 'else', 'unevaluatedItems', 'unevaluatedProperties']
const SCHEMA_MAP_KEYWORDS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']
const SCHEMA_LIST_KEYWORDS = ['allOf', 'anyOf', 'oneOf', 'prefixItems']
const COUNT_KEYWORDS = ['minLength', 'maxLength', 'minItems', 'maxItems', 'minProperties', 'maxProperties', 'minContains', 'maxContains']
const NUMBER_KEYWORDS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum']

/** Nesting of schemas beyond this is refused rather than overflowing the stack. */
const MAX_DEPTH = 256

export function isSchemaObject(v: unknown): v is SchemaObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof JsonNumber)
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1')
}

function isRegex(source: unknown): boolean {
  try {
    new RegExp(source as string, 'u')
    return typeof source === 'string'
  } catch {
    return false
  }
}

/** Each direct subschema of `node` with its JSON pointer, keyword by keyword. */
export function* subschemas(node: SchemaObject, at: string): Generator<[Json, string, string]> {
  const sub = (key: string) => `${at}/${escapePointer(key)}`
  for (const key of SCHEMA_KEYWORDS) {
    const value = node[key]
    if (value === undefined) continue
    if (key === 'items' && Array.isArray(value)) for (const [i, s] of value.entries()) yield [s, `${sub(key)}/${i}`, key]
    else yield [value, sub(key), key]
  }
  for (const key of SCHEMA_MAP_KEYWORDS) {
    if (isSchemaObject(node[key])) for (const [name, s] of Object.entries(node[key])) yield [s, `${sub(key)}/${escapePointer(name)}`, key]
  }
  for (const key of SCHEMA_LIST_KEYWORDS) {
    const value = node[key]
    if (Array.isArray(value)) for (const [i, s] of value.entries()) yield [s, `${sub(key)}/${i}`, key]
  }
}

/** A copy of a schema with `change` applied to every schema object in it, innermost first. */
export function mapSchema(node: Json, change: (s: SchemaObject) => SchemaObject): Json {
  if (!isSchemaObject(node)) return node
  const out: SchemaObject = {}
  // defineProperty: a key named `__proto__` stays an ordinary key
  const set = (key: string, value: Json) => Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
  for (const [key, value] of Object.entries(node)) {
    if (SCHEMA_KEYWORDS.includes(key)) set(key, Array.isArray(value) ? value.map((s) => mapSchema(s, change)) : mapSchema(value, change))
    else if (SCHEMA_MAP_KEYWORDS.includes(key) && isSchemaObject(value)) {
      const map: SchemaObject = {}
      for (const [name, s] of Object.entries(value)) {
        Object.defineProperty(map, name, { value: mapSchema(s, change), enumerable: true, writable: true, configurable: true })
      }
      set(key, map)
    } else if (SCHEMA_LIST_KEYWORDS.includes(key) && Array.isArray(value)) set(key, value.map((s) => mapSchema(s, change)))
    else set(key, value)
  }
  return change(out)
}

/** Throws InvalidSchemaError for the first malformed keyword (references are checked by `checkReferences`). */
export function checkSchema(node: Json, at = '', depth = 0): void {
  const fail = (problem: string, where = at): never => {
    throw new InvalidSchemaError(where ? `${problem} at ${where}` : problem)
  }
  if (depth > MAX_DEPTH) fail('schema is nested too deeply')
  if (typeof node === 'boolean') return
  if (!isSchemaObject(node)) return fail('a schema must be an object or a boolean')
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
    if (!isSchemaObject(node.dependentRequired)) fail('dependentRequired must be an object', sub('dependentRequired'))
    for (const list of Object.values(node.dependentRequired as SchemaObject)) {
      if (!Array.isArray(list) || list.some((r) => typeof r !== 'string')) fail('dependentRequired values must be lists of strings', sub('dependentRequired'))
    }
  }
  for (const key of COUNT_KEYWORDS) {
    const n = toNumber(node[key])
    if (node[key] !== undefined && !(n !== undefined && Number.isInteger(n) && n >= 0)) fail(`${key} must be a non-negative integer`, sub(key))
  }
  for (const key of NUMBER_KEYWORDS) {
    if (node[key] !== undefined && toNumber(node[key]) === undefined) fail(`${key} must be a number`, sub(key))
  }
  if (node.multipleOf !== undefined && !((toNumber(node.multipleOf) ?? 0) > 0)) fail('multipleOf must be a number greater than 0', sub('multipleOf'))
  if (node.uniqueItems !== undefined && typeof node.uniqueItems !== 'boolean') fail('uniqueItems must be a boolean', sub('uniqueItems'))
  if (node.format !== undefined && typeof node.format !== 'string') fail('format must be a string', sub('format'))
  if (node.pattern !== undefined && !isRegex(node.pattern)) fail('pattern must be a valid regular expression', sub('pattern'))
  if (node.$ref !== undefined && typeof node.$ref !== 'string') fail('$ref must be a string', sub('$ref'))
  if (node.$id !== undefined && typeof node.$id !== 'string') fail('$id must be a string', sub('$id'))

  for (const key of SCHEMA_MAP_KEYWORDS) {
    if (node[key] === undefined) continue
    if (!isSchemaObject(node[key])) fail(`${key} must be an object`, sub(key))
    if (key !== 'patternProperties') continue
    for (const name of Object.keys(node[key] as SchemaObject)) {
      if (!isRegex(name)) fail(`patternProperties key ${JSON.stringify(name)} is not a valid regular expression`, sub(key))
    }
  }
  for (const key of SCHEMA_LIST_KEYWORDS) {
    const value = node[key]
    if (value !== undefined && (!Array.isArray(value) || value.length === 0)) fail(`${key} must be a non-empty list of schemas`, sub(key))
  }
  for (const [s, where] of subschemas(node, at)) checkSchema(s, where, depth + 1)
}

/**
 * Every `$ref` must name a schema in this document, as the validator resolves it (`lookup`, keyed
 * by absolute URI), and no chain of references may come back to where it started without
 * stepping into the value: validating would never end.
 */
export function checkReferences(root: Json, lookup: Record<string, unknown>): void {
  const target = (node: SchemaObject): unknown => lookup[(node as { __absolute_ref__?: string }).__absolute_ref__ ?? '']
  /** Subschemas applied to the same value as `node` itself. */
  const inPlace = (node: SchemaObject): unknown[] => {
    const out: unknown[] = typeof node.$ref === 'string' ? [target(node)] : []
    for (const key of ['not', 'if', 'then', 'else']) if (node[key] !== undefined) out.push(node[key])
    for (const key of ['allOf', 'anyOf', 'oneOf']) if (Array.isArray(node[key])) out.push(...node[key])
    if (isSchemaObject(node.dependentSchemas)) out.push(...Object.values(node.dependentSchemas))
    return out
  }
  const done = new Set<unknown>()
  const open = new Set<unknown>()
  const loops = (node: unknown): boolean => {
    if (!isSchemaObject(node) || done.has(node)) return false
    if (open.has(node)) return true
    open.add(node)
    const found = inPlace(node).some(loops)
    open.delete(node)
    done.add(node)
    return found
  }
  const walk = (node: Json, at: string): void => {
    if (!isSchemaObject(node)) return
    if (typeof node.$ref === 'string' && target(node) === undefined) {
      throw new InvalidSchemaError(`$ref ${JSON.stringify(node.$ref)} does not point into this schema at ${at}/$ref`)
    }
    if (loops(node)) throw new InvalidSchemaError(`$ref cycle that never steps into the value at ${at || '/'}`)
    for (const [s, where] of subschemas(node, at)) walk(s, where)
  }
  walk(root, '')
}
