import { defineCommand } from 'citty'
import { resolve } from 'node:path'
import { buildManifests, detectAdapters, discoverTargets, findCofluxModules } from '../../internal/adapter/index.ts'
import { commandEnv, confirmRegistration, describeError, runSetupWizard, withContext, type CommandEnv, type Colors } from '../../internal/cli-ui/index.ts'
import { createClient, resolveWorkspaceId, type CofluxClient } from '../../internal/client/index.ts'
import { DEFAULT_HOST, readSetupValues, resolveConfig, workspaceNameFor, writeSetupValues, type SetupValues } from '../../internal/config/index.ts'

/** How long setup waits for the server before reporting that it does not answer. */
const CHECK_TIMEOUT_MS = 5_000

type ServerCheck = { ok: true; version: string; client: CofluxClient } | { ok: false; error: string }

interface SetupResult {
  path: string
  host: string
  workspace: string
  adapter: string[] | null
  /** `GET /api/discover` at the written host; null with --no-check */
  server: { ok: boolean; version?: string; error?: string } | null
  /** module → its workflows, for the modules under the directory that import coflux */
  modules: Record<string, string[]>
  registered: boolean
}

/**
 * `coflux setup` (cli.md §8.18): writes coflux.toml (the -c path, created when missing), keeping
 * keys it does not set; then checks the server, lists the modules with workflows and offers to
 * register them (`--register` without a terminal).
 */
export default defineCommand({
  meta: { name: 'setup', description: 'Write coflux.toml (host, workspace, adapter), check the server, register modules' },
  args: {
    // the global --host, with 0.12's -H accepted here
    host: { type: 'string', alias: 'H', valueHint: 'HOST', description: 'Host to write' },
    adapter: { type: 'string', valueHint: '"CMD ARGS…"', description: 'Adapter command, space-separated' },
    detect: { type: 'boolean', description: 'Take the best detected adapter without asking' },
    register: { type: 'boolean', description: 'Register the workflows found without asking' },
    'no-check': { type: 'boolean', description: 'Only write the file: no server check, no module discovery' },
  },
  async run(ctx) {
    const env = commandEnv(ctx, { allowMissingConfig: true })
    const { out, log, io, line } = env
    const a = line.args as Record<string, string | boolean | undefined>
    const path = resolve(io.cwd, (a.config as string | undefined) ?? io.env.COFLUX_CONFIG ?? 'coflux.toml')
    const existing = readSetupValues(path)
    const flagAdapter = typeof a.adapter === 'string' ? a.adapter.trim().split(/\s+/).filter(Boolean) : undefined
    const [best] = detectAdapters(io.cwd)
    const defaults = {
      host: (a.host as string | undefined) ?? existing.host ?? DEFAULT_HOST,
      workspace: (a.workspace as string | undefined) ?? existing.workspace ?? workspaceNameFor(io.cwd),
    }
    const isInteractive = out.isInteractive && !out.isJson
    const values =
      isInteractive && !a.detect
        ? await runSetupWizard({ ...defaults, adapterFlag: flagAdapter, existingAdapter: existing.adapter, detected: best })
        : { ...defaults, adapter: flagAdapter ?? existing.adapter ?? best?.argv }
    writeSetupValues(path, values)
    if (!values.adapter) log.warn("no adapter configured; add 'adapter' under [worker] in coflux.toml before running 'coflux worker'")

    const result: SetupResult = { path, ...values, adapter: values.adapter ?? null, server: null, modules: {}, registered: false }
    if (a['no-check'] !== true) {
      const { config } = resolveConfig({ flags: { config: path, host: values.host, workspace: values.workspace, project: str(a.project), token: str(a.token) }, env: io.env, cwd: io.cwd })
      const server = await checkServer(config)
      result.server = server.ok ? { ok: true, version: server.version } : { ok: false, error: server.error }
      const found = await findWorkflows(env, values, config)
      result.modules = found.modules
      const names = Object.keys(found.modules)
      if (server.ok && names.length > 0 && (a.register === true || (isInteractive && (await confirmRegistration(found.modules, values.workspace))))) {
        const wsId = await resolveWorkspaceId(server.client, values.workspace, { autoCreate: true })
        await withContext('failed to register manifests', server.client.registerManifests(wsId, buildManifests(found.targets)))
        result.registered = true
      }
    }
    out.result(result, renderSetup)
  },
})

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

async function checkServer(config: Parameters<typeof createClient>[0]): Promise<ServerCheck> {
  try {
    const client = await createClient(config)
    const usual = client.timeoutMs
    client.timeoutMs = CHECK_TIMEOUT_MS
    const { version } = await client.discover()
    client.timeoutMs = usual
    return { ok: true, version, client }
  } catch (err) {
    return { ok: false, error: describeError(err) }
  }
}

/** The modules under the directory that import coflux, asked to the adapter for their workflows. */
async function findWorkflows(env: CommandEnv, values: SetupValues, config: Parameters<typeof discoverTargets>[0]['config']) {
  const candidates = findCofluxModules(env.io.cwd)
  const modules: Record<string, string[]> = {}
  if (candidates.length === 0 || !values.adapter) return { modules, targets: [] }
  try {
    const { targets } = await discoverTargets({ flag: values.adapter, config, cwd: env.io.cwd, modules: candidates, onWarning: (l) => env.log.debug(l) })
    for (const t of targets) if (t.type === 'workflow') (modules[t.module] ??= []).push(t.name)
    return { modules, targets }
  } catch (err) {
    env.log.warn(`could not list the workflows of ${candidates.join(', ')}: ${describeError(err)}`)
    return { modules, targets: [] }
  }
}

function renderSetup(r: SetupResult, c: Colors): string[] {
  const lines = [`Configuration written to '${r.path}'.`]
  const names = Object.keys(r.modules)
  if (r.server?.ok) lines.push(`${c.green('✓')} Server at ${r.host} answers (version ${r.server.version}).`)
  else if (r.server) lines.push(`${c.red('✗')} No answer from a server at ${r.host}: ${r.server.error}`)
  if (r.server && names.length === 0) lines.push('No modules with workflows found here.')
  if (names.length > 0) {
    lines.push('Modules with workflows:')
    for (const m of names) lines.push(`  ${m}  ${r.modules[m]!.join(', ')}`)
    if (r.registered) lines.push(`${c.green('✓')} Registered ${names.length === 1 ? '1 module' : `${names.length} modules`} in workspace '${r.workspace}'.`)
    else lines.push(`Register them with 'coflux manifests register ${names.join(' ')}' (or 'coflux setup --register').`)
  }
  lines.push(`Run 'coflux worker ${names.length > 0 ? names.join(' ') : '<modules...>'}' to start.`)
  return lines
}
