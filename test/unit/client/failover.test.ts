import { describe, expect, test } from 'bun:test'
import {
  decideFailover,
  isIdempotentRequest,
  isMaybeSent,
  retryAfterMs,
  ServerHosts,
  type AttemptOutcome,
  type RequestProgress,
} from '../../../internal/client/index.ts'

const options = { deadlineMs: 30_000, firstDelayMs: 100, maxDelayMs: 2_000 }
const progress = (p: Partial<RequestProgress> = {}): RequestProgress => ({
  failures: 1,
  redirects: 0,
  elapsedMs: 0,
  isIdempotent: false,
  hostCount: 2,
  hasAlternative: true,
  ...p,
})
const refused: AttemptOutcome = { kind: 'unreachable', isMaybeSent: false }
const reset: AttemptOutcome = { kind: 'unreachable', isMaybeSent: true }
const noOwner: AttemptOutcome = { kind: 'answered', status: 503, code: 'no_owner', retryAfterMs: 1000 }
const redirect = (owner: string): AttemptOutcome => ({ kind: 'answered', status: 307, owner })

describe('decideFailover', () => {
  test('any ordinary answer is the answer, errors included', () => {
    for (const status of [200, 204, 400, 401, 404, 409, 500, 502]) {
      expect(decideFailover({ kind: 'answered', status }, progress(), options)).toEqual({ kind: 'accept' })
    }
    // a 503 that is not about ownership, and a 307 without a usable owner
    expect(decideFailover({ kind: 'answered', status: 503, code: 'unavailable' }, progress(), options)).toEqual({ kind: 'accept' })
    expect(decideFailover({ kind: 'answered', status: 307 }, progress(), options)).toEqual({ kind: 'accept' })
  })

  test('a 307 is followed to the owner at once, then with backoff when servers keep pointing elsewhere', () => {
    expect(decideFailover(redirect('b:7777'), progress({ failures: 0, redirects: 1 }), options)).toEqual({ kind: 'follow', owner: 'b:7777', delayMs: 0 })
    expect(decideFailover(redirect('b:7777'), progress({ failures: 0, redirects: 3 }), options)).toEqual({ kind: 'follow', owner: 'b:7777', delayMs: 0 })
    expect(decideFailover(redirect('b:7777'), progress({ failures: 0, redirects: 4 }), options)).toEqual({ kind: 'follow', owner: 'b:7777', delayMs: 100 })
    expect(decideFailover(redirect('b:7777'), progress({ failures: 0, redirects: 9 }), options)).toEqual({ kind: 'follow', owner: 'b:7777', delayMs: 2_000 })
    // even with one configured host: the owner is another server
    expect(decideFailover(redirect('c:1'), progress({ failures: 0, redirects: 1, hostCount: 1, hasAlternative: false }), options).kind).toBe('follow')
  })

  test('refused: the next host at once while the round lasts, then a doubling wait', () => {
    expect(decideFailover(refused, progress({ failures: 1 }), options)).toEqual({ kind: 'next', delayMs: 0 })
    expect(decideFailover(refused, progress({ failures: 2 }), options)).toEqual({ kind: 'next', delayMs: 100 })
    expect(decideFailover(refused, progress({ failures: 3 }), options)).toEqual({ kind: 'next', delayMs: 0 })
    expect(decideFailover(refused, progress({ failures: 4 }), options)).toEqual({ kind: 'next', delayMs: 200 })
    expect(decideFailover(refused, progress({ failures: 40 }), options)).toEqual({ kind: 'next', delayMs: 2_000 })
    expect(decideFailover(refused, progress({ failures: 2, hostCount: 3 }), options)).toEqual({ kind: 'next', delayMs: 0 })
  })

  test('refused with nowhere else to go: the error stands (one server behaves as before)', () => {
    expect(decideFailover(refused, progress({ hostCount: 1, hasAlternative: false }), options)).toEqual({ kind: 'give-up', isDeadline: false })
  })

  test('a request that may have reached the server is repeated only when that is safe', () => {
    expect(decideFailover(reset, progress({ isIdempotent: false }), options)).toEqual({ kind: 'give-up', isDeadline: false })
    expect(decideFailover(reset, progress({ isIdempotent: true }), options)).toEqual({ kind: 'next', delayMs: 0 })
  })

  test('503 no_owner: the next host, waiting at least Retry-After (capped) after a full round', () => {
    expect(decideFailover(noOwner, progress({ failures: 1 }), options)).toEqual({ kind: 'next', delayMs: 0 })
    expect(decideFailover(noOwner, progress({ failures: 2 }), options)).toEqual({ kind: 'next', delayMs: 1_000 })
    expect(decideFailover({ ...noOwner, retryAfterMs: 60_000 }, progress({ failures: 2 }), options)).toEqual({ kind: 'next', delayMs: 2_000 })
    // one host: ask it again after the wait
    expect(decideFailover(noOwner, progress({ failures: 1, hostCount: 1, hasAlternative: false }), options)).toEqual({ kind: 'next', delayMs: 1_000 })
  })

  test('the deadline bounds the whole request', () => {
    expect(decideFailover(refused, progress({ failures: 2, elapsedMs: 29_950 }), options)).toEqual({ kind: 'give-up', isDeadline: true })
    expect(decideFailover(noOwner, progress({ failures: 1, elapsedMs: 30_000 }), options)).toEqual({ kind: 'give-up', isDeadline: true })
    expect(decideFailover(redirect('b:1'), progress({ redirects: 1, elapsedMs: 30_001 }), options)).toEqual({ kind: 'give-up', isDeadline: true })
  })
})

