/**
 * Which project a request is for (http-api.md §3): the Host header against the `%` public host,
 * the X-Project header or `project` query parameter, and the single-project setting.
 */
import { ApiError } from '../protocol/errors.ts'
import { isValidProjectId } from './project.ts'
import type { ServerSettings } from './settings.ts'

export function baseDomain(publicHost: string | null): string | null {
  if (!publicHost?.startsWith('%')) return null
  return publicHost.slice(1).replace(/^\./, '').replace(/:\d+$/, '').toLowerCase()
}

export function resolveProject(settings: ServerSettings, hostHeader: string | null, headerProject: string | null): string {
  const hostname = (hostHeader ?? '').toLowerCase().replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1')
  const P = settings.project
  const B = baseDomain(settings.publicHost)
  let hostResult: { project: string } | { error: ApiError }
  if (P === null && B === null) hostResult = { error: new ApiError(500, 'not_configured', 'no project configuration') }
  else if (B === null) hostResult = { project: P! }
  else if (hostname === B) hostResult = { error: new ApiError(400, 'project_required', 'project required') }
  else if (hostname.endsWith(`.${B}`)) {
    const candidate = hostname.slice(0, -(B.length + 1))
    hostResult = P !== null && candidate !== P ? { error: new ApiError(403, 'project_mismatch', 'project mismatch') } : { project: candidate }
  } else hostResult = { error: new ApiError(400, 'invalid_host', 'invalid host') }

  let project: string
  if (!headerProject) {
    if ('error' in hostResult) throw hostResult.error
    project = hostResult.project
  } else if ('project' in hostResult) {
    if (headerProject !== hostResult.project) throw new ApiError(403, 'project_mismatch', 'project mismatch')
    project = headerProject
  } else project = headerProject
  if (!isValidProjectId(project)) throw new ApiError(400, 'invalid_project', 'invalid project id')
  return project
}
