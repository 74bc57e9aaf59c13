import { defineCommand } from 'citty'
import { commandEnv, ExitError, interruptExitCode, onInterrupt, withContext } from '../../internal/cli-ui/index.ts'
import {
  CofluxClient,
  deviceName,
  pollDeviceLogin,
  pollServerLogin,
  pollStudioLogin,
  saveServerLogin,
  saveStudioLogin,
  startStudioLogin,
} from '../../internal/client/index.ts'

/** `coflux login` (cli.md §8.7): device flow against Studio (team or --studio) or this server. */
export default defineCommand({
  meta: { name: 'login', description: 'Log in (Coflux Studio, or this server with a device code)' },
  args: {
    'no-browser': { type: 'boolean', description: 'Print the URL only' },
    studio: { type: 'boolean', description: 'Use Coflux Studio even without a team' },
  },
  async run(ctx) {
    const { config, out, io } = commandEnv(ctx)
    // progress goes to stderr in every mode: the user must see where to approve
    const say = (line: string) => io.stderr.write(line + '\n')
    const interrupt = onInterrupt()
    try {
      if (ctx.args.studio || config.team) {
        say('Starting authentication with Coflux Studio...')
        const start = await startStudioLogin(config.studioUrl)
        say('Please open this URL in your browser to authenticate:')
        say(`  ${start.verification_uri}`)
        if (!ctx.args['no-browser']) openBrowser(start.verification_uri)
        const token = await pollDeviceLogin(() => pollStudioLogin(config.studioUrl, start.device_code), {
          interval: start.interval,
          minInterval: 5,
          expiresIn: start.expires_in,
          signal: interrupt.signal,
        })
        saveStudioLogin({ studio_token: token.access_token, user_email: token.user_email, user_id: token.user_id })
        const user = token.user_email ?? token.user_id ?? 'unknown'
        out.result({ loggedIn: true, user, kind: 'studio' }, () => `Authentication successful! Logged in as ${user}`)
        return
      }
      const client = new CofluxClient({ host: config.host, secure: config.secure, project: config.project })
      const name = deviceName()
      const start = await withContext('failed to start login', client.startDeviceLogin(name))
      say(`To log in, approve code ${start.user_code ?? '?'} with a sufficiently scoped token:`)
      say(`  coflux tokens approve ${start.user_code ?? ''}`)
      say(`or open: ${start.verification_uri}`)
      if (!ctx.args['no-browser']) openBrowser(start.verification_uri)
      const token = await pollDeviceLogin(() => pollServerLogin(client, start.device_code), {
        interval: start.interval,
        expiresIn: start.expires_in,
        signal: interrupt.signal,
      })
      saveServerLogin(config.host, config.project, { token: token.access_token, tokenId: token.token_id, user: name, workspaces: token.workspaces })
      out.result({ loggedIn: true, user: name, kind: 'server' }, () => `Authentication successful! Logged in to ${config.host} as ${name}`)
    } catch (err) {
      const sig = interrupt.received()
      if (sig) throw new ExitError(interruptExitCode(sig))
      throw err
    } finally {
      interrupt.dispose()
    }
  },
})

function openBrowser(url: string): void {
  const cmd = process.platform === 'darwin' ? ['open', url] : process.platform === 'win32' ? ['cmd', '/c', 'start', '', url] : ['xdg-open', url]
  try {
    const proc = Bun.spawn(cmd, { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' })
    proc.unref()
  } catch {
    // no browser available: the URL is printed
  }
}
