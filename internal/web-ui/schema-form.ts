/**
 * Forms built from an input's JSON Schema (semantics.md §26): the fields a schema describes, and
 * the value read back from the form. Objects become fieldsets, strings, numbers, integers,
 * booleans and enums become inputs; anything else (arrays, unions) is edited as JSON text. The
 * value is then checked with the server's own validator (protocol/json-schema.ts).
 */
import { isJsonObject, parseJson, stringifyJson, toNumber, type Json } from '../protocol/json.ts'

type Scalar = 'string' | 'number' | 'integer' | 'boolean'

interface FieldBase {
  /** JSON pointer of the value (`''` for the root); also the form control's name */
  pointer: string
  label: string
  description: string | null
  isRequired: boolean
  /** `anyOf: [X, {type: null}]`: an empty field means null */
  isNullable: boolean
}

export type Field =
  | (FieldBase & { kind: Scalar; options: Json[] | null; initial: Json | undefined; format: string | null })
  | (FieldBase & { kind: 'object'; fields: Field[] })
  | (FieldBase & { kind: 'json'; initial: Json | undefined })

type Schema = { [key: string]: Json }

function schemaOf(raw: Json | undefined): Schema {
  return isJsonObject(raw) ? raw : {}
}

/** `anyOf`/`oneOf` of one schema and `null` (Pydantic's `X | None`). */
function unwrapNullable(s: Schema): { schema: Schema; isNullable: boolean } {
  const branches = Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : null
  if (!branches) return { schema: s, isNullable: Array.isArray(s.type) && s.type.includes('null') && s.type.length === 2 }
  const others = branches.filter((b) => !(isJsonObject(b) && b.type === 'null'))
  if (others.length === 1 && branches.length === 2) return { schema: { ...s, ...schemaOf(others[0]), anyOf: null, oneOf: null }, isNullable: true }
  return { schema: s, isNullable: false }
}

function typeOf(s: Schema): string | null {
  if (typeof s.type === 'string') return s.type
  if (Array.isArray(s.type)) {
    const types = s.type.filter((t) => t !== 'null')
    return types.length === 1 && typeof types[0] === 'string' ? types[0] : null
  }
  if (isJsonObject(s.properties)) return 'object'
  if (Array.isArray(s.enum) && s.enum.every((v) => typeof v === 'string')) return 'string'
  return null
}

function at(value: Json | undefined, key: string): Json | undefined {
  return isJsonObject(value) && Object.hasOwn(value, key) ? value[key] : undefined
}

function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1')
}

/**
 * The fields of `schema` (parsed JSON Schema; null means any JSON value), pre-filled from
 * `initial` (the input's initial value) or the schema's defaults.
 *
 * @example
 * schemaFields({ type: 'object', properties: { age: { type: 'integer' } }, required: ['age'] }, null)
 * // { kind: 'object', fields: [{ kind: 'integer', pointer: '/age', label: 'age', isRequired: true, … }], … }
 */
export function schemaFields(schema: Json | null, initial: Json | undefined): Field {
  return fieldOf(schemaOf(schema ?? {}), '', 'Response', true, initial, 0)
}

function fieldOf(raw: Schema, pointer: string, name: string, isRequired: boolean, initial: Json | undefined, depth: number): Field {
  const { schema: s, isNullable } = unwrapNullable(raw)
  const base: FieldBase = {
    pointer,
    label: typeof s.title === 'string' ? s.title : name,
    description: typeof s.description === 'string' ? s.description : null,
    isRequired,
    isNullable,
  }
  const value = initial !== undefined ? initial : s.default
  const type = typeOf(s)
  if (type === 'object' && isJsonObject(s.properties) && depth < 8) {
    const required = new Set(Array.isArray(s.required) ? s.required.filter((r): r is string => typeof r === 'string') : [])
    const fields = Object.entries(s.properties).map(([key, child]) =>
      fieldOf(schemaOf(child), `${pointer}/${escapePointer(key)}`, key, required.has(key), at(value, key), depth + 1),
    )
    return { ...base, kind: 'object', fields }
  }
  if (type === 'string' || type === 'number' || type === 'integer' || type === 'boolean') {
    const options = Array.isArray(s.enum) ? s.enum : s.const !== undefined ? [s.const] : null
    return { ...base, kind: type, options, initial: value, format: typeof s.format === 'string' ? s.format : null }
  }
  return { ...base, kind: 'json', initial: value }
}

/** The text a control starts with. */
export function initialText(field: Field): string {
  if (field.kind === 'object' || field.initial === undefined || field.initial === null) return ''
  if (field.kind === 'json') return stringifyJson(field.initial, { indent: 2 })
  return typeof field.initial === 'string' ? field.initial : stringifyJson(field.initial)
}

/** A control that cannot be read as its type; the form shows `message` under it. */
export class FieldError extends Error {
  override readonly name = 'FieldError'
  constructor(
    readonly pointer: string,
    message: string,
  ) {
    super(message)
  }
}

/**
 * The value the form holds. `read(pointer)` gives a control's text (checkboxes: `'true'` or
 * `''`); empty optional fields are left out, empty nullable ones are null.
 */
export function formValue(field: Field, read: (pointer: string) => string): Json | undefined {
  if (field.kind === 'object') {
    const out: { [key: string]: Json } = {}
    for (const child of field.fields) {
      const v = formValue(child, read)
      if (v !== undefined) out[child.pointer.slice(field.pointer.length + 1).replace(/~1/g, '/').replace(/~0/g, '~')] = v
    }
    return out
  }
  const text = read(field.pointer)
  if (field.kind === 'boolean') return text === 'true'
  if (text.trim() === '') {
    if (field.isNullable) return null
    return field.kind === 'string' && field.isRequired ? '' : undefined
  }
  switch (field.kind) {
    case 'string':
      return field.options ? (field.options.find((o) => optionText(o) === text) ?? text) : text
    case 'number':
    case 'integer': {
      if (field.options) return field.options.find((o) => optionText(o) === text) ?? null
      try {
        const n = parseJson(text.trim())
        if (toNumber(n) === undefined) throw new Error()
        return n
      } catch {
        throw new FieldError(field.pointer, `${field.label}: not a number`)
      }
    }
    case 'json':
      try {
        return parseJson(text)
      } catch (err) {
        throw new FieldError(field.pointer, `${field.label}: not valid JSON (${(err as Error).message})`)
      }
  }
}

/** How an enum option shows in a select. */
export function optionText(option: Json): string {
  return typeof option === 'string' ? option : stringifyJson(option)
}
