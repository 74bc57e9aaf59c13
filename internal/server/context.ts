/**
 * What every route handler shares: settings, projects, logging, and request helpers (body
 * limits and parsing, project and workspace lookup with authorization).
 */
import type { Context } from 'hono'
import { ApiError, notFound } from '../protocol/errors.ts'
import { stringifyJson } from '../protocol/json.ts'
import type { WorkspaceRecord } from '../store/index.ts'
import { requireWorkspaceAccess, type Access } from './auth.ts'
import type { Logger } from './logger.ts'
import type { Project, ProjectRegistry } from './project.ts'
import type { ServerSettings } from './settings.ts'

export type AppEnv = { Variables: { projectId: string; access: Access } }
export type AppContext = Context<AppEnv>

export interface ServerContext {
  settings: ServerSettings
  projects: ProjectRegistry
  logger: Logger
}

export function payloadTooLarge(limit: number): ApiError {
  return new ApiError(413, 'payload_too_large', 'payload too large', { limit })
}

/** Reads the body as text within the size limit (checked from content-length, then while reading). */
export async function readBodyText(c: AppContext, limit: number): Promise<string> {
  const length = Number(c.req.header('content-length') ?? NaN)
  if (Number.isFinite(length) && length > limit) throw payloadTooLarge(limit)
  const body = c.req.raw.body
  if (!body) return ''
  const chunks: Uint8Array[] = []
  let total = 0
  for await (const chunk of body) {
    total += chunk.byteLength
    if (total > limit) throw payloadTooLarge(limit)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** A JSON response whose numbers inside value data are printed verbatim. */
export function jsonResponse(value: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(stringifyJson(value), { status, headers: { 'content-type': 'application/json', ...headers } })
}

export function noContent(): Response {
  return new Response(null, { status: 204 })
}

/** The request's project; created on writes, null for reads of a project that does not exist. */
export function projectOf(c: AppContext, server: ServerContext, options: { create?: boolean } = {}): Project | null {
  return server.projects.get(c.get('projectId'), options)
}

export function requireProject(c: AppContext, server: ServerContext): Project {
  const p = projectOf(c, server, { create: true })
  if (!p) throw new ApiError(400, 'invalid_project', 'invalid project')
  return p
}

/** The workspace named by an id field; 404 when unknown or archived, 403 without access. */
export function workspaceFor(c: AppContext, project: Project | null, id: unknown, field = 'workspaceId'): WorkspaceRecord {
  if (id === undefined || id === null) throw new ApiError(400, 'bad_request', `${field} is required`, { [field]: 'required' })
  const ws = project?.workspace(id)
  if (!ws) throw notFound()
  requireWorkspaceAccess(c.get('access'), ws.name)
  return ws
}
