/**
 * Completion scripts are generated from command definitions: lazy subcommands are loaded, flags
 * carry their short aliases, value-taking flags and enum choices are known to the scripts.
 */
import { expect, test } from 'bun:test'
import { defineCommand } from 'citty'
import { completionTree, renderCompletion } from '../../../internal/cli-ui/completion.ts'

const root = defineCommand({
  meta: { name: 'tool' },
  args: { output: { type: 'string', alias: 'o', description: 'text or json' }, quiet: { type: 'boolean', description: "Don't talk" } },
  subCommands: {
    jobs: () =>
      Promise.resolve(
        defineCommand({
          meta: { name: 'jobs', description: 'Manage jobs' },
          subCommands: {
            start: defineCommand({
              meta: { name: 'start', description: 'Start a job' },
              args: { id: { type: 'positional' }, kind: { type: 'enum', options: ['fast', 'slow'], description: 'Kind' }, dryRun: { type: 'boolean' } },
            }),
          },
        }),
      ),
  },
})

test('the tree: paths, subcommands with descriptions, flags', async () => {
  const tree = await completionTree(root)
  expect(tree.map((c) => c.path.join(' '))).toEqual(['', 'jobs', 'jobs start'])
  expect(tree[0]!.subcommands).toEqual([{ name: 'jobs', description: 'Manage jobs' }])
  expect(tree[0]!.flags).toEqual([
    { long: 'output', short: 'o', takesValue: true, description: 'text or json' },
    { long: 'quiet', takesValue: false, description: "Don't talk" },
  ])
  expect(tree[2]!.flags).toEqual([
    { long: 'kind', takesValue: true, description: 'Kind', choices: ['fast', 'slow'] },
    { long: 'dry-run', takesValue: false, description: '' },
  ])
})

test('each script names every command and flag; quotes survive', async () => {
  const tree = await completionTree(root)
  const bash = renderCompletion('bash', tree, 'tool')
  expect(bash).toContain("'jobs') more='start' ;;")
  expect(bash).toContain("'jobs start') more='--kind --dry-run' ;;")
  expect(bash).toContain("'jobs start|--kind') echo 'fast slow' ;;")
  expect(bash).toContain('complete -o default -F _tool tool')
  const zsh = renderCompletion('zsh', tree, 'tool')
  expect(zsh.startsWith('#compdef tool\n')).toBe(true)
  expect(zsh).toContain(`--quiet:Don'\\''t talk`)
  const fish = renderCompletion('fish', tree, 'tool')
  expect(fish).toContain(`complete -c tool -n '__tool_at '\\''jobs start'\\''' -l kind -r -f -a 'fast slow' -d 'Kind'`)
  expect(fish).toContain(`complete -c tool -l quiet -d 'Don'\\''t talk'`)
})
