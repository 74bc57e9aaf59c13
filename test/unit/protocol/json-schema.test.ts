import { describe, expect, test } from 'bun:test'
import { parseJson, type Json } from '../../../internal/protocol/json.ts'
import { describeErrors, InvalidSchemaError, JsonSchema } from '../../../internal/protocol/json-schema.ts'

/** Errors of `value` (JSON text, parsed losslessly like a response) against `schema`, printed. */
function check(schema: Json, value: string): string {
  return describeErrors(JsonSchema.from(schema).validate(parseJson(value)))
}

function invalid(schema: string): string {
  try {
    JsonSchema.parse(schema)
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidSchemaError)
    return (err as Error).message
  }
  throw new Error('schema was accepted')
}

describe('types', () => {
  test.each([
    ['string', '"x"', ''],
    ['string', '1', '/: type'],
    ['boolean', 'true', ''],
    ['boolean', '"true"', '/: type'],
    ['null', 'null', ''],
    ['number', '1.5', ''],
    ['number', '1e400', ''],
    ['integer', '7', ''],
    ['integer', '7.0', ''],
    ['integer', '7.5', '/: type'],
    ['integer', '18446744073709551616', ''],
    ['array', '[]', ''],
    ['object', '{}', ''],
    ['object', '[]', '/: type'],
  ])('%s accepts %s → %p', (type, value, expected) => {
    expect(check({ type }, value)).toBe(expected)
  })

  test('a list of types is nullable', () => {
    expect(check({ type: ['string', 'null'] }, 'null')).toBe('')
    expect(check({ type: ['string', 'null'] }, '3')).toBe('/: type')
  })

  test('true accepts everything, false nothing', () => {
    expect(check(true, '{"a": 1}')).toBe('')
    expect(check(false, '1')).toBe('/: false')
  })
})

describe('objects', () => {
  const person: Json = {
    type: 'object',
    properties: { name: { type: 'string', minLength: 1 }, age: { type: 'integer', minimum: 0 } },
    required: ['name', 'age'],
    additionalProperties: false,
  }

  test('errors point into the value', () => {
    expect(check(person, '{"name": "Ann", "age": 30}')).toBe('')
    expect(check(person, '{"name": "Ann", "age": "30"}')).toBe('/age: type')
    expect(check(person, '{"name": "", "age": -1}')).toBe('/name: minLength; /age: minimum')
  })

  test('missing required properties are reported at their own path', () => {
    expect(check(person, '{"name": "Ann"}')).toBe('/age: required')
  })

  test('additionalProperties false rejects unknown keys; a schema applies to them', () => {
    expect(check(person, '{"name": "Ann", "age": 1, "x": 1}')).toBe('/x: additionalProperties')
    expect(check({ additionalProperties: { type: 'number' } }, '{"a": 1, "b": "2"}')).toBe('/b: type')
  })

  test('patternProperties, propertyNames, min/maxProperties, dependentRequired', () => {
    expect(check({ patternProperties: { '^n_': { type: 'number' } }, additionalProperties: false }, '{"n_a": 1, "n_b": "x"}')).toBe(
      '/n_b: type',
    )
    expect(check({ propertyNames: { pattern: '^[a-z]+$' } }, '{"ok": 1, "Bad": 2}')).toBe('/Bad: propertyNames')
    expect(check({ minProperties: 2 }, '{"a": 1}')).toBe('/: minProperties')
    expect(check({ maxProperties: 1 }, '{"a": 1, "b": 2}')).toBe('/: maxProperties')
    expect(check({ dependentRequired: { card: ['cvv'] } }, '{"card": "1"}')).toBe('/cvv: dependentRequired')
  })

  test('keys are escaped as JSON pointers', () => {
    expect(check({ properties: { 'a/b~c': { type: 'string' } } }, '{"a/b~c": 1}')).toBe('/a~1b~0c: type')
    expect(check({ properties: { 'a b#%': { type: 'string' } }, required: ['x "y"'] }, '{"a b#%": 1}')).toBe('/x "y": required; /a b#%: type')
  })

  test('a property named "required" is a property, not a keyword', () => {
    const schema: Json = { type: 'object', properties: { required: { type: 'boolean' } }, required: ['required'] }
    expect(check(schema, '{"required": true}')).toBe('')
    expect(check(schema, '{}')).toBe('/required: required')
  })
})

