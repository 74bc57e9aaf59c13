/**
 * One project's state: its orchestration store and orchestrator, log, metric and blob stores,
 * under `<data>/projects/<id>/` (http-api.md §2.4). Opened lazily; created only on a write.
 * The stores' databases are SQLite files there, or PostgreSQL schemas named after those paths
 * (`--database-url`, store/postgres/host.ts).
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Orchestrator, startEpochRotation, type WorkerLauncher } from '../orchestrator/index.ts'
import { EPOCH_CHECK_INTERVAL_MS, LogStore, MetricStore, OrchestrationStore, sqliteHost, type DatabaseHost, type WorkspaceRecord } from '../store/index.ts'
import { DiskBlobStore, type BlobStore } from './blob-store.ts'
import type { Logger } from './logger.ts'
import { NoOwnerError, NotOwnerError, type Claim, type ProjectOwnership } from './ownership.ts'

export interface ProjectOptions {
  timeoutGraceMs?: number
  reconnectionTimeoutMs?: number
  /** test-only: how far ahead of the wall clock schedules see the time */
  scheduleClockOffsetMs?: number
  /** the server's launchers, bound to one project (semantics.md §21) */
  launcherFor?: (projectId: string) => WorkerLauncher
  /** semantics.md §23.3: archives older than this many days are deleted; null keeps them */
  epochRetentionDays?: number | null
  /** where the stores' databases live: SQLite files (the default) or PostgreSQL */
  host?: DatabaseHost
  /** several servers on one PostgreSQL: a project is opened only under its lease (ownership.ts) */
  ownership?: ProjectOwnership
  /** a project this server served was lost to another (its sockets are to be closed) */
  onLost?: (projectId: string) => void
  /** `--blobs-url`: the project's blob store; absent = `<project dir>/blobs` on disk */
  blobStoreFor?: (projectId: string) => BlobStore
}

const DAY_MS = 24 * 60 * 60 * 1000

export class Project {
  readonly id: string
  readonly dir: string
  readonly store: OrchestrationStore
  readonly orchestrator: Orchestrator
  readonly logs: LogStore
  readonly metrics: MetricStore
  readonly blobs: BlobStore
  readonly #stopRotation: () => void

