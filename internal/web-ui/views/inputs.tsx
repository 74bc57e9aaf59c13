/** Inputs waiting for a person (semantics.md §26), each answered through its schema's form. */
import type { InputSummary, InputTopic } from '../../protocol/api.ts'
import { stringifyJson, type Json } from '../../protocol/json.ts'
import { SchemaForm } from '../components/schema-form.tsx'
import { Ago, Card, Empty, Loading, toast, WorkspaceCrumbs } from '../components/ui.tsx'
import { PromptText } from '../components/value.tsx'
import { formatDateTime } from '../format.ts'
import { href } from '../route.ts'
import { client, describeError } from '../session.ts'
import { topicErrorText, useTopic } from '../topics.ts'
import type { WorkspaceRef } from '../workspace-ref.ts'

export function InputsView({ ws }: { ws: WorkspaceRef }) {
  const { value: inputs, error } = useTopic<Record<string, InputSummary>>(['workspaces', ws.id, 'inputs'])
  const entries = Object.entries(inputs ?? {}).sort((a, b) => a[1].createdAt - b[1].createdAt)
  return (
    <div class="page">
      <WorkspaceCrumbs ws={ws} items={[{ label: 'Inputs' }]} />
      <div class="page-head">
        <h1>Inputs</h1>
        <span class="count">{entries.length}</span>
      </div>
      {error ? (
        <Card>
          <Empty>{topicErrorText(error, 'Inputs')}</Empty>
        </Card>
      ) : !inputs ? (
        <Loading />
      ) : entries.length === 0 ? (
        <Card>
          <Empty>No input is waiting for a response.</Empty>
        </Card>
      ) : (
        entries.map(([id, summary]) => (
          <Card
            title={<h2>{summary.title ?? id}</h2>}
            extra={
              <span class="subtle">
                {summary.runId && summary.executionId ? (
                  <a class="mono" href={href.execution(ws.name, summary.executionId)}>
                    {summary.executionId}
                  </a>
                ) : null}{' '}
                · <Ago ms={summary.createdAt} />
              </span>
            }
          >
            <InputPanel inputId={id} />
          </Card>
        ))
      )}
    </div>
  )
}

/** One input: its prompt and, while it is open, the form that answers it. */
export function InputPanel({ inputId }: { inputId: string }) {
  const { value: input, error } = useTopic<InputTopic>(['inputs', inputId])
  if (error) return <Empty>{topicErrorText(error, 'Input')}</Empty>
  if (!input) return <Loading />
  const respond = async (value: Json) => {
    try {
      await client.respondInput(inputId, value)
      toast('Response sent.', true)
    } catch (err) {
      throw new Error(describeError(err))
    }
  }
  const dismiss = async () => {
    try {
      await client.dismissInput(inputId)
      toast('Input dismissed.', true)
    } catch (err) {
      throw new Error(describeError(err))
    }
  }
  return (
    <div class="input-panel" data-input={inputId}>
      <p class="prompt">
        <PromptText input={input} />
      </p>
      {input.response ? (
        <div class="notice">
          {input.response.type === 'value' ? 'Answered' : input.response.type === 'dismissed' ? 'Dismissed' : 'Cancelled'} at {formatDateTime(input.response.createdAt)}
          {input.response.type === 'value' && <code class="response">{stringifyJson(input.response.value ?? null)}</code>}
        </div>
      ) : (
        <SchemaForm schema={input.schema} initial={input.initial} actions={input.actions} onRespond={respond} onDismiss={dismiss} />
      )}
    </div>
  )
}
