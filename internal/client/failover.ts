/**
 * What a request does after one attempt at one server (issue 10, protocol/ownership.ts): pure,
 * so the policy is tested without sockets; the ApiClient carries it out.
 *
 * - answered 307 with `Coflux-Owner` → resend to that owner (at once, unless servers keep
 *   pointing elsewhere: then with the backoff below, as their views of the lease settle);
 * - answered 503 `no_owner` → the next host;
 * - not reached (refused, DNS) → the next host, when there is another to ask;
 * - reached perhaps (reset after sending, timed out) → the next host only for a request that
 *   is safe to repeat (GET, HEAD, PUT of a content-addressed blob); otherwise the error stands;
 * - any other answer → it is the answer.
 *
 * Hosts not yet asked in the current round are tried at once; after each full round the wait
 * doubles from `firstDelayMs` to `maxDelayMs` (at least the server's `Retry-After`, capped the
 * same). The whole request gives up once `deadlineMs` has passed since its first attempt.
 */
import { OWNERSHIP_ERROR } from '../protocol/ownership.ts'

export interface FailoverOptions {
  /** total time one request may spend failing over (ms) */
  deadlineMs: number
  firstDelayMs: number
  maxDelayMs: number
}

export const DEFAULT_FAILOVER: FailoverOptions = { deadlineMs: 30_000, firstDelayMs: 100, maxDelayMs: 2_000 }

/** Redirects followed back to back without waiting. */
const FREE_REDIRECTS = 3

/** One attempt at one host. */
export type AttemptOutcome =
  | {
      kind: 'answered'
      status: number
      /** a valid `Coflux-Owner` header */
      owner?: string
      /** the body's `error` (read for 503 only) */
      code?: string
      retryAfterMs?: number
    }
  | { kind: 'unreachable'; isMaybeSent: boolean }

/** The request so far, the attempt just made included. */
export interface RequestProgress {
  /** attempts that moved on to another host (not redirects) */
  failures: number
  /** redirects followed since the last failure */
  redirects: number
  elapsedMs: number
  isIdempotent: boolean
  /** the configured hosts: one round of failures */
  hostCount: number
  /** another host could be asked (see `ServerHosts.hasAlternative`) */
  hasAlternative: boolean
}

export type FailoverStep =
  | { kind: 'accept' }
  | { kind: 'follow'; owner: string; delayMs: number }
  | { kind: 'next'; delayMs: number }
  /** stop: the attempt's error, or a clear one when the deadline passed */
  | { kind: 'give-up'; isDeadline: boolean }

/**
 * @example
 * decideFailover({ kind: 'unreachable', isMaybeSent: false }, { failures: 1, redirects: 0, elapsedMs: 5,
 *   isIdempotent: false, hostCount: 2, hasAlternative: true }) // { kind: 'next', delayMs: 0 }
 */
export function decideFailover(outcome: AttemptOutcome, progress: RequestProgress, options: FailoverOptions = DEFAULT_FAILOVER): FailoverStep {
  let step: FailoverStep
  if (outcome.kind === 'answered') {
    if (outcome.status === 307 && outcome.owner) {
      const delayMs = progress.redirects <= FREE_REDIRECTS ? 0 : backoff(progress.redirects - FREE_REDIRECTS, options)
      step = { kind: 'follow', owner: outcome.owner, delayMs }
    } else if (outcome.status === 503 && outcome.code === OWNERSHIP_ERROR.noOwner) {
      step = { kind: 'next', delayMs: roundDelay(progress, options, outcome.retryAfterMs) }
    } else return { kind: 'accept' }
  } else {
    if (!progress.hasAlternative) return { kind: 'give-up', isDeadline: false }
    if (outcome.isMaybeSent && !progress.isIdempotent) return { kind: 'give-up', isDeadline: false }
    step = { kind: 'next', delayMs: roundDelay(progress, options) }
  }
  if (progress.elapsedMs + step.delayMs >= options.deadlineMs) return { kind: 'give-up', isDeadline: true }
  return step
}

/** 0 while the round has hosts left to ask, else the backoff for the rounds completed. */
function roundDelay(progress: RequestProgress, options: FailoverOptions, retryAfterMs = 0): number {
  const hostCount = Math.max(1, progress.hostCount)
  if (progress.failures % hostCount !== 0) return 0
  const wait = backoff(progress.failures / hostCount, options)
  return Math.max(wait, Math.min(retryAfterMs, options.maxDelayMs))
}

function backoff(round: number, options: FailoverOptions): number {
  return Math.min(options.firstDelayMs * 2 ** Math.max(0, round - 1), options.maxDelayMs)
}

const BLOB_PATH = /^\/blobs\/[0-9a-f]{64}$/

/**
 * Safe to send twice: reads, and writes of a content-addressed blob (the same key always
 * carries the same bytes).
 */
export function isIdempotentRequest(method: string, path: string): boolean {
  const m = method.toUpperCase()
  return m === 'GET' || m === 'HEAD' || m === 'OPTIONS' || (m === 'PUT' && BLOB_PATH.test(path.split('?')[0]!))
}

/** fetch failures where no byte of the request reached a server (Bun's and Node's codes). */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ConnectionRefused',
  'FailedToOpenSocket',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
])

/** A fetch failure after which the server may have received (and acted on) the request. */
export function isMaybeSent(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return !(typeof code === 'string' && NOT_SENT_CODES.has(code))
}

/** `Retry-After` in seconds (the only form servers here send) as ms; absent or a date → undefined. */
export function retryAfterMs(header: string | null): number | undefined {
  if (header === null || !/^\d+$/.test(header.trim())) return undefined
  return Number(header.trim()) * 1000
}
