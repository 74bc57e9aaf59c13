/**
 * Errors the CLI maps to exit codes (STYLE §6). `UsageError` → 2 with a usage hint;
 * `ExitError` → its code, nothing printed (already shown to the user). Anything may also carry a
 * numeric `exitCode` (config's `ConfigError` does); `run()` honours it.
 */

/** A bad or missing flag or argument, an unknown command: exit 2, with a usage hint. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
  readonly exitCode = 2
  /** the command words, for the usage hint (set by the parser) */
  commandPath?: string[]
}

/** "Already reported, just exit": GitHub CLI's SilentError. */
export class ExitError extends Error {
  override readonly name = 'ExitError'
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`)
  }
}

/**
 * Adds what was attempted to an error (`failed to get workflow: not_found`) while keeping the
 * original as `cause`, so its exit code (3 unreachable, 4 unauthorised) still applies.
 */
export class ContextError extends Error {
  override readonly name = 'ContextError'
  constructor(
    readonly context: string,
    override readonly cause: unknown,
  ) {
    super(`${context}: ${describeError(cause)}`)
  }
}

/**
 * Runs `work`, prefixing any failure with `context`.
 *
 * @example
 * const wf = await withContext('failed to get workflow', client.getWorkflow(ws, module, target))
 */
export async function withContext<T>(context: string, work: Promise<T> | (() => Promise<T>)): Promise<T> {
  try {
    return await (typeof work === 'function' ? work() : work)
  } catch (err) {
    throw new ContextError(context, err)
  }
}

interface ApiErrorLike {
  name: string
  code: string
  status: number
  message: string
  details?: unknown
}

export function isApiError(err: unknown): err is ApiErrorLike {
  return err instanceof Error && err.name === 'ApiError' && typeof (err as unknown as ApiErrorLike).code === 'string'
}

/**
 * The text of an error for `Error: …`: server errors show their code verbatim, then the server's
 * message when it adds something, then `(details: <compact JSON>)` (cli.md §6).
 */
export function describeError(err: unknown): string {
  if (isApiError(err)) {
    let text = err.code
    if (err.message && err.message !== err.code) text += `: ${err.message}`
    if (err.details !== undefined && err.details !== null) text += ` (details: ${compactJson(err.details)})`
    return text
  }
  if (err instanceof Error) return err.message
  return String(err)
}

/** The innermost cause of a ContextError chain. */
export function rootCause(err: unknown): unknown {
  let e = err
  while (e instanceof ContextError) e = e.cause
  return e
}

function compactJson(v: unknown): string {
  try {
    return JSON.stringify(v)
  } catch {
    return String(v)
  }
}
