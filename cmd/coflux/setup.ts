import { defineCommand } from 'citty'
import { resolve } from 'node:path'
import { detectAdapters } from '../../internal/adapter/index.ts'
import { commandEnv, runSetupWizard } from '../../internal/cli-ui/index.ts'
import { DEFAULT_HOST, readSetupValues, workspaceNameFor, writeSetupValues } from '../../internal/config/index.ts'

/** `coflux setup` (cli.md §8.18): writes coflux.toml (the -c path), keeping keys it does not set. */
export default defineCommand({
  meta: { name: 'setup', description: 'Write coflux.toml (host, workspace, adapter)' },
  args: {
    // the global --host, with 0.12's -H accepted here
    host: { type: 'string', alias: 'H', valueHint: 'HOST', description: 'Host to write' },
    adapter: { type: 'string', valueHint: '"CMD ARGS…"', description: 'Adapter command, space-separated' },
    detect: { type: 'boolean', description: 'Take the best detected adapter without asking' },
  },
  async run(ctx) {
    const { out, log, io, line } = commandEnv(ctx)
    const a = line.args as Record<string, string | boolean | undefined>
    const path = resolve(io.cwd, (a.config as string | undefined) ?? io.env.COFLUX_CONFIG ?? 'coflux.toml')
    const existing = readSetupValues(path)
    const flagHost = a.host as string | undefined
    const flagAdapter = typeof a.adapter === 'string' ? a.adapter.trim().split(/\s+/).filter(Boolean) : undefined
    const [best] = detectAdapters(io.cwd)
    const defaults = {
      host: flagHost ?? existing.host ?? DEFAULT_HOST,
      workspace: (a.workspace as string | undefined) ?? existing.workspace ?? workspaceNameFor(io.cwd),
    }
    let values
    if (out.isInteractive && !out.isJson && !a.detect) {
      values = await runSetupWizard({ ...defaults, adapterFlag: flagAdapter, existingAdapter: existing.adapter, detected: best })
    } else {
      values = { ...defaults, adapter: flagAdapter ?? existing.adapter ?? best?.argv }
    }
    writeSetupValues(path, values)
    if (!values.adapter) log.warn("no adapter configured; add 'adapter' under [worker] in coflux.toml before running 'coflux worker'")
    out.result({ path, host: values.host, workspace: values.workspace, adapter: values.adapter ?? null }, () => [
      `Configuration written to '${path}'.`,
      "Run 'coflux worker <modules...>' to start.",
    ])
  },
})
