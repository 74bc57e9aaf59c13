/** Approving a device login (http-api.md §16.9): the code the terminal shows. */
import { useState } from 'hono/jsx/dom'
import { Card, Crumbs } from '../components/ui.tsx'
import { client, describeError } from '../session.ts'

export function DeviceView({ code }: { code: string }) {
  const [outcome, setOutcome] = useState<{ text: string; ok: boolean } | null>(null)
  const act = (what: 'approve' | 'deny') => async () => {
    const input = document.getElementById('device-code') as HTMLInputElement
    try {
      await client.post(`auth/device/${what}`, { user_code: input.value.trim().toUpperCase() })
      setOutcome({ text: what === 'approve' ? 'Approved. You can return to your terminal.' : 'Denied.', ok: true })
    } catch (err) {
      setOutcome({ text: describeError(err), ok: false })
    }
  }
  return (
    <div class="page">
      <Crumbs items={[{ label: 'Workspaces', href: '#/' }, { label: 'Device login' }]} />
      <Card title="Approve a device login" class="dialog">
        <p>A command-line client asked for a token. Check that the code matches the one shown in your terminal.</p>
        <input id="device-code" class="input mono" value={code} placeholder="ABCD-EFGH" />
        <div class="row">
          <button type="button" class="btn" onClick={act('deny')}>
            Deny
          </button>
          <button type="button" class="btn btn-primary" onClick={act('approve')}>
            Approve
          </button>
        </div>
        {outcome && <div class={outcome.ok ? 'notice' : 'notice warn'}>{outcome.text}</div>}
      </Card>
    </div>
  )
}
