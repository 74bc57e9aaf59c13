/**
 * The input parts of a run snapshot (cli.md §7.4): per execution, the inputs it submitted and
 * the inputs it selected (as dependencies), each with its response status.
 */
import type { Dependency, Execution } from '../../protocol/api.ts'
import type { InputLinkRole, OrchestrationStore } from '../../store/index.ts'
import type { Project } from '../project.ts'

/** An execution's `inputs` and input `dependencies`. */
export function executionInputs(
  project: Project,
  links: readonly { inputId: number; role: InputLinkRole }[] | undefined,
  store: OrchestrationStore = project.store,
): { inputs: Execution['inputs']; dependencies: Record<string, Dependency> } {
  const inputs: Execution['inputs'] = {}
  const dependencies: Record<string, Dependency> = {}
  for (const link of links ?? []) {
    const input = store.inputs.get(link.inputId)
    if (!input) continue
    const status = store.inputs.response(input.id)?.type ?? null
    if (link.role === 'submitted') inputs[input.externalId] = { title: input.title, status }
    else dependencies[input.externalId] = { type: 'input', inputId: input.externalId, title: input.title, status }
  }
  return { inputs, dependencies }
}
