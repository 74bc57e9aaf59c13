/** Readers for executor request params: a wrong shape is a `parse_error` (executor-protocol.md §15). */
import { toNumber, type Json } from '../protocol/json.ts'

export type Params = Record<string, Json>

export class ParamError extends Error {}

export function string(p: Params, key: string): string {
  const v = p[key]
  if (typeof v !== 'string') throw new ParamError(`${key} must be a string`)
  return v
}

export function optionalString(p: Params, key: string): string | undefined {
  const v = p[key]
  if (v == null) return undefined
  if (typeof v !== 'string') throw new ParamError(`${key} must be a string`)
  return v
}

export function num(v: unknown): number | undefined {
  return v == null ? undefined : toNumber(v)
}

export function optionalNumber(p: Params, key: string): number | undefined {
  const v = p[key]
  if (v == null) return undefined
  const n = toNumber(v)
  if (n === undefined) throw new ParamError(`${key} must be a number`)
  return n
}

export function array(p: Params, key: string): Json[] {
  const v = p[key]
  if (!Array.isArray(v)) throw new ParamError(`${key} must be an array`)
  return v
}

export function optionalArray(p: Params, key: string): Json[] | undefined {
  return p[key] == null ? undefined : array(p, key)
}

export function optionalObject(p: Params, key: string): Record<string, Json> | undefined {
  const v = p[key]
  if (v == null) return undefined
  if (typeof v !== 'object' || Array.isArray(v)) throw new ParamError(`${key} must be an object`)
  return v as Record<string, Json>
}
