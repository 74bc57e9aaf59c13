/**
 * Identifier formats (semantics.md §2, cli.md §1), and the one place that takes step and
 * execution ids apart. The server checks the format with the strict parsers; clients treat ids
 * as opaque and only split them (the text helpers at the end).
 */
export const ID_ALPHABET = 'bcdfghjklmnpqrstvwxyzBCDFGHJKLMNPQRSTVWXYZ23456789'

export type RunId = string & { readonly __brand: 'RunId' }
export type StepId = string & { readonly __brand: 'StepId' }
export type ExecutionId = string & { readonly __brand: 'ExecutionId' }
export type InputId = string & { readonly __brand: 'InputId' }

export function randomChars(count: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(count * 2))
  let out = ''
  for (let i = 0; out.length < count; i++) {
    // 250 = 5 × 50: reject the top bytes so every character is equally likely
    const b = bytes[i % bytes.length]!
    if (b < 250) out += ID_ALPHABET[b % 50]
    else if (i >= bytes.length) crypto.getRandomValues(bytes)
  }
  return out
}

/**
 * A prefixed id with 3 random characters; when taken, one more character, and so on.
 * `isTaken` must consult every place the id could already live (all epochs).
 */
export function generateId(prefix: string, isTaken: (id: string) => boolean, minLength = 3): string {
  for (let length = minLength; ; length++) {
    for (let tries = 0; tries < 3; tries++) {
      const id = prefix + randomChars(length)
      if (!isTaken(id)) return id
    }
  }
}

const RUN_ID = /^R[bcdfghjklmnpqrstvwxyzBCDFGHJKLMNPQRSTVWXYZ2-9]{3,}$/

export function isRunId(value: string): value is RunId {
  return RUN_ID.test(value)
}

/** `<run>:<step>` → parts, or null when malformed. */
export function parseStepId(value: string): { runId: RunId; step: number } | null {
  const parts = value.split(':')
  if (parts.length !== 2) return null
  const [run, step] = parts as [string, string]
  if (!isRunId(run) || !/^[1-9][0-9]{0,8}$/.test(step)) return null
  return { runId: run, step: Number(step) }
}

/** `<run>:<step>:<attempt>` → parts, or null when malformed. */
export function parseExecutionId(value: string): { runId: RunId; step: number; attempt: number } | null {
  const parts = value.split(':')
  if (parts.length !== 3) return null
  const [run, step, attempt] = parts as [string, string, string]
  if (!isRunId(run) || !/^[1-9][0-9]{0,8}$/.test(step) || !/^[1-9][0-9]{0,8}$/.test(attempt)) return null
  return { runId: run, step: Number(step), attempt: Number(attempt) }
}

/** `<run>/i<n>` → parts, or null when malformed. */
export function parseInputId(value: string): { runId: RunId; number: number } | null {
  const at = value.lastIndexOf('/i')
  if (at < 0) return null
  const run = value.slice(0, at)
  const number = value.slice(at + 2)
  if (!isRunId(run) || !/^[1-9][0-9]{0,8}$/.test(number)) return null
  return { runId: run, number: Number(number) }
}

export function inputIdOf(runId: string, number: number): InputId {
  return `${runId}/i${number}` as InputId
}

export function stepIdOf(runId: string, step: number): StepId {
  return `${runId}:${step}` as StepId
}

export function executionIdOf(runId: string, step: number, attempt: number): ExecutionId {
  return `${runId}:${step}:${attempt}` as ExecutionId
}

// ---------------------------------------------------------------------------------------------
// Ids as text. Clients treat ids as opaque (cli.md §1): these split on `:` without checking the
// format, so a client never rejects an id the server would accept.

/**
 * `<run>[:<step>[:<attempt>]]` as text parts, or null for an empty part or more than three.
 *
 * @example
 * splitId('RwD6:3') // { runId: 'RwD6', step: '3' }
 */
export function splitId(text: string): { runId: string; step?: string; attempt?: string } | null {
  const [runId, step, attempt, ...rest] = text.split(':')
  if (!runId || rest.length > 0 || step === '' || attempt === '') return null
  return { runId, step, attempt }
}

/** The run of a step or execution id: the text before the first `:` (all of it when none). */
export function runIdOf(id: string): string {
  const i = id.indexOf(':')
  return i < 0 ? id : id.slice(0, i)
}

/**
 * An execution id split on its last `:` into its step id and attempt, or null without a `:`.
 *
 * @example
 * splitExecutionId('RwD6:3:2') // { stepId: 'RwD6:3', attempt: '2' }
 */
export function splitExecutionId(id: string): { stepId: string; attempt: string } | null {
  const i = id.lastIndexOf(':')
  return i <= 0 ? null : { stepId: id.slice(0, i), attempt: id.slice(i + 1) }
}
