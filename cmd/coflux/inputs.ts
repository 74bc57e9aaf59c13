import { defineCommand } from 'citty'
import {
  formatDateTime,
  formatTags,
  renderTable,
  renderValueData,
  valueColors,
  withContext,
} from '../../internal/cli-ui/index.ts'
import type { InputDetail } from '../../internal/client/index.ts'
import { parseJson, type Json } from '../../internal/protocol/json.ts'
import { connect } from './_shared.ts'

const list = defineCommand({
  meta: { name: 'list', description: 'List inputs waiting for a response' },
  args: { run: { type: 'string', valueHint: 'RUN', description: 'Only inputs of this run' } },
  async run(ctx) {
    const { client, out, workspaceId } = await connect(ctx)
    const all = await withContext('failed to get inputs', client.getInputs(await workspaceId()))
    const run = ctx.args.run as string | undefined
    const inputs = Object.fromEntries(Object.entries(all).filter(([, i]) => !run || i.runId === run))
    out.result(inputs, (data, c) => {
      const rows = Object.entries(data)
        .sort(([, a], [, b]) => a.createdAt - b.createdAt)
        .map(([id, i]) => [id, i.runId ?? '-', i.executionId ?? '-', i.key ?? '-', formatTags(i.requires), formatDateTime(i.createdAt)])
      return rows.length ? renderTable(['ID', 'Run', 'Execution', 'Key', 'Requires', 'Created'], rows, c) : 'No pending inputs.'
    })
  },
})

const inspect = defineCommand({
  meta: { name: 'inspect', description: 'Show an input and its response' },
  args: { 'input-id': { type: 'positional', description: 'Input id (<run-id>/i<n>)' } },
  async run(ctx) {
    const id = ctx.args['input-id'] as string
    const { client, out } = await connect(ctx)
    const input = await withContext('failed to get input', client.getInput(id))
    out.result(input, (i, c) => renderInput(id, i, c))
  },
})

function renderInput(id: string, i: InputDetail, c: Parameters<typeof valueColors>[0]): string[] {
  const vc = valueColors(c)
  const prompt = (i.template ?? '').replace(/\{([^{}]+)\}/g, (whole, name: string) => {
    const v = i.placeholders[name]
    if (!v) return whole
    return v.type === 'raw' ? renderValueData(v.data, v.references, vc) : '<blob>'
  })
  const lines = [`Input: ${id}${i.title ? ` (${i.title})` : ''}`]
  if (i.key) lines.push(`Key: ${i.key}`)
  lines.push(`Created: ${formatDateTime(i.createdAt)}`)
  if (Object.keys(i.requires ?? {}).length) lines.push(`Requires: ${formatTags(i.requires)}`)
  lines.push(`Prompt: ${prompt}`)
  if (i.schema) {
    let schema = i.schema
    try {
      schema = JSON.stringify(JSON.parse(i.schema), null, 2)
    } catch {
      // show as sent
    }
    lines.push('Schema:', ...schema.split('\n').map((l) => `  ${l}`))
  }
  lines.push(`Status: ${i.response?.type ?? 'pending'}`)
  if (i.response) {
    lines.push(`Responded: ${formatDateTime(i.response.createdAt)}`)
    if (i.response.type === 'value') lines.push(`Value: ${renderValueData((i.response.value ?? null) as Json, [], vc)}`)
  }
  return lines
}

const respond = defineCommand({
  meta: { name: 'respond', description: 'Respond to an input with a JSON value' },
  args: {
    'input-id': { type: 'positional', description: 'Input id' },
    value: { type: 'positional', description: 'The response, as JSON' },
  },
  async run(ctx) {
    const id = ctx.args['input-id'] as string
    let value: Json
    try {
      value = parseJson(ctx.args.value as string)
    } catch (err) {
      throw new Error(`invalid JSON value: ${(err as Error).message}`)
    }
    const { client, out } = await connect(ctx)
    await withContext('failed to respond to input', client.respondInput(id, value))
    out.result({ responded: true }, () => `Input '${id}' responded.`)
  },
})

const dismiss = defineCommand({
  meta: { name: 'dismiss', description: 'Dismiss an input' },
  args: { 'input-id': { type: 'positional', description: 'Input id' } },
  async run(ctx) {
    const id = ctx.args['input-id'] as string
    const { client, out } = await connect(ctx)
    await withContext('failed to dismiss input', client.dismissInput(id))
    out.result({ dismissed: true }, () => `Input '${id}' dismissed.`)
  },
})

/** `coflux inputs …` (cli.md §8.17) */
export default defineCommand({
  meta: { name: 'inputs', description: 'List, inspect and respond to inputs' },
  subCommands: { list, inspect, respond, dismiss },
})
