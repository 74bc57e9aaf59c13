import type { ServerFrame } from '../protocol/worker.ts'

/** A live worker connection, as the orchestrator sees it. */
export interface WorkerChannel {
  send(frame: ServerFrame): void
  close(code: number, reason: string): void
  /** our CBOR worker understands acknowledgement frames; 0.12 JSON workers don't */
  readonly supportsAcks: boolean
}

/** What changed, for topic subscribers. */
export type ChangeEvent =
  | { kind: 'run'; runId: number }
  | { kind: 'workspaces' }
  /** a service token was created or revoked (the `tokens` topic) */
  | { kind: 'tokens' }
  | { kind: 'queue'; workspaceId: number }
  | { kind: 'sessions'; workspaceId: number }
  | { kind: 'manifests'; workspaceId: number }
  | { kind: 'pools'; workspaceId: number }
  /** a schedule was created, changed, removed or fired (the `schedules` topic) */
  | { kind: 'schedules'; workspaceId: number }
  /** an input was created or answered, or the executions waiting on one changed */
  | { kind: 'inputs' }

/** A select or cancel handle with its server id. */
export type ResolvedHandle = { kind: 'execution'; id: number } | { kind: 'input'; id: number }

/** The key a session's declared targets are indexed by. */
export function targetKey(type: 'task' | 'workflow', module: string, target: string): string {
  return `${type}\0${module}\0${target}`
}
