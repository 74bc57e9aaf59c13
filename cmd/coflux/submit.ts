import { defineCommand, type CommandContext } from 'citty'
import { commandData, ExitError, followRun, listFlag, UsageError, variadic, withContext } from '../../internal/cli-ui/index.ts'
import {
  buildSubmitRequest,
  jsonArguments,
  parseTagItems,
  parseTargetSpec,
  type SubmitOverrides,
} from '../../internal/client/index.ts'
import { blobJsonLoader, connect, noWaitArgs, positionals } from './_shared.ts'

/** `coflux submit <module/target> [arguments…]` (cli.md §8.2) */
export default defineCommand({
  meta: { name: 'submit', description: 'Submit a workflow run' },
  args: {
    target: { type: 'positional', description: 'Workflow as module/target' },
    arguments: variadic({ type: 'positional', required: false, description: 'Arguments, each a JSON text' }),
    ...noWaitArgs,
    'idempotency-key': { type: 'string', valueHint: 'KEY', description: 'Return the original run for a repeated key (24 h)' },
    requires: { type: 'string', valueHint: 'K:V,…', description: "Replace the workflow's requires (repeatable)" },
    'no-requires': { type: 'boolean', description: 'Submit with no requires' },
    memo: { type: 'boolean', description: 'Force run-level memoisation on (--no-memo: off)' },
    delay: { type: 'string', valueHint: 'SECONDS', description: 'Override the delay' },
    retries: { type: 'string', valueHint: 'N', description: 'Override the retry limit (≤ 0: none)' },
    resumes: { type: 'string', valueHint: 'N', description: "Override how often the run is resumed after its worker dies (0: never)" },
    priority: { type: 'string', valueHint: 'N', description: "Override the run's priority (an integer, may be negative; higher runs first)" },
  },
  async run(ctx) {
    const a = ctx.args
    const [spec, ...texts] = positionals(ctx)
    const overrides = submitOverrides(ctx)
    const { module, target } = parseTargetSpec(spec!)
    const args = jsonArguments(texts)
    const conn = await connect(ctx)
    const { client, out, log, workspaceId } = conn
    const wsId = await workspaceId({ autoCreate: true })
    const workflow = await withContext('failed to get workflow', client.getWorkflow(wsId, module, target))
    const request = buildSubmitRequest({ workspaceId: wsId, module, target }, args, workflow.configuration, {
      ...overrides,
      idempotencyKey: a['idempotency-key'],
    })
    const { runId, stepId, executionId } = await withContext('failed to submit workflow', client.submitWorkflow(request))
    if (a['no-wait']) {
      out.result({ runId, stepId, executionId }, () => `Workflow submitted (run: ${runId}).`)
      return
    }
    const code = await followRun({ client, workspaceId: wsId, runId, out, log, intro: runId, loadBlob: blobJsonLoader(conn) })
    if (code !== 0) throw new ExitError(code)
  },
})

function submitOverrides(ctx: CommandContext<any>): SubmitOverrides {
  const a = ctx.args as Record<string, string | boolean | undefined>
  const o: SubmitOverrides = {}
  const { line } = commandData(ctx)
  if (a.requires !== undefined && a['no-requires']) throw new UsageError('--requires and --no-requires cannot be used together')
  if (a.requires !== undefined) o.requires = parseTagItems(listFlag(line, 'requires'))
  if (a['no-requires']) o.requires = {}
  const memoFlags = new Set(line.ordered.filter((f) => f.name === 'memo').map((f) => f.value))
  if (memoFlags.size > 1) throw new UsageError('--memo and --no-memo cannot be used together')
  if (a.memo !== undefined) o.memo = a.memo === true
  if (a.delay !== undefined) {
    const seconds = Number(a.delay)
    if (String(a.delay).trim() === '' || !Number.isFinite(seconds) || seconds < 0) {
      throw new UsageError(`invalid value for --delay: "${a.delay}" (expected seconds)`)
    }
    o.delay = Math.floor(seconds * 1000)
  }
  if (a.retries !== undefined) {
    if (!/^-?\d+$/.test(String(a.retries))) throw new UsageError(`invalid value for --retries: "${a.retries}" (expected an integer)`)
    o.retries = Number(a.retries)
  }
  if (a.resumes !== undefined) {
    const resumes = Number(a.resumes)
    if (!/^\d+$/.test(String(a.resumes)) || !Number.isSafeInteger(resumes)) {
      throw new UsageError(`invalid value for --resumes: "${a.resumes}" (expected an integer ≥ 0)`)
    }
    o.resumes = resumes
  }
  if (a.priority !== undefined) {
    const priority = Number(a.priority)
    if (!/^[+-]?\d+$/.test(String(a.priority)) || !Number.isSafeInteger(priority)) {
      throw new UsageError(`invalid value for --priority: "${a.priority}" (expected an integer)`)
    }
    o.priority = priority
  }
  return o
}
