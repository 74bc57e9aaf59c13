/**
 * Building a `submit_workflow` request (cli.md §8.2): the workflow's registered configuration
 * supplies defaults, flags override, and arguments are checked locally as JSON first.
 */
import { parseJson } from '../protocol/json.ts'
import type { ConcurrencyConfig, RetriesConfig, SubmitWorkflowRequest, TagSet, WorkflowConfiguration } from '../protocol/api.ts'

/** `module/target`, split on the last `/` (cli.md §1). */
export function parseTargetSpec(text: string): { module: string; target: string } {
  const i = text.lastIndexOf('/')
  if (i <= 0 || i === text.length - 1) {
    throw new Error(`invalid target format: expected 'module/target', got '${text}'`)
  }
  return { module: text.slice(0, i), target: text.slice(i + 1) }
}

/** Each argument must be JSON text; it is sent as typed (`["json", text]`). */
export function jsonArguments(texts: string[]): ['json', string][] {
  return texts.map((text, i) => {
    try {
      parseJson(text)
    } catch (err) {
      throw new Error(`invalid JSON in argument ${i + 1}: ${(err as Error).message}`)
    }
    return ['json', text]
  })
}

/**
 * `key:value` items grouped into a tag set; a bare `key` means `key:true` (cli.md §8.1 step 7).
 *
 * @example
 * parseTagItems(['gpu:A100', 'gpu:H100', 'fast']) // {gpu: ['A100', 'H100'], fast: ['true']}
 */
export function parseTagItems(items: string[]): TagSet {
  const out: TagSet = {}
  for (const item of items) {
    const i = item.indexOf(':')
    const key = (i === -1 ? item : item.slice(0, i)).trim()
    const value = i === -1 ? 'true' : item.slice(i + 1).trim()
    if (!key) continue
    const list = (out[key] ??= [])
    if (!list.includes(value)) list.push(value)
  }
  return out
}

export interface SubmitOverrides {
  /** replace `requires` entirely; `{}` for `--no-requires` */
  requires?: TagSet
  memo?: boolean
  /** ms */
  delay?: number
  /** `--retries N`: N ≤ 0 → none */
  retries?: number
  /** `--resumes N` (N ≥ 0; 0 = never resume) */
  resumes?: number
  /** `--priority N` (any integer; higher runs first) */
  priority?: number
  /** replace the workflow's limit; null: none */
  concurrency?: ConcurrencyConfig | null
  idempotencyKey?: string
}

export function buildSubmitRequest(
  target: { workspaceId: string; module: string; target: string },
  args: ['json', string][],
  configuration: WorkflowConfiguration | null,
  overrides: SubmitOverrides = {},
): SubmitWorkflowRequest {
  const req: SubmitWorkflowRequest = { ...target, arguments: args }
  const c = configuration
  if (c) {
    req.waitFor = c.waitFor ?? []
    req.cache = c.cache ?? null
    req.defer = c.defer ?? null
    if (c.delay > 0) req.delay = c.delay
    req.retries = c.retries ?? null
    if (c.recurrent) req.recurrent = true
    if (c.requires) req.requires = c.requires
    req.memo = c.memo === true
    if (c.timeout > 0) req.timeout = c.timeout
    // manifests registered before `resumes` existed have none: leave it to the server's default
    if (c.resumes != null) req.resumes = c.resumes
    // the template is sent as declared: the server resolves it with the arguments
    if (c.priority != null) req.priority = c.priority
    if (c.concurrency != null) req.concurrency = c.concurrency
  }
  if (overrides.requires !== undefined) req.requires = overrides.requires
  if (overrides.memo !== undefined) req.memo = overrides.memo
  if (overrides.delay !== undefined) req.delay = overrides.delay
  if (overrides.retries !== undefined) {
    req.retries = overrides.retries <= 0 ? null : ({ limit: overrides.retries, backoffMin: 0, backoffMax: 0 } satisfies RetriesConfig)
  }
  if (overrides.resumes !== undefined) req.resumes = overrides.resumes
  if (overrides.priority !== undefined) req.priority = overrides.priority
  if (overrides.concurrency !== undefined) req.concurrency = overrides.concurrency
  if (overrides.idempotencyKey) req.idempotencyKey = overrides.idempotencyKey
  return req
}
