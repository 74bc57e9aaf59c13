import { defineCommand } from 'citty'
import {
  ExitError,
  followRun,
  renderResultText,
  renderRunTree,
  withContext,
} from '../../internal/cli-ui/index.ts'
import { findResultExecution, parseResultTarget } from '../../internal/client/index.ts'
import { runIdOf } from '../../internal/protocol/ids.ts'
import { blobJsonLoader, connect, noWaitArgs } from './_shared.ts'

const inspect = defineCommand({
  meta: { name: 'inspect', description: 'Show a run (waits for it unless --no-wait)' },
  args: { 'run-id': { type: 'positional', description: 'Run id' }, ...noWaitArgs },
  async run(ctx) {
    const runId = ctx.args['run-id'] as string
    const conn = await connect(ctx)
    const { client, out, log, workspaceId } = conn
    const wsId = await workspaceId()
    const run = await withContext('failed to get run', client.getRun(wsId, runId))
    if (ctx.args['no-wait']) {
      // 0.12 printed JSON whatever --output said; scripts rely on it off a TTY
      if (out.isJson || !out.isTTY) out.json(run)
      else out.text(renderRunTree(run, runId, out.colors))
      return
    }
    const code = await followRun({ client, workspaceId: wsId, runId, out, log, loadBlob: blobJsonLoader(conn) })
    if (code !== 0) throw new ExitError(code)
  },
})

const result = defineCommand({
  meta: { name: 'result', description: 'Show the result of a run, step or execution' },
  args: { target: { type: 'positional', description: '<run-id>[:<step>[:<attempt>]]' } },
  async run(ctx) {
    const target = parseResultTarget(ctx.args.target as string)
    const conn = await connect(ctx)
    const { client, out, workspaceId } = conn
    const wsId = await workspaceId()
    const run = await withContext('failed to get run', client.getRun(wsId, target.runId))
    const execution = findResultExecution(run, target)
    const res = execution.result
    if (!res) throw new Error('no result yet')
    if (out.isJson) return out.json(res)
    // a blob that cannot be fetched is shown as <blob (size)>
    const blobData = res.type === 'value' && res.value.type === 'blob' ? await blobJsonLoader(conn)(res.value.key).catch(() => undefined) : undefined
    out.text(renderResultText(res, out.colors, blobData))
  },
})

const rerun = defineCommand({
  meta: { name: 'rerun', description: 'Re-run a step (in the configured workspace)' },
  args: { 'step-id': { type: 'positional', description: '<run-id>:<step-number>' }, ...noWaitArgs },
  async run(ctx) {
    const stepId = ctx.args['step-id'] as string
    if (!stepId.includes(':')) {
      throw new Error(`invalid step ID format: expected 'run-id:step-number', got '${stepId}'`)
    }
    const conn = await connect(ctx)
    const { client, out, log, workspaceId } = conn
    const wsId = await workspaceId()
    const { executionId, attempt } = await withContext('failed to rerun step', client.rerunStep(wsId, stepId))
    if (ctx.args['no-wait']) {
      out.result({ executionId, attempt }, () => `Step re-run (execution: ${executionId}, attempt: ${attempt}).`)
      return
    }
    const runId = runIdOf(stepId)
    const code = await followRun({ client, workspaceId: wsId, runId, out, log, intro: `${executionId}:${attempt}`, loadBlob: blobJsonLoader(conn) })
    if (code !== 0) throw new ExitError(code)
  },
})

const cancel = defineCommand({
  meta: { name: 'cancel', description: 'Cancel an execution and its unfinished descendants' },
  args: { 'execution-id': { type: 'positional', description: '<run-id>:<step>:<attempt>' } },
  async run(ctx) {
    const { client, out, workspaceId } = await connect(ctx)
    const wsId = await workspaceId()
    await withContext('failed to cancel execution', client.cancelExecution(wsId, ctx.args['execution-id'] as string))
    out.result({ cancelled: true }, () => 'Execution cancelled.')
  },
})

/** `coflux runs …` (cli.md §8.3–§8.6) */
export default defineCommand({
  meta: { name: 'runs', description: 'Inspect, rerun and cancel runs' },
  subCommands: { inspect, result, rerun, cancel },
})
