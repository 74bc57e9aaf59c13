import { defineCommand } from 'citty'
import { LogPrinter, onInterrupt, UsageError, withContext } from '../../internal/cli-ui/index.ts'
import { executionIndex, fetchAllLogs, findLogExecution, followLogs, type LogQuery } from '../../internal/client/index.ts'
import { connect } from './_shared.ts'

/** `coflux logs <run-id> [<step-id>:<attempt>]` (cli.md §8.15) */
export default defineCommand({
  meta: { name: 'logs', description: 'Show the logs of a run or one execution' },
  args: {
    'run-id': { type: 'positional', description: 'Run id' },
    execution: { type: 'positional', required: false, description: '<run-id>:<step>:<attempt>' },
    follow: { type: 'boolean', alias: 'f', description: 'Stream new entries until interrupted' },
    from: { type: 'string', valueHint: 'MS', description: 'Only entries at or after this Unix time (ms)' },
  },
  async run(ctx) {
    const a = ctx.args
    if (a.from !== undefined && !/^\d+$/.test(a.from as string)) {
      throw new UsageError(`invalid value for --from: "${a.from}" (expected Unix milliseconds)`)
    }
    const runId = a['run-id'] as string
    const { client, out, workspaceId } = await connect(ctx)
    const wsId = await workspaceId()
    const needsRun = a.execution !== undefined || !out.isJson
    const run = needsRun ? await withContext('failed to get run', client.getRun(wsId, runId)) : undefined
    const query: LogQuery = {
      runId,
      workspaceIds: [wsId],
      executionId: a.execution !== undefined ? findLogExecution(run!, a.execution as string) : undefined,
      from: a.from !== undefined ? Number(a.from) : undefined,
    }
    const index = run ? executionIndex(run) : new Map()
    const printer = new LogPrinter(out.colors, out.isTTY, (id) => index.get(id))
    if (!a.follow) {
      const page = await withContext('failed to get logs', fetchAllLogs(client, query))
      out.result(page, () => (page.logs.length ? page.logs.flatMap((e) => printer.lines(e)) : []))
      return
    }
    const interrupt = onInterrupt()
    try {
      for await (const batch of followLogs(client, query, interrupt.signal)) {
        for (const entry of batch) {
          if (out.isJson) out.jsonLine(entry)
          else out.text(printer.lines(entry))
        }
      }
    } finally {
      interrupt.dispose()
    }
  },
})
