import { defineCommand } from 'citty'
import { create, del, toggle, update } from './manage.ts'
import { exportCommand, importCommand } from './sync.ts'
import { get, launches, list } from './view.ts'

/** `coflux pools …` (cli.md §8.10) */
export default defineCommand({
  meta: { name: 'pools', description: 'Manage worker pools' },
  subCommands: {
    list,
    get,
    launches,
    create,
    update,
    delete: del,
    disable: toggle('disable'),
    enable: toggle('enable'),
    export: exportCommand,
    import: importCommand,
  },
})
