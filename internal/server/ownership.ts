/**
 * Which projects this server serves, when several servers share one PostgreSQL (issue 10): the
 * one holding a project's lease (store/postgres/leases.ts). The others answer for it with a
 * redirect naming the owner, or "no owner yet" while a takeover is under way:
 *
 *     307 {"error":"not_owner","owner":"b:7777","project":"p"}   Location, Coflux-Owner
 *     503 {"error":"no_owner","project":"p"}                     Retry-After: 1
 *
 * Each project's databases are opened through a host of its own whose transactions are fenced by
 * the project's lease, so nothing is written for a project once its lease is lost.
 */
import { hostname } from 'node:os'
import { ApiError } from '../protocol/errors.ts'
import { FENCE_SQLSTATE, LeaseLostError, LeaseTable, PostgresHost, type Fence, type Lease, type LeaseOwner } from '../store/index.ts'

/** 307: another server serves the project. */
export class NotOwnerError extends ApiError {
  constructor(
    readonly project: string,
    readonly owner: string,
  ) {
    super(307, 'not_owner', `project ${project} is served by ${owner}`)
  }

  override toBody(): Record<string, unknown> {
    return { error: 'not_owner', owner: this.owner, project: this.project }
  }

  /** The same request at the owner. */
  headers(requestUrl: string): Record<string, string> {
    const url = new URL(requestUrl)
    return { location: `${url.protocol}//${this.owner}${url.pathname}${url.search}`, 'coflux-owner': this.owner }
  }
}

/** 503: the project's owner is gone and no server has taken it over yet. */
export class NoOwnerError extends ApiError {
  constructor(readonly project: string) {
    super(503, 'no_owner', `no server serves project ${project} right now; retry shortly`)
  }

  override toBody(): Record<string, unknown> {
    return { error: 'no_owner', project: this.project }
  }

  headers(): Record<string, string> {
    return { 'retry-after': '1' }
  }
}

/** Extra headers of an error response (the two above), else none. */
export function errorHeaders(err: unknown, requestUrl: string): Record<string, string> {
  if (err instanceof NotOwnerError) return err.headers(requestUrl)
  if (err instanceof NoOwnerError) return err.headers()
  return {}
}

export interface Claim {
  lease: Lease
  /** the project's databases, every transaction fenced by the lease */
  host: PostgresHost
}

export interface OwnershipOptions {
  url: string
  /** the data directory (database names are relative to it) */
  root: string
  /** where clients reach this server (`host:port`), known once it listens */
  address: () => string
  ttlMs: number
}

export class ProjectOwnership {
  readonly #options: OwnershipOptions
  readonly #leases: LeaseTable

  constructor(options: OwnershipOptions) {
    this.#options = options
    this.#leases = new LeaseTable({
      url: options.url,
      holder: `${hostname()}:${process.pid}:${crypto.randomUUID().slice(0, 8)}`,
      address: options.address,
      ttlMs: options.ttlMs,
    })
  }

  get ttlMs(): number {
    return this.#options.ttlMs
  }

  /**
   * Takes the project's lease and opens its fenced host; throws who serves it otherwise.
   * Later, outside the failed transaction: `lost` runs when the fence finds the lease gone,
   * `broken` when a connection was lost inside a transaction (the project must be reopened).
   */
  claim(project: string, on: { lost: () => void; broken: () => void }): Claim {
    const lease = this.#leases.acquire(project)
    if (!lease) throw this.#elsewhere(project, this.#leases.owner(project))
    const fence: Fence = {
      statement: this.#leases.fenceStatement(lease),
      sqlstate: FENCE_SQLSTATE,
      failure: () => {
        setTimeout(on.lost, 0)
        return new LeaseLostError(project)
      },
    }
    const host = new PostgresHost({ url: this.#options.url, root: this.#options.root, fence, onBroken: on.broken })
    return { lease, host }
  }

  renew(lease: Lease): boolean {
    return this.#leases.renew(lease)
  }

  release(lease: Lease): void {
    this.#leases.release(lease)
  }

  /** Projects whose owner stopped renewing: to take over. */
  orphaned(): string[] {
    return this.#leases.expired()
  }

  close(): void {
    this.#leases.close()
  }

  #elsewhere(project: string, owner: LeaseOwner | null): ApiError {
    return owner && !owner.expired ? new NotOwnerError(project, owner.address) : new NoOwnerError(project)
  }
}
