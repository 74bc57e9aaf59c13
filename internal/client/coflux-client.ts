/**
 * Typed methods for every endpoint the CLI calls (http-api.md §9–§13), on top of the ApiClient
 * transport. Each returns the server's shape unchanged, so commands print it as is in JSON mode.
 */
import type { WorkflowManifest } from '../protocol/executor.ts'
import type { Json } from '../protocol/json.ts'
import { ApiClient, readJsonResponse } from './api-client.ts'
import type {
  AssetTopic,
  CreateTokenResponse,
  DeviceLoginStart,
  DiscoverResponse,
  InputDetail,
  InputSummary,
  ManifestsTopic,
  Pool,
  PoolTopic,
  QueueEntry,
  RunSnapshot,
  SessionEntry,
  SubmitWorkflowRequest,
  SubmitWorkflowResponse,
  TagSet,
  TokenEntry,
  WorkflowTopic,
  WorkspaceSummary,
} from '../protocol/api.ts'
import type { CreateScheduleRequest, ScheduleEntry, ScheduleRequest, SchedulesTopic } from '../protocol/schedules.ts'

export class CofluxClient extends ApiClient {
  // -- §9.1
  /** `GET /api/discover`: server version, API version and the caller's access. */
  discover(): Promise<DiscoverResponse> {
    return this.request('GET', '/api/discover')
  }

  // -- workspaces (§9.2, topic `workspaces`)
  /** All workspaces, archived included, keyed by id. */
  listWorkspaces(): Promise<Record<string, WorkspaceSummary>> {
    return this.topic('workspaces')
  }

  createWorkspace(name: string, baseId?: string): Promise<{ id: string }> {
    return this.post('create_workspace', baseId ? { name, baseId } : { name })
  }

  /** `baseId: null` removes the base; absent keys are left unchanged. */
  async updateWorkspace(workspaceId: string, changes: { name?: string; baseId?: string | null }): Promise<void> {
    await this.post('update_workspace', { workspaceId, ...changes })
  }

  async pauseWorkspace(workspaceId: string): Promise<void> {
    await this.post('pause_workspace', { workspaceId })
  }

  async resumeWorkspace(workspaceId: string): Promise<void> {
    await this.post('resume_workspace', { workspaceId })
  }

  async archiveWorkspace(workspaceId: string): Promise<void> {
    await this.post('archive_workspace', { workspaceId })
  }

  // -- manifests (§9.4)
  async registerManifests(workspaceId: string, manifests: Record<string, Record<string, WorkflowManifest>>): Promise<void> {
    await this.post('register_manifests', { workspaceId, manifests })
  }

  async archiveModule(workspaceId: string, moduleName: string): Promise<void> {
    await this.post('archive_module', { workspaceId, moduleName })
  }

  getManifests(workspaceId: string): Promise<ManifestsTopic> {
    return this.topic('workspaces', workspaceId, 'manifests')
  }

  getWorkflow(workspaceId: string, module: string, target: string): Promise<WorkflowTopic> {
    return this.topic('workspaces', workspaceId, 'workflows', module, target)
  }

  // -- runs (§9.5, topic `workspaces/<ws>/runs/<run>`)
  submitWorkflow(request: SubmitWorkflowRequest): Promise<SubmitWorkflowResponse> {
    return this.post('submit_workflow', request)
  }

  getRun(workspaceId: string, runId: string): Promise<RunSnapshot> {
    return this.topic('workspaces', workspaceId, 'runs', runId)
  }

  async cancelExecution(workspaceId: string, executionId: string): Promise<void> {
    await this.post('cancel_execution', { workspaceId, executionId })
  }

  rerunStep(workspaceId: string, stepId: string): Promise<{ executionId: string; attempt: number }> {
    return this.post('rerun_step', { workspaceId, stepId })
  }

  // -- sessions, queue (§9.8, §11.3)
  createSession(workspaceId: string, provides?: TagSet, accepts?: TagSet): Promise<{ sessionId: string }> {
    return this.post('create_session', { workspaceId, provides, accepts })
  }

  getSessions(workspaceId: string): Promise<Record<string, SessionEntry>> {
    return this.topic('workspaces', workspaceId, 'sessions')
  }

  getQueue(workspaceId: string): Promise<Record<string, QueueEntry>> {
    return this.topic('workspaces', workspaceId, 'queue')
  }

  // -- schedules (ours, issue 11; topic `workspaces/<ws>/schedules`)
  /** The workspace's schedules, keyed by id, with their next due time and the cron in words. */
  listSchedules(workspaceId: string): Promise<SchedulesTopic> {
    return this.topic('workspaces', workspaceId, 'schedules')
  }

