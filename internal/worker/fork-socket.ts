/**
 * The unix socket forked executors connect back to (fork mode, executor-protocol.md §12
 * extension). Each child opens two connections, each starting with a `hello` line:
 * `{"method":"hello","params":{"pid":P,"channel":"stderr"}}` (then its fd 2) and
 * `{"method":"hello","params":{"pid":P,"channel":"protocol"}}` (then its stdin/stdout). This
 * module pairs them by pid into an `Executor` whose transport writes to the protocol connection
 * and kills the child's process group (each child calls setsid).
 */
import type { ConsolaInstance } from 'consola'
import { rm } from 'node:fs/promises'
import type { Socket, UnixSocketListener } from 'bun'
import { parseExecutorMessage, type LifecycleNotificationParams } from '../protocol/executor-messages.ts'
import { parseJson } from '../protocol/json.ts'
import { Executor, type ExecutorTransport, type ExitStatus } from './executor.ts'
import { killGroup, signalName } from './executor-process.ts'

interface Connection {
  /** bytes before the end of the hello line */
  head: Uint8Array[]
  child: ForkedChild | null
  channel: 'stderr' | 'protocol' | null
  transport: SocketTransport | null
}

/** One forked child as its two connections arrive and its exit is reported. */
interface ForkedChild {
  pid: number
  executor: Executor | null
  /** stderr that arrived before the protocol connection */
  stderr: Uint8Array[]
  isStderrEnded: boolean
  isProtocolEnded: boolean
  status: ExitStatus | null
}

export class ForkSocket {
  readonly #children = new Map<number, ForkedChild>()
  #listener: UnixSocketListener<Connection> | null = null

  constructor(
    readonly path: string,
    readonly log: ConsolaInstance,
    /** a child's protocol connection arrived: its executor has yet to say `ready` */
    readonly onChild: (executor: Executor) => void,
  ) {}

  listen(): void {
    this.#listener = Bun.listen<Connection>({
      unix: this.path,
      socket: {
        open: (socket) => {
          socket.data = { head: [], child: null, channel: null, transport: null }
        },
        data: (socket, data) => this.#data(socket, new Uint8Array(data)),
        drain: (socket) => socket.data.transport?.drain(),
        close: (socket) => this.#closed(socket),
        error: (socket, err) => this.log.debug(`fork socket connection error: ${err.message}`),
      },
    })
  }

  async close(): Promise<void> {
    this.#listener?.stop(true)
    this.#listener = null
    await rm(this.path, { force: true })
  }

  /** The template reported a child's exit (`status`: exit code, or -signal). */
  exited(pid: number, status: ExitStatus): ForkedChild | undefined {
    const child = this.#children.get(pid)
    if (!child) return undefined
    child.status = status
    // died before its protocol connection: nothing will ever settle it
    if (!child.executor) this.#children.delete(pid)
    this.#settle(child)
    return child
  }

  /** The template is gone: nobody will report exits, so a closed protocol connection is the exit. */
  templateGone(): void {
    for (const child of this.#children.values()) {
      child.status ??= { code: null, signal: null }
      this.#settle(child)
    }
  }

  #data(socket: Socket<Connection>, bytes: Uint8Array): void {
    const conn = socket.data
    if (!conn.channel) {
      const nl = bytes.indexOf(10)
      if (nl === -1) {
        conn.head.push(bytes.slice())
        return
      }
      conn.head.push(bytes.subarray(0, nl))
      if (!this.#hello(socket, Buffer.concat(conn.head).toString())) return
      conn.head = []
      bytes = bytes.subarray(nl + 1)
      if (bytes.length === 0) return
    }
    const child = conn.child!
    if (conn.channel === 'protocol') child.executor!.pushStdout(bytes)
    else if (child.executor) child.executor.pushStderr(bytes)
    else child.stderr.push(bytes.slice())
  }

  #hello(socket: Socket<Connection>, line: string): boolean {
    let hello: LifecycleNotificationParams['hello'] | null = null
    try {
      const message = parseExecutorMessage(parseJson(line))
      if (message.method === 'hello') hello = message.params
    } catch {
      // not JSON, or not a well-formed message: rejected below
    }
    if (!hello) {
      this.log.warn('fork socket: connection without a valid hello; closing it')
      socket.end()
      return false
    }
    const { pid, channel } = hello
    let child = this.#children.get(pid)
    if (!child) {
      child = { pid, executor: null, stderr: [], isStderrEnded: false, isProtocolEnded: false, status: null }
      this.#children.set(pid, child)
    }
    socket.data.child = child
    socket.data.channel = channel
    if (channel === 'protocol') {
      const transport = new SocketTransport(pid, socket)
      socket.data.transport = transport
      const executor = new Executor(transport, this.log)
      child.executor = executor
      for (const chunk of child.stderr.splice(0)) executor.pushStderr(chunk)
      if (child.isStderrEnded) executor.endStderr()
      this.onChild(executor)
    }
    return true
  }

  #closed(socket: Socket<Connection>): void {
    const { child, channel, transport } = socket.data
    transport?.fail()
    if (!child) return
    if (channel === 'stderr') {
      child.isStderrEnded = true
      child.executor?.endStderr()
    } else {
      child.isProtocolEnded = true
      child.executor?.endStdout()
      this.#settle(child)
    }
  }

  /** Exit = protocol connection closed + status known; the executor then finishes reading. */
  #settle(child: ForkedChild): void {
    if (!child.status || !child.isProtocolEnded) return
    this.#children.delete(child.pid)
    child.executor?.processExited(child.status)
  }
}

/** Writes lines to a child's protocol connection, honouring backpressure. */
class SocketTransport implements ExecutorTransport {
  #queue: { bytes: Uint8Array; done: () => void; failed: (err: Error) => void }[] = []
  #isClosed = false

  constructor(
    readonly pid: number,
    readonly socket: Socket<Connection>,
  ) {}

  write(text: string): Promise<void> {
    if (this.#isClosed) return Promise.reject(new Error('connection closed'))
    return new Promise((done, failed) => {
      this.#queue.push({ bytes: Buffer.from(text), done, failed })
      if (this.#queue.length === 1) this.drain()
    })
  }

  drain(): void {
    while (this.#queue.length > 0) {
      const head = this.#queue[0]!
      let written: number
      try {
        written = this.socket.write(head.bytes)
      } catch {
        written = -1
      }
      if (written < 0) return this.fail()
      if (written < head.bytes.length) {
        head.bytes = head.bytes.subarray(written)
        return
      }
      this.#queue.shift()
      head.done()
    }
    if (this.#isClosed) this.socket.shutdown()
  }

  closeInput(): void {
    if (this.#isClosed) return
    this.#isClosed = true
    // half-close: the child reads end-of-file, we keep reading what it writes
    if (this.#queue.length === 0) this.socket.shutdown()
  }

  kill(): void {
    killGroup(this.pid)
  }

  fail(): void {
    this.#isClosed = true
    for (const item of this.#queue.splice(0)) item.failed(new Error('connection closed'))
  }
}

export function exitStatusFromTemplate(status: number): ExitStatus {
  return status >= 0 ? { code: status, signal: null } : { code: null, signal: signalName(-status) }
}
