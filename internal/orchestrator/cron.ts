/**
 * Cron expressions of schedules (our improvement, issue 11), read by croner and described by
 * cronstrue rather than by a parser of our own: five fields (minute, hour, day of month, month,
 * day of week) with ranges, lists, steps and names (`0-59/15 9-17 * jan,jul mon-fri`), or a macro
 * (`@hourly`, `@daily`/`@midnight`, `@weekly`, `@monthly`, `@yearly`/`@annually`), in an IANA
 * time zone. Day of month and day of week combine with OR when both are restricted, as in Vixie
 * cron. Across DST changes croner keeps one due time per matching wall-clock time: a time the
 * spring change skips fires at the first instant after the gap, and one the autumn change repeats
 * fires once, at its first occurrence. This is the only file that imports croner or cronstrue.
 */
import { Cron } from 'croner'
import cronstrue from 'cronstrue'

/** A cron or time zone that cannot be used; the message says what is wrong. */
export class CronError extends Error {
  override readonly name = 'CronError'
}

/** A parsed cron in a time zone; due times are Unix milliseconds at whole minutes. */
export class CronSchedule {
  readonly expression: string
  /** the canonical IANA name (`utc` → `UTC`) */
  readonly timezone: string
  readonly #cron: Cron

  private constructor(expression: string, timezone: string, cron: Cron) {
    this.expression = expression
    this.timezone = timezone
    this.#cron = cron
  }

  /**
   * @example
   * CronSchedule.parse('0 6 * * 1-5', 'Europe/Paris').nextAfter(Date.now())
   * @throws CronError for a bad expression or an unknown time zone
   */
  static parse(expression: string, timezone = 'UTC'): CronSchedule {
    const text = expression.trim()
    if (text.length === 0 || text.length > 200) throw new CronError('a cron expression has five fields or is a macro such as @daily')
    if (text.toLowerCase() === '@reboot') throw new CronError('@reboot is not a schedule: use a cron expression or @hourly, @daily, …')
    let zone: string
    try {
      zone = new Intl.DateTimeFormat('en-US', { timeZone: timezone }).resolvedOptions().timeZone
    } catch {
      throw new CronError(`unknown time zone: ${timezone} (use an IANA name such as Europe/Paris)`)
    }
    let cron: Cron
    try {
      // without a function croner only evaluates: it starts no timer
      cron = new Cron(text, { timezone: zone, mode: '5-part' })
    } catch (err) {
      throw new CronError(`invalid cron expression "${text}": ${(err as Error).message.replace(/^CronPattern: /, '')}`)
    }
    return new CronSchedule(text, zone, cron)
  }

  /** The first due time strictly after `after`, or null when there is none. */
  nextAfter(after: number): number | null {
    return this.#cron.nextRun(new Date(after))?.getTime() ?? null
  }

  /** The last due time in (`after`, `now`], or null when none has come since `after`. */
  latestDue(after: number, now: number): number | null {
    let due = this.nextAfter(after)
    if (due === null || due > now) return null
    // after a long gap (a per-minute cron after a week down), jump near `now` instead of
    // stepping through every due time; the walk below then lands on the last one exactly
    const near = this.#cron
      .previousRuns(2, new Date(now + 60_000))
      .map((d) => d.getTime())
      .filter((t) => t > due! && t <= now)
    if (near.length > 0) due = Math.max(...near)
    for (;;) {
      const next = this.nextAfter(due)
      if (next === null || next > now) return due
      due = next
    }
  }

  /** The expression in words, 24-hour clock: `At 06:00, Monday through Friday`. */
  describe(): string {
    try {
      return cronstrue.toString(this.expression, { use24HourTimeFormat: true })
    } catch {
      // cronstrue reads a few spellings croner accepts differently: show the expression itself
      return this.expression
    }
  }
}
