/**
 * What the log and metric stores share: a buffered writer in front of partitioned SQLite files
 * (the active one plus archives). Subclasses add their own append, subscribe and query.
 */
import { BufferedWriter } from './buffered-writer.ts'
import { PARTITION_MAX_BYTES, PartitionFile, Partitions } from './partitions.ts'

export abstract class PartitionedStore<P extends PartitionFile, Pending, Stored extends { runId: string }> {
  protected readonly partitions: Partitions<P>
  protected readonly writer: BufferedWriter<Pending, Stored>

  protected constructor(partitions: Partitions<P>, makeWriter: (partitions: Partitions<P>) => BufferedWriter<Pending, Stored>) {
    this.partitions = partitions
    this.writer = makeWriter(partitions)
  }

  /** Writes every buffered entry in one transaction, then notifies subscribers. */
  flush(): void {
    this.writer.flush()
  }

  /**
   * Writes what is buffered, then archives the active partition and starts an empty one;
   * returns the archive's id. Pages and live readers go on across it.
   */
  rotate(now = Date.now()): string {
    this.writer.flush()
    return this.partitions.rotate(now)
  }

  /** `rotate` once the active partition has reached `maxBytes` (default 100 MiB); the archive's id, if it did. */
  rotateIfLarger(maxBytes = PARTITION_MAX_BYTES): string | null {
    return this.partitions.sizeBytes() >= maxBytes ? this.rotate() : null
  }

  /** Archived partitions, oldest first. */
  archives(): { id: string; archivedAt: number }[] {
    return this.partitions.list()
  }

  /**
   * Retention (semantics.md §23.3): deletes the archived partitions archived before `cutoff`;
   * their ids. Cursors into them continue with the next partition (`Partitions.readOrder`).
   */
  deleteArchivedBefore(cutoff: number): string[] {
    return this.partitions.deleteArchivedBefore(cutoff)
  }

  /** Persists everything still buffered and closes the files. */
  close(): void {
    this.writer.close(() => this.partitions.close())
  }
}
