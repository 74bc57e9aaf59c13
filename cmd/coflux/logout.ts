import { defineCommand } from 'citty'
import { commandEnv } from '../../internal/cli-ui/index.ts'
import { logout } from '../../internal/client/index.ts'

/** `coflux logout` (cli.md §8.7): with `--host`, only that server's login when there is one. */
export default defineCommand({
  meta: { name: 'logout', description: 'Remove stored credentials' },
  async run(ctx) {
    const { config, out, line } = commandEnv(ctx)
    logout(line.args.host !== undefined ? { host: config.host, project: config.project } : undefined)
    out.result({ loggedOut: true }, () => 'Logged out successfully.')
  },
})