describe('arrays', () => {
  test('items, prefixItems, min/maxItems, uniqueItems', () => {
    expect(check({ items: { type: 'integer' } }, '[1, 2, "3"]')).toBe('/2: type')
    expect(check({ prefixItems: [{ type: 'string' }, { type: 'number' }], items: false }, '["a", 1]')).toBe('')
    expect(check({ prefixItems: [{ type: 'string' }, { type: 'number' }], items: false }, '["a", 1, 2]')).toBe('/2: items')
    expect(check({ minItems: 2 }, '[1]')).toBe('/: minItems')
    expect(check({ maxItems: 1 }, '[1, 2]')).toBe('/: maxItems')
    expect(check({ uniqueItems: true }, '[1, 1.0]')).toBe('/: uniqueItems')
    expect(check({ uniqueItems: true }, '[{"a": 1, "b": 2}, {"b": 2, "a": 1}]')).toBe('/: uniqueItems')
    expect(check({ uniqueItems: true }, '[1, "1"]')).toBe('')
  })

  test('contains with min/maxContains', () => {
    expect(check({ contains: { const: 'x' } }, '["a"]')).toBe('/: contains')
    expect(check({ contains: { const: 'x' }, minContains: 2 }, '["x", "a", "x"]')).toBe('')
    expect(check({ contains: { const: 'x' }, maxContains: 1 }, '["x", "x"]')).toBe('/: maxContains')
  })

  test('draft-07 tuple items are read as prefixItems', () => {
    expect(check({ items: [{ type: 'string' }], additionalItems: false }, '["a", 1]')).toBe('/1: additionalItems')
  })
})

describe('strings and numbers', () => {
  test('lengths count code points', () => {
    expect(check({ maxLength: 2 }, '"😀😀"')).toBe('')
    expect(check({ maxLength: 1 }, '"😀😀"')).toBe('/: maxLength')
  })

  test('pattern is unanchored ECMAScript with unicode', () => {
    expect(check({ pattern: 'b+' }, '"abbc"')).toBe('')
    expect(check({ pattern: '^\\p{Lu}' }, '"abc"')).toBe('/: pattern')
  })

  test('known formats are checked, unknown ones ignored', () => {
    expect(check({ format: 'email' }, '"a@b.co"')).toBe('')
    expect(check({ format: 'email' }, '"nope"')).toBe('/: format')
    expect(check({ format: 'date' }, '"2024-02-29"')).toBe('')
    expect(check({ format: 'date' }, '"2023-02-29"')).toBe('/: format')
    expect(check({ format: 'date-time' }, '"2026-05-16T10:00:00Z"')).toBe('')
    expect(check({ format: 'date-time' }, '"2026-05-16"')).toBe('/: format')
    expect(check({ format: 'uuid' }, '"123e4567-e89b-12d3-a456-426614174000"')).toBe('')
    expect(check({ format: 'ipv4' }, '"256.1.1.1"')).toBe('/: format')
    expect(check({ format: 'ipv6' }, '"::1"')).toBe('')
    expect(check({ format: 'ipv6' }, '"1::2::3"')).toBe('/: format')
    expect(check({ format: 'color-wheel' }, '"anything"')).toBe('')
    expect(check({ format: 'email' }, '42')).toBe('')
    expect(check({ format: '__proto__' }, '"x"')).toBe('')
    expect(check({ format: 'hasOwnProperty' }, '"x"')).toBe('')
  })

  test('bounds and multipleOf', () => {
    expect(check({ minimum: 1, maximum: 3 }, '3')).toBe('')
    expect(check({ exclusiveMinimum: 1 }, '1')).toBe('/: exclusiveMinimum')
    expect(check({ exclusiveMaximum: 3 }, '3.0')).toBe('/: exclusiveMaximum')
    expect(check({ multipleOf: 0.1 }, '0.3')).toBe('')
    expect(check({ multipleOf: 2 }, '3')).toBe('/: multipleOf')
  })
})

describe('enum, const and combinators', () => {
  test('enum and const compare JSON values', () => {
    expect(check({ enum: ['red', 'green', 1] }, '1.0')).toBe('')
    expect(check({ enum: ['red', 'green'] }, '"blue"')).toBe('/: enum')
    expect(check({ const: { a: [1] } }, '{"a": [1]}')).toBe('')
    expect(check({ const: null }, 'false')).toBe('/: const')
  })

  test('anyOf (Pydantic Optional), oneOf, allOf, not', () => {
    const optional: Json = { anyOf: [{ type: 'string' }, { type: 'null' }] }
    expect(check(optional, 'null')).toBe('')
    expect(check(optional, '1')).toBe('/: anyOf')
    expect(check({ oneOf: [{ type: 'integer' }, { type: 'number' }] }, '1')).toBe('/: oneOf')
    expect(check({ oneOf: [{ type: 'integer' }, { type: 'string' }] }, '1')).toBe('')
    expect(check({ allOf: [{ minimum: 1 }, { maximum: 2 }] }, '3')).toBe('/: maximum')
    expect(check({ not: { type: 'string' } }, '"x"')).toBe('/: not')
  })

  test('a false subschema is reported under the keyword that led to it', () => {
    expect(check({ if: { type: 'string' }, then: false }, '"x"')).toBe('/: then')
    expect(check({ allOf: [true, false] }, '1')).toBe('/: allOf')
    expect(check({ anyOf: [false, { type: 'string' }] }, '1')).toBe('/: anyOf')
  })

  test('if / then / else', () => {
    const schema: Json = { if: { properties: { kind: { const: 'a' } } }, then: { required: ['a'] }, else: { required: ['b'] } }
    expect(check(schema, '{"kind": "a", "a": 1}')).toBe('')
    expect(check(schema, '{"kind": "a"}')).toBe('/a: required')
    expect(check(schema, '{"kind": "z"}')).toBe('/b: required')
  })
})

