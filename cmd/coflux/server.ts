import { defineCommand } from 'citty'
import { commandEnv, listFlag } from '../../internal/cli-ui/index.ts'
import { describeBlobs, resolveServerSettings, startServer } from '../../internal/server/index.ts'
import { API_VERSION, VERSION } from '../../internal/protocol/version.ts'

/** `coflux server`: the orchestration server in this process (cli.md §8.19, http-api.md §2). */
export default defineCommand({
  meta: { name: 'server', description: 'Run the orchestration server in this process' },
  args: {
    port: { type: 'string', alias: 'p', description: 'Listen port (default 7777)' },
    'data-dir': { type: 'string', alias: 'd', description: 'Data directory (default ./data)' },
    'database-url': { type: 'string', description: 'PostgreSQL for the stores (postgres://user@host/db; default: SQLite under the data directory)' },
    bind: { type: 'string', description: 'Listen address (default 127.0.0.1 without credentials, else 0.0.0.0)' },
    'public-host': { type: 'string', description: "Public host; a '%' prefix enables subdomain routing" },
    'no-auth': { type: 'boolean', description: 'Disable authentication' },
    'super-token': { type: 'string', description: 'Super token (hashed before use)' },
    'super-token-hash': { type: 'string', description: 'SHA-256 hex of the super token' },
    secret: { type: 'string', description: 'Secret for signing service tokens' },
    launcher: { type: 'string', description: 'Allowed launcher types (docker, process, kubernetes)' },
    'studio-url': { type: 'string', description: 'Studio base URL' },
    'allow-origin': { type: 'string', description: 'CORS origins' },
    'cli-path': { type: 'string', description: 'Binary the process launcher runs' },
    'blobs-url': { type: 'string', description: 'Keep blobs in S3: s3://bucket/prefix (credentials from AWS_* / S3_*)' },
    image: { type: 'string', description: 'Ignored (compatibility)' },
  },
  async run(ctx) {
    const { config, out, log, io, line } = commandEnv(ctx)
    const a = line.args as Record<string, unknown>
    const flags: Record<string, unknown> = {
      port: a.port,
      data_dir: a['data-dir'],
      database_url: a['database-url'],
      bind: a.bind,
      public_host: a['public-host'],
      auth: a['no-auth'] === true ? false : undefined,
      super_token: a['super-token'],
      super_token_hash: a['super-token-hash'],
      secret: a.secret,
      launcher_types: a.launcher !== undefined ? listFlag(line, 'launcher') : undefined,
      studio_url: a['studio-url'],
      allow_origins: a['allow-origin'] !== undefined ? listFlag(line, 'allow-origin') : undefined,
      cli_path: a['cli-path'],
      blobs_url: a['blobs-url'],
      image: a.image,
      project: config.project,
      studio_teams: config.team ? [config.team] : undefined,
      log_level: a['log-level'],
    }
    for (const k of Object.keys(flags)) if (flags[k] === undefined) delete flags[k]
    const settings = resolveServerSettings(flags, io.env, config.server, io.cwd)
    const logger = log.withTag('server')
    for (const w of settings.warnings) logger.warn(w)
    if (settings.defaultedProject) out.note('No project specified, using "default"')
    const server = startServer(settings, {
      debug: (m) => logger.debug(m),
      info: (m) => logger.info(m),
      warn: (m) => logger.warn(m),
      error: (m) => logger.error(m),
    })
    out.note(`Starting Coflux server on port ${server.port}...`)
    out.note(`Data directory: ${settings.dataDir}`)
    if (settings.blobs) out.note(`Blobs: ${describeBlobs(settings.blobs)}`)
    if (config.output === 'json') {
      io.stdout.write(
        JSON.stringify({ event: 'ready', url: server.url, port: server.port, dataDir: settings.dataDir, project: settings.project, version: VERSION, apiVersion: API_VERSION }) + '\n',
      )
    }
    await new Promise<void>((resolve) => {
      let stopping = false
      const onSignal = () => {
        // a second signal means "now": exit at once, without the graceful steps
        if (stopping) process.exit(1)
        stopping = true
        logger.info('shutting down')
        const forced = setTimeout(() => process.exit(1), 5_000)
        server.stop().finally(() => {
          clearTimeout(forced)
          resolve()
        })
      }
      process.on('SIGINT', onSignal)
      process.on('SIGTERM', onSignal)
    })
  },
})
