/**
 * Synchronous PostgreSQL for the stores. Every store call is synchronous (the orchestrator
 * changes its state and writes it in one event-loop turn), and Bun's SQL client is asynchronous;
 * so the client runs on a thread of its own (bridge-worker.ts) and the store's thread posts a
 * request and sleeps on a shared flag (`Atomics.wait`) until the reply is on the port. A request
 * costs one loopback round trip plus two thread hand-offs (≈0.1 ms here).
 *
 * One bridge thread serves every handle of the process, in the order the requests come.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads'
import type { BridgeReply, BridgeRequest, BridgeSuccess } from './bridge-protocol.ts'

/** A request PostgreSQL (or the connection to it) failed; `code` is the SQLSTATE. */
export class PostgresError extends Error {
  override readonly name = 'PostgresError'
  constructor(
    message: string,
    readonly code: string | null,
    /** the connection was lost, and any transaction open on it */
    readonly broken = false,
  ) {
    super(message)
  }
}

/** Longest wait for one reply: a statement is bounded by its statement_timeout well before. */
const REPLY_DEADLINE_MS = 120_000

/**
 * The bridge thread's module: beside this file when run from source; inside the executable, the
 * second entry point of the build (scripts/build.ts), named by its path from the repository root.
 */
function workerEntry(): string | URL {
  if (import.meta.url.includes('$bunfs')) return './internal/store/postgres/bridge-worker.ts'
  return new URL('./bridge-worker.ts', import.meta.url)
}

class Bridge {
  readonly #worker: Worker
  readonly #port: MessagePort
  readonly #flag: Int32Array

  constructor() {
    const signal = new SharedArrayBuffer(4)
    const { port1, port2 } = new MessageChannel()
    this.#flag = new Int32Array(signal)
    this.#port = port1
    this.#worker = new Worker(workerEntry(), {
      workerData: { port: port2, signal },
      transferList: [port2],
    })
    // the thread must not keep the process alive; the store's thread waits on it explicitly
    this.#worker.unref()
    this.#port.unref()
  }

  request(request: BridgeRequest): BridgeSuccess {
    Atomics.store(this.#flag, 0, 0)
    this.#port.postMessage(request)
    const deadline = Date.now() + REPLY_DEADLINE_MS
    for (;;) {
      const received = receiveMessageOnPort(this.#port)
      if (received) {
        const reply = received.message as BridgeReply
        if (!reply.ok) throw new PostgresError(reply.message, reply.code, reply.broken === true)
        return reply
      }
      const left = deadline - Date.now()
      if (left <= 0) throw new PostgresError(`PostgreSQL did not answer within ${REPLY_DEADLINE_MS / 1000} s`, null)
      Atomics.wait(this.#flag, 0, 0, Math.min(left, 1000))
      Atomics.store(this.#flag, 0, 0)
    }
  }
}

let shared: Bridge | null = null

/** The process's bridge thread, started on first use. */
export function bridge(): Bridge {
  return (shared ??= new Bridge())
}
