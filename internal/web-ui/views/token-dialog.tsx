/** Asks for a token (service token or super token), kept in local storage; saving reloads. */
import { saveToken } from '../session.ts'

export function TokenDialog({ message, isRequired, onClose }: { message: string | null; isRequired: boolean; onClose: () => void }) {
  const submit = (e: Event) => {
    e.preventDefault()
    const input = (e.target as HTMLFormElement).elements.namedItem('token') as HTMLInputElement
    saveToken(input.value)
  }
  return (
    <div class="overlay">
      <form class="card dialog" onSubmit={submit}>
        <h2>{isRequired ? 'Authentication required' : 'Access token'}</h2>
        <p>
          Paste a service token (<code>cflx_…</code>) or the super token. It is sent as a bearer token with every request and kept in this browser's
          local storage.
        </p>
        <input class="input mono" type="password" name="token" placeholder="cflx_… or the super token" autocomplete="off" autofocus />
        {message && <div class="err">{message}</div>}
        <div class="row">
          <button type="button" class="btn btn-ghost" onClick={() => saveToken('')}>
            Forget token
          </button>
          {!isRequired && (
            <button type="button" class="btn" onClick={onClose}>
              Cancel
            </button>
          )}
          <button type="submit" class="btn btn-primary">
            Save
          </button>
        </div>
      </form>
    </div>
  )
}
