import { defineCommand } from 'citty'
import { VERSION } from '../../internal/protocol/version.ts'

/** Root command: subcommands are loaded lazily so `coflux runs …` never loads the server. */
export const rootCommand = defineCommand({
  meta: { name: 'coflux', version: VERSION, description: 'Coflux: workflows in plain Python' },
  subCommands: {
    server: () => import('./server.ts').then((m) => m.default),
    worker: () => import('./worker.ts').then((m) => m.default),
  },
})