describe('$ref', () => {
  test('Pydantic $defs', () => {
    const schema: Json = {
      $defs: { Address: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
      type: 'object',
      properties: { home: { $ref: '#/$defs/Address' }, work: { anyOf: [{ $ref: '#/$defs/Address' }, { type: 'null' }] } },
    }
    expect(check(schema, '{"home": {"city": "Oslo"}, "work": null}')).toBe('')
    expect(check(schema, '{"home": {}}')).toBe('/home/city: required')
  })

  test('recursive schemas validate nested values', () => {
    const tree: Json = { type: 'object', properties: { value: { type: 'integer' }, children: { type: 'array', items: { $ref: '#' } } } }
    expect(check(tree, '{"value": 1, "children": [{"value": 2, "children": [{"value": "x"}]}]}')).toBe('/children/0/children/0/value: type')
  })

  test('a reference cycle that never steps into the value is refused (validating it would never end)', () => {
    expect(invalid('{"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}')).toContain('$ref cycle')
    expect(invalid('{"anyOf": [{"$ref": "#"}, {"type": "string"}]}')).toContain('$ref cycle that never steps into the value at /')
  })

  test('definitions and escaped pointers resolve', () => {
    expect(check({ definitions: { 'a/b': { type: 'string' } }, $ref: '#/definitions/a~1b' }, '1')).toBe('/: type')
  })
})

describe('schema checking', () => {
  test.each([
    ['{', 'not valid JSON'],
    ['42', 'a schema must be an object or a boolean'],
    ['{"type": "int"}', 'unknown type "int" at /type'],
    ['{"type": []}', 'type must not be an empty list at /type'],
    ['{"type": ["string", "string"]}', 'type lists a type twice'],
    ['{"required": "name"}', 'required must be a list of strings at /required'],
    ['{"minLength": -1}', 'minLength must be a non-negative integer'],
    ['{"maximum": "3"}', 'maximum must be a number'],
    ['{"multipleOf": 0}', 'multipleOf must be a number greater than 0'],
    ['{"pattern": "("}', 'pattern must be a valid regular expression'],
    ['{"properties": {"a": 3}}', 'a schema must be an object or a boolean at /properties/a'],
    ['{"anyOf": []}', 'anyOf must be a non-empty list of schemas'],
    ['{"$ref": "#/$defs/missing"}', 'does not point into this schema'],
    ['{"$ref": "https://example.com/schema.json"}', 'does not point into this schema'],
    ['{"enum": "a"}', 'enum must be a list'],
    ['{"patternProperties": {"(": {}}}', 'is not a valid regular expression'],
    ['{"properties": {"a": {"$ref": "#/properties/b/enum/0"}, "b": {"enum": [{}]}}}', 'does not point into this schema at /properties/a/$ref'],
    ['{"$defs": {"a": {"$id": "https://x/a"}, "b": {"$id": "https://x/a"}}}', 'Duplicate schema URI'],
  ])('%s is refused', (schema, reason) => {
    expect(invalid(schema)).toContain(reason)
  })

  test('annotations and unknown keywords are accepted', () => {
    expect(() => JsonSchema.parse('{"title": "T", "description": "d", "examples": [1], "x-ui": {"widget": "slider"}, "$schema": "https://json-schema.org/draft/2020-12/schema"}')).not.toThrow()
  })

  test('absurd nesting is refused, not a stack overflow', () => {
    const deep = '{"not": '.repeat(400) + '{}' + '}'.repeat(400)
    expect(invalid(deep)).toContain('nested too deeply')
  })
})

describe('partial forms', () => {
  test('withoutRequired drops every required list, keeping the other constraints', () => {
    const schema = JsonSchema.parse(
      JSON.stringify({
        $defs: { Inner: { type: 'object', properties: { x: { type: 'integer' } }, required: ['x'] } },
        type: 'object',
        properties: { name: { type: 'string' }, inner: { $ref: '#/$defs/Inner' } },
        required: ['name', 'inner'],
      }),
    )
    const partial = schema.withoutRequired()
    expect(describeErrors(partial.validate(parseJson('{"inner": {}}')))).toBe('')
    expect(describeErrors(partial.validate(parseJson('{"name": 3}')))).toBe('/name: type')
    expect(describeErrors(schema.validate(parseJson('{"inner": {}}')))).toBe('/name: required; /inner/x: required')
  })
})

test('at most 20 errors are reported', () => {
  const values = JSON.stringify(Array.from({ length: 50 }, () => 'x'))
  expect(JsonSchema.from({ items: { type: 'integer' } }).validate(parseJson(values))).toHaveLength(20)
})
