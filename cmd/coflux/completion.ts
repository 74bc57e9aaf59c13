import { defineCommand } from 'citty'
import { COMPLETION_SHELLS, commandEnv, completionTree, renderCompletion, UsageError, type CompletionShell } from '../../internal/cli-ui/index.ts'

/** `coflux completion bash|zsh|fish`: the script, generated from the command definitions. */
export default defineCommand({
  meta: { name: 'completion', description: 'Print a shell completion script (bash, zsh or fish)' },
  args: {
    shell: { type: 'positional', valueHint: 'SHELL', description: 'bash, zsh or fish' },
  },
  async run(ctx) {
    const { out, line } = commandEnv(ctx)
    const shell = String(ctx.args.shell ?? '')
    if (!(COMPLETION_SHELLS as readonly string[]).includes(shell)) {
      throw new UsageError(`unknown shell "${shell}": expected ${COMPLETION_SHELLS.join(', ')}`)
    }
    // the root of the line being run: completion.ts never imports root.ts (no cycle)
    out.raw(renderCompletion(shell as CompletionShell, await completionTree(line.chain[0]!), 'coflux'))
  },
})