test('isIdempotentRequest: reads and content-addressed blob writes', () => {
  const key = 'a'.repeat(64)
  expect(isIdempotentRequest('GET', '/api/discover')).toBe(true)
  expect(isIdempotentRequest('head', `/blobs/${key}`)).toBe(true)
  expect(isIdempotentRequest('PUT', `/blobs/${key}`)).toBe(true)
  expect(isIdempotentRequest('PUT', '/blobs/xyz')).toBe(false)
  expect(isIdempotentRequest('POST', '/api/submit_workflow')).toBe(false)
  expect(isIdempotentRequest('POST', `/blobs/${key}`)).toBe(false)
})

test('isMaybeSent: only failures to connect are known not to have reached a server', () => {
  for (const code of ['ECONNREFUSED', 'ConnectionRefused', 'ENOTFOUND', 'EHOSTUNREACH']) expect(isMaybeSent({ code })).toBe(false)
  for (const err of [{ code: 'ECONNRESET' }, { name: 'TimeoutError', code: 23 }, new Error('?'), null]) expect(isMaybeSent(err)).toBe(true)
})

test('retryAfterMs reads seconds', () => {
  expect(retryAfterMs('1')).toBe(1000)
  expect(retryAfterMs(' 3 ')).toBe(3000)
  expect(retryAfterMs(null)).toBeUndefined()
  expect(retryAfterMs('Wed, 21 Oct 2015 07:28:00 GMT')).toBeUndefined()
})

describe('ServerHosts', () => {
  test('starts at the first, cycles through the list', () => {
    const hosts = new ServerHosts('a:1,b:2,c:3')
    expect(hosts.configured).toEqual(['a:1', 'b:2', 'c:3'])
    expect(hosts.current).toBe('a:1')
    expect(hosts.hasAlternative).toBe(true)
    expect([hosts.advance(), hosts.advance(), hosts.advance()]).toEqual(['b:2', 'c:3', 'a:1'])
  })

  test('an owner named by a 307 becomes current; in the list it moves the cycle there', () => {
    const hosts = new ServerHosts('a:1,b:2,c:3')
    hosts.follow('c:3')
    expect(hosts.current).toBe('c:3')
    expect(hosts.advance()).toBe('a:1')
  })

  test('an owner outside the list: when it fails, the host that pointed there is asked next', () => {
    const hosts = new ServerHosts('a:1,b:2')
    hosts.advance()
    hosts.follow('z:9')
    expect(hosts.current).toBe('z:9')
    expect(hosts.advance()).toBe('b:2')
    expect(hosts.advance()).toBe('a:1')
  })

  test('one host has no alternative until an owner elsewhere is followed', () => {
    const hosts = new ServerHosts('a:1')
    expect(hosts.hasAlternative).toBe(false)
    expect(hosts.advance()).toBe('a:1')
    hosts.follow('b:2')
    expect(hosts.hasAlternative).toBe(true)
    expect(hosts.advance()).toBe('a:1')
    expect(hosts.hasAlternative).toBe(false)
  })
})
