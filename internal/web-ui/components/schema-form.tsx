/**
 * An input's response form (semantics.md §26): fields from its JSON Schema (schema-form.ts),
 * checked with the server's validator before sending, answered with the input's own action
 * labels (`actions: [respond, dismiss]`).
 */
import { useMemo, useState } from 'hono/jsx/dom'
import { JsonSchema, type ValidationError } from '../../protocol/json-schema.ts'
import { parseJson, type Json } from '../../protocol/json.ts'
import { FieldError, formValue, initialText, optionText, schemaFields, type Field } from '../schema-form.ts'

export interface SchemaFormProps {
  /** the schema's JSON text; null accepts any JSON value */
  schema: string | null
  initial: Json
  actions: string[] | null
  onRespond: (value: Json) => Promise<void>
  onDismiss: () => Promise<void>
}

export function SchemaForm({ schema, initial, actions, onRespond, onDismiss }: SchemaFormProps) {
  const parsed = useMemo(() => {
    try {
      const root = schema ? parseJson(schema) : null
      return { root, validator: root === null ? null : JsonSchema.from(root) }
    } catch {
      return { root: null, validator: null } // the server checked it; show a JSON box anyway
    }
  }, [schema])
  const field = useMemo(() => schemaFields(parsed.root, initial ?? undefined), [parsed, initial])
  const [errors, setErrors] = useState<Record<string, string>>({})
  const [busy, setBusy] = useState(false)
  const [respondLabel, dismissLabel] = [actions?.[0] ?? 'Respond', actions?.[1] ?? 'Dismiss']

  const submit = async (e: Event) => {
    e.preventDefault()
    const form = e.target as HTMLFormElement
    const data = new FormData(form)
    const read = (pointer: string) => {
      const control = form.elements.namedItem(pointer)
      if (control instanceof HTMLInputElement && control.type === 'checkbox') return control.checked ? 'true' : ''
      return String(data.get(pointer) ?? '')
    }
    let value: Json | undefined
    try {
      value = formValue(field, read)
    } catch (err) {
      if (err instanceof FieldError) return setErrors({ [err.pointer]: err.message })
      throw err
    }
    if (value === undefined) return setErrors({ '': 'Enter a value.' })
    const problems: ValidationError[] = parsed.validator?.validate(value) ?? []
    if (problems.length > 0) {
      return setErrors(Object.fromEntries(problems.map((p) => [p.path, `${p.path || 'the value'}: ${p.keyword}`])))
    }
    setErrors({})
    setBusy(true)
    try {
      await onRespond(value)
    } catch (err) {
      setErrors({ '': (err as Error).message })
    } finally {
      setBusy(false)
    }
  }

  const dismiss = async () => {
    setBusy(true)
    try {
      await onDismiss()
    } catch (err) {
      setErrors({ '': (err as Error).message })
    } finally {
      setBusy(false)
    }
  }

  const orphans = Object.entries(errors).filter(([pointer]) => !hasField(field, pointer) || pointer === '')
  return (
    <form class="schema-form" onSubmit={submit}>
      <FieldView field={field} errors={errors} isRoot />
      {orphans.map(([, message]) => (
        <div class="field-error">{message}</div>
      ))}
      <div class="row">
        <button type="button" class="btn" disabled={busy} onClick={dismiss}>
          {dismissLabel}
        </button>
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {respondLabel}
        </button>
      </div>
    </form>
  )
}

function hasField(field: Field, pointer: string): boolean {
  if (field.pointer === pointer) return true
  return field.kind === 'object' && field.fields.some((f) => hasField(f, pointer))
}

function FieldView({ field, errors, isRoot }: { field: Field; errors: Record<string, string>; isRoot?: boolean }) {
  const error = field.pointer !== '' ? errors[field.pointer] : undefined
  if (field.kind === 'object') {
    const body = field.fields.map((f) => <FieldView field={f} errors={errors} />)
    if (isRoot) return <div class="fields">{body}</div>
    return (
      <fieldset class="fields">
        <legend>{field.label}</legend>
        {body}
      </fieldset>
    )
  }
  const label = isRoot ? null : (
    <span class="field-label">
      {field.label}
      {field.isRequired && <span class="required" title="required"> *</span>}
    </span>
  )
  return (
    <label class={`field field-${field.kind}`}>
      {label}
      <Control field={field} />
      {field.description && <span class="faint">{field.description}</span>}
      {error && <span class="field-error">{error}</span>}
    </label>
  )
}

function Control({ field }: { field: Exclude<Field, { kind: 'object' }> }) {
  const text = initialText(field)
  if (field.kind === 'boolean') return <input type="checkbox" name={field.pointer} checked={field.initial === true} />
  if (field.kind === 'json') return <textarea class="input mono" name={field.pointer} rows={4} placeholder="JSON" value={text} />
  if (field.options) {
    return (
      <select class="input" name={field.pointer}>
        {!field.isRequired && <option value="">—</option>}
        {field.options.map((o) => (
          <option value={optionText(o)} selected={optionText(o) === text}>
            {optionText(o)}
          </option>
        ))}
      </select>
    )
  }
  const type = field.kind === 'string' ? (field.format === 'date' ? 'date' : field.format === 'email' ? 'email' : 'text') : 'text'
  return <input class="input" type={type} inputMode={field.kind === 'string' ? undefined : 'decimal'} name={field.pointer} value={text} autocomplete="off" />
}
