/** Errors of the worker's connection to the server; they stay local (STYLE §1: `…Error`). */

/** The server refused us for good (session, workspace, protocol version): the worker exits 1. */
export class WorkerFatalError extends Error {
  override readonly name = 'WorkerFatalError'
}

/** A `[3, id, error]` reply; `message` is the server's short code or text. */
export class ServerRequestError extends Error {
  override readonly name = 'ServerRequestError'
}

/** The request was withdrawn (its execution ended) or the connection was closed for good. */
export class RequestCancelledError extends Error {
  override readonly name = 'RequestCancelledError'
}