  /**
   * @example
   * await client.createSchedule({ workspaceId, module: 'app.flows', target: 'report', cron: '0 6 * * 1-5', timezone: 'Europe/Paris' })
   */
  createSchedule(request: CreateScheduleRequest): Promise<ScheduleEntry> {
    return this.post('create_schedule', request)
  }

  pauseSchedule(workspaceId: string, scheduleId: string): Promise<ScheduleEntry> {
    return this.post('pause_schedule', { workspaceId, scheduleId } satisfies ScheduleRequest)
  }

  resumeSchedule(workspaceId: string, scheduleId: string): Promise<ScheduleEntry> {
    return this.post('resume_schedule', { workspaceId, scheduleId } satisfies ScheduleRequest)
  }

  /** Only schedules made with `createSchedule`: a decorator's goes when its code drops it (409). */
  async deleteSchedule(workspaceId: string, scheduleId: string): Promise<void> {
    await this.post('delete_schedule', { workspaceId, scheduleId } satisfies ScheduleRequest)
  }

  // -- inputs (§9.6)
  getInputs(workspaceId: string): Promise<Record<string, InputSummary>> {
    return this.topic('workspaces', workspaceId, 'inputs')
  }

  getInput(inputId: string): Promise<InputDetail> {
    return this.post('get_input', { inputId })
  }

  async respondInput(inputId: string, value: Json): Promise<void> {
    await this.post('respond_input', { inputId, value })
  }

  async dismissInput(inputId: string): Promise<void> {
    await this.post('dismiss_input', { inputId })
  }

  // -- tokens (§9.9)
  listTokens(): Promise<Record<string, TokenEntry>> {
    return this.topic('tokens')
  }

  createToken(options: { name?: string; workspaces?: string[]; expiresIn?: number }): Promise<CreateTokenResponse> {
    return this.post('create_token', options)
  }

  async revokeToken(externalId: string): Promise<void> {
    await this.post('revoke_token', { externalId })
  }

  // -- device login against this server (§16.9)
  startDeviceLogin(name: string, workspaces?: string[]): Promise<DeviceLoginStart> {
    return this.post('auth/device', workspaces ? { name, workspaces } : { name })
  }

  pollDeviceToken(deviceCode: string): Promise<{ access_token: string; token_id: string; workspaces: string[] | null }> {
    return this.post('auth/device/token', { device_code: deviceCode })
  }

  async approveDevice(userCode: string): Promise<void> {
    await this.post('auth/device/approve', { user_code: userCode })
  }

  // -- assets (topic `asset/<id>`)
  getAsset(assetId: string): Promise<AssetTopic> {
    return this.topic('asset', assetId)
  }

  // -- pools (§9.3, topics)
  listPools(workspaceId: string): Promise<Record<string, Pool>> {
    return this.topic('workspaces', workspaceId, 'pools')
  }

  getPool(workspaceId: string, poolName: string): Promise<PoolTopic> {
    return this.topic('workspaces', workspaceId, 'pools', poolName)
  }

  async createPool(workspaceId: string, poolName: string, pool: Record<string, unknown>): Promise<void> {
    await this.post('create_pool', { workspaceId, poolName, pool })
  }

  /** `pool: null` deletes the pool; otherwise a patch (http-api.md §9.3). */
  async updatePool(workspaceId: string, poolName: string, pool: Record<string, unknown> | null): Promise<void> {
    await this.post('update_pool', { workspaceId, poolName, pool })
  }

  async disablePool(workspaceId: string, poolName: string): Promise<void> {
    await this.post('disable_pool', { workspaceId, poolName })
  }

  async enablePool(workspaceId: string, poolName: string): Promise<void> {
    await this.post('enable_pool', { workspaceId, poolName })
  }

  /** `get_pools` with its ETag, for a later conditional `updatePools`. */
  async getPools(workspaceId: string): Promise<{ pools: Record<string, Pool>; etag: string | null }> {
    const res = await this.send('POST', '/api/get_pools', { workspaceId })
    const pools = (await readJsonResponse(res)) as Record<string, Pool>
    return { pools, etag: res.headers.get('etag') }
  }

  async updatePools(workspaceId: string, pools: Record<string, unknown>, etag?: string | null): Promise<void> {
    await this.post('update_pools', { workspaceId, pools }, etag ? { 'if-match': etag } : undefined)
  }

  async stopWorker(workspaceId: string, workerId: string): Promise<void> {
    await this.post('stop_worker', { workspaceId, workerId })
  }

  async resumeWorker(workspaceId: string, workerId: string): Promise<void> {
    await this.post('resume_worker', { workspaceId, workerId })
  }
}
