/**
 * Identifier formats (semantics.md §2). Ids are opaque to clients; only the server parses them.
 */
export const ID_ALPHABET = 'bcdfghjklmnpqrstvwxyzBCDFGHJKLMNPQRSTVWXYZ23456789'

export type RunId = string & { readonly __brand: 'RunId' }
export type StepId = string & { readonly __brand: 'StepId' }
export type ExecutionId = string & { readonly __brand: 'ExecutionId' }

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

export function executionIdOf(runId: string, step: number, attempt: number): ExecutionId {
  return `${runId}:${step}:${attempt}` as ExecutionId
}
