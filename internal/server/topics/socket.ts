/**
 * The topics WebSocket (`GET /topics?version=0.12`, http-api.md §11.1): version, project and
 * credentials are checked before the upgrade, so failures are ordinary §7 HTTP errors. After
 * it, frames go to the hub; a malformed or oversized frame closes that one connection.
 */
import type { ServerWebSocket } from 'bun'
import { ProtocolError } from '../../protocol/errors.ts'
import { stringifyJson } from '../../protocol/json.ts'
import { parseTopicClientFrame, TOPICS_BEARER_PREFIX, TOPICS_SUBPROTOCOL, type TopicServerFrame } from '../../protocol/topics.ts'
import { API_VERSION } from '../../protocol/version.ts'
import { versionMismatch } from '../app.ts'
import { authenticate, type Access } from '../auth.ts'
import { jsonResponse, type ServerContext } from '../context.ts'
import { resolveProject } from '../project-resolution.ts'
import type { TopicClient, TopicHub } from './hub.ts'

/** Client frames are small (subscriptions, queries); anything bigger is abuse. */
export const MAX_TOPIC_FRAME_BYTES = 1024 * 1024

export interface TopicSocketData {
  kind: 'topics'
  projectId: string
  access: Access
  client?: TopicClient
}

/** The part of Bun's `Server` the upgrade needs (the server's socket data is a wider union). */
export interface SocketUpgrader {
  upgrade(req: Request, options: { data: TopicSocketData; headers?: Record<string, string> }): boolean
}

/** The bearer token from `bearer.<base64url>`, and whether `v1` was offered. */
export function negotiateTopicProtocols(header: string | null): { token: string | null; chosen: string | null } {
  const offered = (header ?? '').split(',').map((s) => s.trim()).filter(Boolean)
  const bearer = offered.find((p) => p.startsWith(TOPICS_BEARER_PREFIX))
  const token = bearer ? Buffer.from(bearer.slice(TOPICS_BEARER_PREFIX.length), 'base64url').toString('utf8') : null
  // selecting a protocol the client did not offer would make it fail the handshake
  return { token, chosen: offered.includes(TOPICS_SUBPROTOCOL) ? TOPICS_SUBPROTOCOL : null }
}

/**
 * Checks the upgrade request and upgrades it; throws `ApiError` (409, §3 errors, 401) before
 * upgrading. A plain GET that passes the checks gets 400, which lets clients tell an auth or
 * version failure from a network one by repeating the request over HTTP.
 */
export async function upgradeTopicSocket(req: Request, server: SocketUpgrader, context: ServerContext): Promise<Response | undefined> {
  const url = new URL(req.url)
  const version = url.searchParams.get('version')
  if (version && version !== API_VERSION) throw versionMismatch(version)
  const projectId = resolveProject(context.settings, req.headers.get('host'), req.headers.get('x-project') || url.searchParams.get('project'))
  const { token, chosen } = negotiateTopicProtocols(req.headers.get('sec-websocket-protocol'))
  // browsers can only send the subprotocol; other clients may use the ordinary header
  const authorization = token !== null ? `Bearer ${token}` : req.headers.get('authorization')
  const access = await authenticate(authorization, context.settings, context.projects.get(projectId), {
    projectId,
    host: req.headers.get('host'),
    logger: context.logger,
  })
  const data: TopicSocketData = { kind: 'topics', projectId, access }
  const headers = chosen ? { 'Sec-WebSocket-Protocol': chosen } : undefined
  if (server.upgrade(req, { data, headers })) return undefined
  return jsonResponse({ error: 'bad_request', details: 'websocket upgrade required' }, 400)
}

export function openTopicSocket(ws: ServerWebSocket<TopicSocketData>, hub: TopicHub, context: ServerContext): void {
  const { projectId, access } = ws.data
  ws.data.client = {
    projectId,
    access,
    send(frame: TopicServerFrame) {
      try {
        // 0 = dropped: the client would silently diverge, so make it reconnect and resync
        if (ws.send(stringifyJson(frame)) === 0 && ws.readyState === 1) ws.close(1011, 'send_failed')
      } catch (err) {
        context.logger.warn(`topics socket: ${String(err)}`)
        ws.close(1011, 'send_failed')
      }
    },
  }
}

export function topicSocketMessage(ws: ServerWebSocket<TopicSocketData>, message: string | Buffer, hub: TopicHub, context: ServerContext): void {
  const client = ws.data.client
  if (!client) return
  const size = typeof message === 'string' ? Buffer.byteLength(message) : message.byteLength
  if (size > MAX_TOPIC_FRAME_BYTES) return ws.close(1009, 'frame_too_large')
  try {
    if (typeof message !== 'string') throw new ProtocolError('topics frame: expected a text frame')
    let raw: unknown
    try {
      raw = JSON.parse(message)
    } catch {
      throw new ProtocolError('topics frame: invalid JSON')
    }
    const frame = parseTopicClientFrame(raw)
    switch (frame.kind) {
      case 'subscribe':
        return hub.subscribe(client, frame.channel, frame.topic)
      case 'unsubscribe':
        return hub.unsubscribe(client, frame.channel)
      case 'execute':
        return hub.execute(client, frame.channel, frame.topic, frame.action)
      case 'notify':
        return // no notifications are defined; they expect no reply
      default: {
        const unknown: never = frame
        void unknown
      }
    }
  } catch (err) {
    if (err instanceof ProtocolError) {
      context.logger.debug(`topics socket: ${err.message}`)
      ws.close(1008, 'protocol_error')
    } else {
      context.logger.error(`topics socket: ${(err as Error).stack ?? String(err)}`)
      ws.close(1011, 'internal_error')
    }
  }
}

export function closeTopicSocket(ws: ServerWebSocket<TopicSocketData>, hub: TopicHub): void {
  if (ws.data.client) hub.disconnect(ws.data.client)
}
