/**
 * The `/worker` WebSocket (http-api.md §14): session authentication by subprotocol, JSON or
 * CBOR frames, and the bridge between one connection and the orchestrator. A bad frame closes
 * that connection; it never takes the server down.
 */
import type { ServerWebSocket } from 'bun'
import { ProtocolError } from '../protocol/errors.ts'
import { decodeFrame, encodeFrame, parseWorkerFrame, WORKER_SUBPROTOCOL, type FrameFormat, type ServerFrame } from '../protocol/worker.ts'
import {
  connectSession,
  disconnectSession,
  ExecutionInvalidError,
  handleWorkerFrame,
  type LiveSession,
  type WorkerChannel,
} from '../orchestrator/index.ts'
import type { ServerContext } from './context.ts'
import type { Project } from './project.ts'

export interface WorkerSocketData {
  kind: 'worker'
  projectId: string
  workspaceId: string
  token: string
  format: FrameFormat
  project?: Project
  session?: LiveSession
  channel?: WorkerChannel
  /** frames waiting for this turn's commit; sent together (one corked write) */
  outbox?: ServerFrame[]
}

/** Picks the credential and frame format from the offered subprotocols. */
export function negotiateWorkerProtocols(header: string | null): { token: string | null; format: FrameFormat; chosen: string } {
  const offered = (header ?? '').split(',').map((s) => s.trim()).filter(Boolean)
  let token: string | null = null
  for (const p of offered) {
    if (!p.startsWith('session.')) continue
    try {
      token = Buffer.from(p.slice('session.'.length), 'base64url').toString('utf8')
    } catch {
      token = null
    }
  }
  const cbor = offered.includes(WORKER_SUBPROTOCOL.cbor)
  return { token, format: cbor ? 'cbor' : 'json', chosen: cbor ? WORKER_SUBPROTOCOL.cbor : WORKER_SUBPROTOCOL.json }
}

export function openWorkerSocket(ws: ServerWebSocket<WorkerSocketData>, server: ServerContext): void {
  const data = ws.data
  const project = server.projects.get(data.projectId)
  const session = project?.store.sessions.authenticate(data.token)
  if (!project || !session) return ws.close(4000, 'session_invalid')
  const workspace = project.store.workspaces.getByExternalId(data.workspaceId)
  if (!workspace || workspace.state === 'archived') return ws.close(4000, 'workspace_not_found')
  if (workspace.id !== session.workspaceId) return ws.close(4000, 'workspace_mismatch')
  const live = project.orchestrator.session(session.id)
  if (!live) return ws.close(4000, 'session_invalid')
  // frames and closes wait for the writes they report to be committed (the orchestrator
  // batches a turn's writes): an acknowledged result is on disk first
  const orchestrator = project.orchestrator
  const flush = () => {
    const frames = data.outbox ?? []
    data.outbox = undefined
    ws.cork(() => {
      for (const frame of frames) ws.send(encodeFrame(frame, data.format))
    })
  }
  const channel: WorkerChannel = {
    supportsAcks: data.format === 'cbor',
    send: (frame) => {
      if (data.outbox) return void data.outbox.push(frame)
      data.outbox = [frame]
      orchestrator.afterCommit(flush)
    },
    close: (code, reason) => orchestrator.afterCommit(() => ws.close(code, reason)),
  }
  data.project = project
  data.session = live
  data.channel = channel
  connectSession(project.orchestrator, live, channel)
}

export function workerSocketMessage(ws: ServerWebSocket<WorkerSocketData>, message: string | Buffer, server: ServerContext): void {
  const { project, session, channel, format } = ws.data
  if (!project || !session || !channel) return
  try {
    const frame = parseWorkerFrame(decodeFrame(message, format))
    project.orchestrator.batch()
    handleWorkerFrame(project.orchestrator, {
      session,
      reply: (id, result) => channel.send([2, id, result]),
      fail: (id, msg) => channel.send([3, id, msg]),
    }, frame)
  } catch (err) {
    if (err instanceof ExecutionInvalidError) {
      server.logger.warn(`worker session ${session.record.externalId}: ${err.message}`)
      channel.close(4000, 'execution_invalid')
    } else if (err instanceof ProtocolError) {
      server.logger.warn(`worker session ${session.record.externalId}: ${err.message}`)
      channel.close(1008, 'protocol_error')
    } else {
      server.logger.error(`worker session ${session.record.externalId}: ${(err as Error).stack ?? String(err)}`)
      channel.close(1011, 'internal_error')
    }
  }
}

export function closeWorkerSocket(ws: ServerWebSocket<WorkerSocketData>): void {
  const { project, session, channel } = ws.data
  if (project && session && channel) disconnectSession(project.orchestrator, session, channel)
}
