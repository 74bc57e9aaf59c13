/**
 * Which server a client talks to when `host` lists several (`a:7777,b:7777`, issue 10): the one
 * that last answered, initially the first. A 307 names the project's owner, which becomes
 * current even when it is not in the list; a host that cannot be reached (or has no owner to
 * name yet) hands over to the next configured one, cycling.
 */
export class ServerHosts {
  /** the configured hosts, in order (never empty) */
  readonly configured: readonly string[]
  /** the configured entry last used: `advance` continues after it */
  #index = 0
  #current: string

  /** `host` as the config gives it: one `host[:port]`, or several joined by commas. */
  constructor(host: string) {
    const hosts = host.split(',').map((h) => h.trim()).filter((h) => h !== '')
    this.configured = hosts.length > 0 ? hosts : [host]
    this.#current = this.configured[0]!
  }

  /** Where the next request goes. */
  get current(): string {
    return this.#current
  }

  /** Whether another host could be asked when the current one fails. */
  get hasAlternative(): boolean {
    return this.configured.length > 1 || this.#current !== this.configured[0]
  }

  /** A 307 named `owner`: it serves the project from now on. */
  follow(owner: string): void {
    const index = this.configured.indexOf(owner)
    if (index >= 0) this.#index = index
    this.#current = owner
  }

  /**
   * The current host failed: the next configured one. From an owner outside the list, the
   * configured host that pointed there comes first (it knows who owns the project now).
   */
  advance(): string {
    if (this.configured[this.#index] === this.#current) this.#index = (this.#index + 1) % this.configured.length
    this.#current = this.configured[this.#index]!
    return this.#current
  }
}
