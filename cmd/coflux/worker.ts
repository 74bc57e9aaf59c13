import { defineCommand } from 'citty'

export default defineCommand({
  meta: { name: 'worker', description: 'Run a worker for Python modules' },
  async run() {
    throw new Error('not implemented yet')
  },
})
