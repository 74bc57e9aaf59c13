/**
 * Errors that cross a boundary. `ApiError` is thrown by server handlers and rebuilt by the
 * client from an error response, so a command can branch on `code`. `ProtocolError` marks a
 * malformed frame or line: the receiver logs it and drops that one connection or message.
 */
export class ApiError extends Error {
  override readonly name = 'ApiError'
  constructor(
    readonly status: number,
    readonly code: string,
    message?: string,
    readonly details?: unknown,
  ) {
    super(message ?? code)
  }

  /** The `{error, message?, details?}` body of the HTTP API. */
  toBody(): Record<string, unknown> {
    const body: Record<string, unknown> = { error: this.code }
    if (this.details !== undefined) body.details = this.details
    if (this.message && this.message !== this.code) body.message = this.message
    return body
  }
}

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError'
}

/** 400 with a `details` map from field path to reason (http-api.md §8). */
export function badRequest(details: Record<string, string> | string): ApiError {
  return new ApiError(400, 'bad_request', 'bad_request', details)
}

export function notFound(what = 'not_found'): ApiError {
  return new ApiError(404, 'not_found', what)
}

export function forbidden(message?: string): ApiError {
  return new ApiError(403, 'forbidden', message ?? 'forbidden', message ? { message } : undefined)
}
