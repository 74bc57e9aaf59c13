/**
 * The interactive part of `coflux setup` (cli.md §8.18). @clack/prompts is imported lazily and
 * only called when stdin and stdout are both TTYs: without a TTY it either exits silently or
 * hangs (notes/toolchain.md), so callers must check `Output.isInteractive` first.
 */
import type { DetectedAdapter } from '../adapter/index.ts'
import { ExitError } from './errors.ts'

export interface WizardInput {
  host: string
  workspace: string
  /** set by --adapter: no adapter questions */
  adapterFlag?: string[]
  existingAdapter?: string[]
  detected?: DetectedAdapter
}

export interface WizardResult {
  host: string
  workspace: string
  adapter?: string[]
}

/** Asks for host, workspace and adapter; Ctrl-C/Escape cancels (exit 130). */
export async function runSetupWizard(input: WizardInput): Promise<WizardResult> {
  const p = await import('@clack/prompts')
  const check = <T>(v: T): Exclude<T, symbol> => {
    if (p.isCancel(v)) {
      p.cancel('Setup cancelled.')
      throw new ExitError(130)
    }
    return v as Exclude<T, symbol>
  }
  p.intro('Coflux setup')
  const host = check(await p.text({ message: 'Host', defaultValue: input.host, placeholder: input.host }))
  const workspace = check(await p.text({ message: 'Workspace', defaultValue: input.workspace, placeholder: input.workspace }))
  let adapter = input.adapterFlag
  if (!adapter && input.existingAdapter) {
    p.log.info(`Using existing adapter: ${JSON.stringify(input.existingAdapter)}`)
    adapter = input.existingAdapter
  }
  if (!adapter && input.detected) {
    p.log.info(`Detected: ${input.detected.label}`)
    const use = check(await p.confirm({ message: `Use this? (${input.detected.argv.join(' ')})`, initialValue: true }))
    if (use) adapter = input.detected.argv
  }
  if (!adapter) {
    const entered = check(await p.text({ message: 'Adapter command (e.g. python3 -m coflux); empty to skip', defaultValue: '' }))
    if (entered.trim()) adapter = entered.trim().split(/\s+/)
  }
  p.outro('Done')
  return { host: host.trim() || input.host, workspace: workspace.trim() || input.workspace, adapter }
}

/** Asks whether to register the workflows found (default yes); Ctrl-C/Escape cancels (exit 130). */
export async function confirmRegistration(modules: Record<string, string[]>, workspace: string): Promise<boolean> {
  const p = await import('@clack/prompts')
  const names = Object.keys(modules)
  p.log.info(`Modules with workflows: ${names.map((m) => `${m} (${modules[m]!.join(', ')})`).join('; ')}`)
  const answer = await p.confirm({ message: `Register ${names.length === 1 ? 'it' : 'them'} in workspace '${workspace}'?`, initialValue: true })
  if (p.isCancel(answer)) {
    p.cancel('Setup cancelled.')
    throw new ExitError(130)
  }
  return answer
}
