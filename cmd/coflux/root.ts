import { defineCommand } from 'citty'
import { VERSION } from '../../internal/protocol/version.ts'
import { globalArgs } from './_shared.ts'

/** Root command: its args are the global flags; subcommands load lazily so `coflux runs …` never loads the server. */
export const rootCommand = defineCommand({
  meta: { name: 'coflux', version: VERSION, description: 'Coflux: workflows in plain Python' },
  args: globalArgs,
  subCommands: {
    server: () => import('./server.ts').then((m) => m.default),
    worker: () => import('./worker.ts').then((m) => m.default),
    submit: () => import('./submit.ts').then((m) => m.default),
    runs: () => import('./runs.ts').then((m) => m.default),
    setup: () => import('./setup.ts').then((m) => m.default),
    login: () => import('./login.ts').then((m) => m.default),
    logout: () => import('./logout.ts').then((m) => m.default),
    workspaces: () => import('./workspaces.ts').then((m) => m.default),
    manifests: () => import('./manifests.ts').then((m) => m.default),
    pools: () => import('./pools/index.ts').then((m) => m.default),
    tokens: () => import('./tokens.ts').then((m) => m.default),
    assets: () => import('./assets.ts').then((m) => m.default),
    blobs: () => import('./blobs.ts').then((m) => m.default),
    logs: () => import('./logs.ts').then((m) => m.default),
    sessions: () => import('./sessions.ts').then((m) => m.default),
    queue: () => import('./queue.ts').then((m) => m.default),
    schedules: () => import('./schedules.ts').then((m) => m.default),
    inputs: () => import('./inputs.ts').then((m) => m.default),
    completion: () => import('./completion.ts').then((m) => m.default),
  },
})
