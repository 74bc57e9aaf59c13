/**
 * `coflux server` in-process: one Bun listener for HTTP (hono) and the worker WebSocket.
 */
import { accessSync, constants, mkdirSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import type { Server, ServerWebSocket } from 'bun'
import { ApiError } from '../protocol/errors.ts'
import { API_VERSION } from '../protocol/version.ts'
import { createApp, versionMismatch, withCors } from './app.ts'
import { jsonResponse, type ServerContext } from './context.ts'
import { WorkerLaunchers } from './launchers/index.ts'
import type { Logger } from './logger.ts'
import { removeStaleUploads } from './blob-store.ts'
import { ProjectRegistry } from './project.ts'
import { PostgresHost, sqliteHost, type DatabaseHost } from '../store/index.ts'
import { errorHeaders, ProjectOwnership } from './ownership.ts'
import { resolveProject } from './project-resolution.ts'
import { s3BlobStores } from './s3-blob-store.ts'
import { secretBoxFor } from './secrets.ts'
import { SettingsError, type ServerSettings } from './settings.ts'
import { TopicHub } from './topics/hub.ts'
import { closeTopicSocket, openTopicSocket, topicSocketMessage, upgradeTopicSocket, type TopicSocketData } from './topics/socket.ts'
import {
  closeWorkerSocket,
  negotiateWorkerProtocols,
  openWorkerSocket,
  workerSocketMessage,
  type WorkerSocketData,
} from './worker-socket.ts'

export { resolveServerSettings, SettingsError, type ServerSettings } from './settings.ts'
export { describeBlobs } from './blobs-url.ts'
export type { Logger } from './logger.ts'

export interface RunningServer {
  port: number
  url: string
  /** graceful: close sockets with 1001, flush logs, close databases */
  stop(): Promise<void>
}

type SocketData = WorkerSocketData | TopicSocketData

/** Where clients reach this server, as a project's lease names it: the public host, else the bound address. */
function advertisedAddress(settings: ServerSettings, port: number): string {
  if (settings.publicHost && !settings.publicHost.startsWith('%')) return settings.publicHost.includes(':') ? settings.publicHost : `${settings.publicHost}:${port}`
  const host = settings.bind === '0.0.0.0' || settings.bind === '::' ? hostname() : settings.bind
  return `${host}:${port}`
}

/** SQLite files under the data directory, or PostgreSQL (`--database-url`): reached now, or a clear error. */
function openDatabaseHost(settings: ServerSettings): DatabaseHost {
  if (settings.databaseUrl === null) return sqliteHost
  try {
    return new PostgresHost({ url: settings.databaseUrl, root: settings.dataDir })
  } catch (err) {
    const where = new URL(settings.databaseUrl)
    throw new SettingsError(`cannot use PostgreSQL at ${where.hostname}:${where.port || 5432}${where.pathname}: ${(err as Error).message}`)
  }
}

export function startServer(settings: ServerSettings, logger: Logger): RunningServer {
  try {
    mkdirSync(settings.dataDir, { recursive: true, mode: 0o700 })
    accessSync(settings.dataDir, constants.W_OK)
  } catch (err) {
    throw new SettingsError(`data directory not writable: ${settings.dataDir} (${(err as Error).message})`)
  }
  // the port is read at launch time, once the listener below is bound
  const launchers = new WorkerLaunchers(settings, secretBoxFor(settings), { publicHost: settings.publicHost, port: () => bun.port ?? settings.port })
  const databases = openDatabaseHost(settings)
  // with --blobs-url, uploads wait for their hash check under the data directory (s3-blob-store.ts)
  const blobUploads = join(settings.dataDir, 'blob-uploads')
  if (settings.blobs) removeStaleUploads(blobUploads).catch((err) => logger.warn(`removing stale blob uploads: ${String(err)}`))
  const ownership = settings.databaseUrl
    ? new ProjectOwnership({ url: settings.databaseUrl, root: settings.dataDir, address: () => advertisedAddress(settings, bun.port ?? settings.port), ttlMs: settings.leaseTtlMs })
    : null
  const projects = new ProjectRegistry(settings.dataDir, logger, {
    host: databases,
    ownership: ownership ?? undefined,
    // its worker and topic sockets go: workers find the new owner and resume their sessions there
    onLost: (projectId) => {
      for (const ws of sockets) if (ws.data.projectId === projectId) ws.close(1012, 'project moved to another server')
    },
    timeoutGraceMs: settings.timeoutGraceMs,
    reconnectionTimeoutMs: settings.reconnectionTimeoutMs,
    scheduleClockOffsetMs: settings.scheduleClockOffsetMs,
    epochRetentionDays: settings.epochRetentionDays,
    launcherFor: (projectId) => launchers.forProject(projectId),
    blobStoreFor: settings.blobs ? s3BlobStores(settings.blobs, blobUploads) : undefined,
  })
  const context: ServerContext = { settings, projects, logger }
  const app = createApp(context)
  const sockets = new Set<ServerWebSocket<SocketData>>()
  const topics = new TopicHub(context)

  const upgradeWorker = (req: Request, server: Server<SocketData>): Response | undefined => {
    const url = new URL(req.url)
    const version = url.searchParams.get('version')
    if (version && version !== API_VERSION) throw versionMismatch(version)
    const projectId = resolveProject(settings, req.headers.get('host'), req.headers.get('x-project') || url.searchParams.get('project'))
    // another server serves the project: its 307 (or 503) instead of the upgrade
    context.projects.get(projectId)
    const { token, format, chosen } = negotiateWorkerProtocols(req.headers.get('sec-websocket-protocol'))
    const data: WorkerSocketData = {
      kind: 'worker',
      projectId,
      workspaceId: url.searchParams.get('workspaceId') ?? '',
      token: token ?? '',
      format,
    }
    if (server.upgrade(req, { data, headers: { 'Sec-WebSocket-Protocol': chosen } })) return undefined
    return jsonResponse({ error: 'bad_request', details: 'websocket upgrade required' }, 400)
  }

  const bun = Bun.serve<SocketData>({
    hostname: settings.bind,
    port: settings.port,
    idleTimeout: 60,
    maxRequestBodySize: settings.maxBlobBytes + 1024 * 1024,
    async fetch(req, server) {
      const origin = req.headers.get('origin')
      try {
        const pathname = new URL(req.url).pathname
        if (pathname === '/worker' || pathname === '/topics') {
          const res = pathname === '/worker' ? upgradeWorker(req, server) : await upgradeTopicSocket(req, server, context)
          if (!res) return undefined
          return withCors(res, origin, settings.allowOrigins)
        }
        return withCors(await app.fetch(req, server), origin, settings.allowOrigins)
      } catch (err) {
        const res = err instanceof ApiError ? jsonResponse(err.toBody(), err.status, errorHeaders(err, req.url)) : jsonResponse({ error: 'internal_error' }, 500)
        if (!(err instanceof ApiError)) logger.error(String((err as Error).stack ?? err))
        return withCors(res, origin, settings.allowOrigins)
      }
    },
    websocket: {
      maxPayloadLength: 16 * 1024 * 1024,
      idleTimeout: 120,
      open(ws) {
        sockets.add(ws)
        if (ws.data.kind === 'topics') openTopicSocket(ws as ServerWebSocket<TopicSocketData>, topics, context)
        else openWorkerSocket(ws as ServerWebSocket<WorkerSocketData>, context)
      },
      message(ws, message) {
        if (ws.data.kind === 'topics') topicSocketMessage(ws as ServerWebSocket<TopicSocketData>, message, topics, context)
        else workerSocketMessage(ws as ServerWebSocket<WorkerSocketData>, message, context)
      },
      close(ws) {
        sockets.delete(ws)
        if (ws.data.kind === 'topics') closeTopicSocket(ws as ServerWebSocket<TopicSocketData>, topics)
        else closeWorkerSocket(ws as ServerWebSocket<WorkerSocketData>)
      },
    },
  })

  // after the listener is bound: a project's lease names this server's address
  projects.openExisting()
  // several servers: renew the leases held, take over the projects of a server that died
  const leaseUpkeep = ownership ? setInterval(() => projects.keepLeases(), Math.max(100, Math.floor(settings.leaseTtlMs / 5))) : null
  leaseUpkeep?.unref?.()

  const port = bun.port ?? settings.port
  const host = settings.bind === '0.0.0.0' || settings.bind === '127.0.0.1' ? 'localhost' : settings.bind
  return {
    port,
    url: `http://${host}:${port}`,
    async stop() {
      for (const ws of sockets) ws.close(1001, 'going away')
      await bun.stop(true)
      topics.close()
      await launchers.close()
      if (leaseUpkeep) clearInterval(leaseUpkeep)
      projects.close()
      ownership?.close()
      databases.close()
    },
  }
}
