import { defineCommand } from 'citty'
import { buildManifests, discoverOutput, discoverTargets, parseAdapterFlag, resolveModules } from '../../internal/adapter/index.ts'
import { commandEnv, variadic, watchView, withContext, type CommandEnv } from '../../internal/cli-ui/index.ts'
import type { ManifestsTopic } from '../../internal/client/index.ts'
import { connect, positionals } from './_shared.ts'

const modulesArg = variadic({ type: 'positional', required: false, description: 'Modules (default: worker.modules)' })

async function discover(env: CommandEnv, mods: string[]) {
  const adapter = env.line.args.adapter as string | undefined
  return discoverTargets({
    flag: adapter !== undefined ? parseAdapterFlag(adapter) : undefined,
    config: env.config,
    cwd: env.io.cwd,
    modules: resolveModules(mods, env.config),
    onDetected: (label, argv) => env.log.info(`using detected adapter ${label}: ${argv.join(' ')}`),
    onWarning: (line) => env.log.warn(line),
  })
}

const discoverCommand = defineCommand({
  meta: { name: 'discover', description: 'List the workflows in modules (runs the adapter locally)' },
  args: { modules: modulesArg },
  async run(ctx) {
    const env = commandEnv(ctx)
    const { targets } = await discover(env, positionals(ctx))
    const workflows = targets.filter((t) => t.type === 'workflow')
    env.out.result({ targets: workflows.map(discoverOutput) }, () =>
      workflows.length ? workflows.map((t) => `${t.module}/${t.name}`) : 'No workflows discovered.',
    )
  },
})

const register = defineCommand({
  meta: { name: 'register', description: 'Discover workflows and register their manifests' },
  args: { modules: modulesArg },
  async run(ctx) {
    const conn = await connect(ctx)
    const { targets } = await discover(conn, positionals(ctx))
    const manifests = buildManifests(targets)
    const wsId = await conn.workspaceId({ autoCreate: true })
    await withContext('failed to register manifests', conn.client.registerManifests(wsId, manifests))
    const modules = Object.fromEntries(Object.entries(manifests).map(([m, wfs]) => [m, Object.keys(wfs)]))
    conn.out.result({ workspaceId: wsId, modules }, () => 'Manifest(s) registered.')
  },
})

const archive = defineCommand({
  meta: { name: 'archive', description: 'Archive a module (hide it until registered again)' },
  args: { module: { type: 'positional', description: 'Module name' } },
  async run(ctx) {
    const { client, out, workspaceId } = await connect(ctx)
    const module = ctx.args.module as string
    await withContext('failed to archive module', client.archiveModule(await workspaceId(), module))
    out.result({ module, archived: true }, () => `Archived module '${module}'.`)
  },
})

const inspect = defineCommand({
  meta: { name: 'inspect', description: 'Show the registered manifests' },
  args: { watch: { type: 'boolean', description: 'Keep the view updated (TTY only)' } },
  async run(ctx) {
    const { client, out, workspaceId } = await connect(ctx)
    const wsId = await workspaceId()
    const fetch = () => withContext('failed to get manifests', client.getManifests(wsId))
    await watchView(out, { watch: ctx.args.watch === true, fetch, render: renderManifests })
  },
})

function renderManifests(manifests: ManifestsTopic, c: { bold: (s: string) => string }): string[] {
  const modules = Object.keys(manifests).sort()
  if (modules.length === 0) return ['No modules registered.']
  const lines: string[] = []
  for (const m of modules) {
    lines.push(c.bold(m))
    for (const name of Object.keys(manifests[m]!).sort()) {
      const params = manifests[m]![name]!.parameters.map((p) => p.name).join(', ')
      lines.push(`  ${name}  (${params})`)
    }
  }
  return lines
}

/** `coflux manifests …` (cli.md §8.9); `--adapter` is accepted before or after the subcommand. */
export default defineCommand({
  meta: { name: 'manifests', description: 'Discover, register and inspect workflow manifests' },
  args: { adapter: { type: 'string', valueHint: 'CMD,ARG,…', description: 'Adapter command (comma-separated or a JSON array)' } },
  subCommands: { discover: discoverCommand, register, archive, inspect },
})
