import { defineCommand } from 'citty'

export default defineCommand({
  meta: { name: 'server', description: 'Run the orchestration server in this process' },
  async run() {
    throw new Error('not implemented yet')
  },
})