  constructor(id: string, dir: string, logger: Logger, options: ProjectOptions = {}) {
    this.id = id
    this.dir = dir
    const host = options.host ?? sqliteHost
    this.store = new OrchestrationStore(join(dir, 'orchestration.sqlite'), { host })
    this.orchestrator = new Orchestrator(this.store, {
      backstopGraceMs: options.timeoutGraceMs,
      reconnectionTimeoutMs: options.reconnectionTimeoutMs,
      scheduleClockOffsetMs: options.scheduleClockOffsetMs,
      launcher: options.launcherFor?.(id),
    })
    this.logs = new LogStore(join(dir, 'logs.sqlite'), { host, onError: (err) => logger.warn(`log store: ${String(err)}`) })
    this.metrics = new MetricStore(join(dir, 'metrics.sqlite'), { host, onError: (err) => logger.warn(`metric store: ${String(err)}`) })
    this.blobs = options.blobStoreFor?.(id) ?? new DiskBlobStore(join(dir, 'blobs'))
    this.orchestrator.start()
    // §23.1: the orchestration store rotates into a new epoch at 100 MiB
    const stopEpochs = startEpochRotation(this.orchestrator, {
      onRotated: (epoch) => logger.info(`project ${id}: orchestration store archived as epoch ${epoch}`),
      onError: (err) => logger.warn(`project ${id}: epoch rotation failed: ${String(err)}`),
    })
    // §24: the log and metric stores rotate on their own at 100 MiB, checked as often;
    // §23.3: archives past the retention are deleted then too, and once at start-up
    const retentionMs = options.epochRetentionDays ? options.epochRetentionDays * DAY_MS : null
    if (retentionMs !== null) this.#deleteExpiredArchives(retentionMs, logger)
    const telemetry = setInterval(() => {
      this.#rotateTelemetry(logger)
      if (retentionMs !== null) this.#deleteExpiredArchives(retentionMs, logger)
    }, EPOCH_CHECK_INTERVAL_MS)
    telemetry.unref?.()
    this.#stopRotation = () => {
      stopEpochs()
      clearInterval(telemetry)
    }
  }

  #rotateTelemetry(logger: Logger): void {
    for (const [name, store] of [['log', this.logs], ['metric', this.metrics]] as const) {
      try {
        const archive = store.rotateIfLarger()
        if (archive) logger.info(`project ${this.id}: ${name} store archived as ${archive}`)
      } catch (err) {
        logger.warn(`project ${this.id}: ${name} store rotation failed: ${String(err)}`)
      }
    }
  }

  /** Deletes the orchestration epochs and log and metric partitions archived more than `retentionMs` ago. */
  #deleteExpiredArchives(retentionMs: number, logger: Logger): void {
    const cutoff = Date.now() - retentionMs
    const stores = [
      ['orchestration epoch', () => this.store.epochs?.deleteArchivedBefore(cutoff) ?? []],
      ['log partition', () => this.logs.deleteArchivedBefore(cutoff)],
      ['metric partition', () => this.metrics.deleteArchivedBefore(cutoff)],
    ] as const
    for (const [name, deleteExpired] of stores) {
      try {
        const ids = deleteExpired()
        if (ids.length > 0) logger.info(`project ${this.id}: deleted ${name}${ids.length === 1 ? '' : 's'} ${ids.join(', ')} (retention)`)
      } catch (err) {
        logger.warn(`project ${this.id}: deleting expired ${name}s failed: ${String(err)}`)
      }
    }
  }

  /** The workspace with this external id, unless unknown or archived. */
  workspace(externalId: unknown): WorkspaceRecord | null {
    if (typeof externalId !== 'string') return null
    const ws = this.store.workspaces.getByExternalId(externalId)
    return ws && ws.state !== 'archived' ? ws : null
  }

  close(): void {
    this.#stopRotation()
    this.orchestrator.close()
    this.logs.close()
    this.metrics.close()
    this.store.close()
  }
}

const PROJECT_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/

export function isValidProjectId(id: string): boolean {
  return PROJECT_ID.test(id)
}

/** Lazily opened projects; a read of a project that does not exist creates nothing. */
export class ProjectRegistry {
  readonly #dataDir: string
  readonly #open = new Map<string, Project>()
  readonly #logger: Logger
  readonly #options: ProjectOptions
  readonly #host: DatabaseHost
  /** the leases held, with the fenced hosts opened under them */
  readonly #claims = new Map<string, Claim>()

  constructor(dataDir: string, logger: Logger, options: ProjectOptions = {}) {
    this.#dataDir = dataDir
    this.#logger = logger
    this.#options = options
    this.#host = options.host ?? sqliteHost
  }

