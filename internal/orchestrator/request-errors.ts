/** Errors of worker requests, shared by the request handlers. */

/** A refused request: answered with `[3, id, message]`. */
export class RequestError extends Error {
  override readonly name = 'RequestError'
}

/** A frame naming an execution this session does not hold: close 4000 `execution_invalid`. */
export class ExecutionInvalidError extends Error {
  override readonly name = 'ExecutionInvalidError'
}
