import { runCommand, type CommandDef } from 'citty'

/** argv → exit code. Commands never call process.exit; main.ts does, with this result. */
export async function run(command: CommandDef<any>, argv: string[]): Promise<number> {
  try {
    await runCommand(command, { rawArgs: argv })
    return 0
  } catch (err) {
    process.stderr.write(`Error: ${(err as Error).message}\n`)
    return 1
  }
}