  /** The project, opening it if its directory exists, or creating it when `create`. */
  /** Commits every open project's pending write batch. */
  commitAll(): void {
    for (const project of this.#open.values()) project.orchestrator.commit()
  }

  get(id: string, options: { create?: boolean } = {}): Project | null {
    if (!isValidProjectId(id)) return null
    const open = this.#open.get(id)
    if (open) return open
    const dir = join(this.#dataDir, 'projects', id)
    if (!this.#host.exists(join(dir, 'orchestration.sqlite'))) {
      if (!options.create) return null
    }
    // blobs (on disk) and SQLite files live here; with PostgreSQL, the blobs still do
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    // under a lease, the project's databases are fenced by it; throws who serves it otherwise
    const claim = this.#options.ownership?.claim(id, { lost: () => this.lose(id), broken: () => this.reopen(id) }) ?? null
    let project: Project
    try {
      project = new Project(id, dir, this.#logger, { ...this.#options, host: claim?.host ?? this.#host })
    } catch (err) {
      if (claim) {
        this.#options.ownership!.release(claim.lease)
        claim.host.close()
      }
      throw err
    }
    this.#open.set(id, project)
    if (claim) {
      this.#claims.set(id, claim)
      this.#logger.info(`project ${id}: serving it (lease ${claim.lease.token})`)
    }
    return project
  }

  /** The project if this server serves it now: never claims, never throws (timers, sockets). */
  served(id: string): Project | null {
    return this.#open.get(id) ?? null
  }

  /**
   * One round of lease upkeep (several servers): renews the leases held, gives up the projects
   * whose lease was lost, and takes over those whose owner stopped renewing.
   */
  keepLeases(): void {
    const ownership = this.#options.ownership
    if (!ownership) return
    for (const [id, claim] of [...this.#claims]) {
      let held = false
      try {
        held = ownership.renew(claim.lease)
      } catch (err) {
        this.#logger.warn(`project ${id}: renewing its lease failed: ${String(err)}`)
        continue
      }
      if (!held) this.lose(id)
    }
    for (const id of ownership.orphaned()) {
      if (this.#open.has(id) || !isValidProjectId(id)) continue
      try {
        this.get(id)
      } catch (err) {
        // another standby was quicker, or the old owner is still finishing a transaction
        this.#logger.debug(`project ${id}: not taken over: ${String(err)}`)
      }
    }
  }

  /** Stops serving a project whose lease is no longer ours: nothing more is written for it. */
  lose(id: string): void {
    if (!this.#drop(id, 'lease lost to another server; no longer serving it')) return
    this.#options.onLost?.(id)
  }

  /**
   * A database of the project lost its connection inside a transaction: what the orchestrator
   * holds in memory may be ahead of the store, so the project is opened again from the store
   * (as at a restart; its lease is still ours). Its sockets go too: workers resume their sessions.
   */
  reopen(id: string): void {
    if (!this.#drop(id, 'database connection lost mid-transaction; reopening it from the store')) return
    this.#options.onLost?.(id)
    try {
      this.get(id)
    } catch (err) {
      // PostgreSQL still unreachable, or another server took the lease: the upkeep rounds retry
      this.#logger.warn(`project ${id}: reopening failed: ${String(err)}`)
    }
  }

  #drop(id: string, why: string): boolean {
    const project = this.#open.get(id)
    const claim = this.#claims.get(id)
    this.#open.delete(id)
    this.#claims.delete(id)
    if (!project) return false
    this.#logger.warn(`project ${id}: ${why}`)
    try {
      project.close()
    } catch (err) {
      // its writes are refused (fence, broken handle): the state is the store's
      this.#logger.debug(`closing project ${id}: ${String(err)}`)
    }
    claim?.host.close()
    return true
  }

  /** Opens every project that exists on disk (so timers and expiries resume at start-up). */
  openExisting(): void {
    for (const id of this.#host.directoriesWith(join(this.#dataDir, 'projects'), 'orchestration.sqlite')) {
      if (!isValidProjectId(id)) continue
      try {
        this.get(id)
      } catch (err) {
        // another server serves it: this one stands by (keepLeases)
        if (!(err instanceof NotOwnerError || err instanceof NoOwnerError)) throw err
      }
    }
  }

  all(): Project[] {
    return [...this.#open.values()]
  }

  close(): void {
    for (const p of this.#open.values()) {
      try {
        p.close()
      } catch (err) {
        this.#logger.warn(`closing project ${p.id}: ${String(err)}`)
      }
      // given up at once: a standby need not wait for it to expire
      const claim = this.#claims.get(p.id)
      if (claim) {
        try {
          this.#options.ownership?.release(claim.lease)
        } catch (err) {
          this.#logger.warn(`releasing the lease of project ${p.id}: ${String(err)}`)
        }
        claim.host.close()
      }
    }
    this.#open.clear()
    this.#claims.clear()
  }
}
