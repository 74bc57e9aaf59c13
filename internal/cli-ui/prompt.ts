/**
 * Yes/no confirmation for interactive commands (`pools import`). Callers must check
 * `Output.isInteractive` first: @clack/prompts hangs or exits silently without a TTY.
 */
export async function confirm(message: string, initialValue = false): Promise<boolean> {
  const p = await import('@clack/prompts')
  const answer = await p.confirm({ message, initialValue })
  return answer === true
}
