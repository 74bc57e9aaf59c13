import type { SqlDatabase } from './sql-database.ts'
import type { TagSet } from '../protocol/api.ts'
import { inputIdOf } from '../protocol/ids.ts'
import { canonicalJson } from '../protocol/json.ts'

export type InputResponseType = 'value' | 'dismissed' | 'cancelled'
const RESPONSE_CODE: Record<InputResponseType, number> = { value: 0, dismissed: 1, cancelled: 2 }
const RESPONSE_NAME: InputResponseType[] = ['value', 'dismissed', 'cancelled']

export type InputLinkRole = 'submitted' | 'selected'
const ROLE_CODE: Record<InputLinkRole, number> = { submitted: 0, selected: 1 }

export interface InputRecord {
  id: number
  /** `<run>/i<n>` */
  externalId: string
  runId: number
  number: number
  workspaceId: number
  promptId: number
  template: string
  /** placeholder name → value_store id */
  placeholders: Record<string, number>
  /** JSON Schema text, as submitted */
  schema: string | null
  key: string | null
  title: string | null
  actions: [string, string] | null
  /** JSON text of the pre-filled response */
  initial: string | null
  requires: TagSet
  /** the execution that created it */
  executionId: number
  createdAt: number
}

export interface InputResponseRecord {
  inputId: number
  type: InputResponseType
  /** the response's JSON text, verbatim; null unless `type` is `value` */
  value: string | null
  createdAt: number
  createdBy: number | null
}

/** What a new input is made of: an input record without what the store assigns. */
export type NewInput = Omit<InputRecord, 'id' | 'externalId' | 'number' | 'promptId' | 'createdAt'> & { runExternalId: string }

interface InputRow {
  id: number
  external_id: string
  run_id: number
  number: number
  workspace_id: number
  prompt_id: number
  template: string
  placeholders: string
  schema: string | null
  key: string | null
  title: string | null
  actions: string | null
  initial: string | null
  requires: string | null
  execution_id: number
  created_at: number
}

interface ResponseRow {
  input_id: number
  type: number
  value: string | null
  created_at: number
  created_by: number | null
}

const INPUT_COLUMNS =
  'i.id, i.external_id, i.run_id, i.number, i.workspace_id, i.prompt_id, p.template, p.placeholders, i.schema, i.key, ' +
  'i.title, i.actions, i.initial, i.requires, i.execution_id, i.created_at'
const INPUT_FROM = 'inputs i JOIN prompts p ON p.id = i.prompt_id'

function toInput(r: InputRow): InputRecord {
  return {
    id: r.id,
    externalId: r.external_id,
    runId: r.run_id,
    number: r.number,
    workspaceId: r.workspace_id,
    promptId: r.prompt_id,
    template: r.template,
    placeholders: JSON.parse(r.placeholders) as Record<string, number>,
    schema: r.schema,
    key: r.key,
    title: r.title,
    actions: r.actions ? (JSON.parse(r.actions) as [string, string]) : null,
    initial: r.initial,
    requires: r.requires ? (JSON.parse(r.requires) as TagSet) : {},
    executionId: r.execution_id,
    createdAt: r.created_at,
  }
}

function toResponse(r: ResponseRow): InputResponseRecord {
  return { inputId: r.input_id, type: RESPONSE_NAME[r.type]!, value: r.value, createdAt: r.created_at, createdBy: r.created_by }
}

/**
 * Inputs (semantics.md §26): prompts de-duplicated by content, inputs numbered per run, one
 * response each (the first recorded wins), and links to the executions that submitted or
 * selected them.
 */
export class InputStore {
  readonly #db: SqlDatabase
  readonly q

  constructor(db: SqlDatabase) {
    this.#db = db
    this.q = {
      promptByHash: db.query<{ id: number }, [Uint8Array]>('SELECT id FROM prompts WHERE hash = ?'),
      insertPrompt: db.query<{ id: number }, [Uint8Array, string, string]>(
        'INSERT INTO prompts (hash, template, placeholders) VALUES (?, ?, ?) RETURNING id',
      ),
      nextNumber: db.query<{ n: number | null }, [number]>('SELECT number AS n FROM inputs WHERE run_id = ? ORDER BY number DESC LIMIT 1'),
      insert: db.query<{ id: number }, any[]>(
        'INSERT INTO inputs (external_id, run_id, number, workspace_id, prompt_id, schema, key, title, actions, initial, requires, execution_id, created_at) ' +
          'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id',
      ),
      byId: db.query<InputRow, [number]>(`SELECT ${INPUT_COLUMNS} FROM ${INPUT_FROM} WHERE i.id = ?`),
      byExternal: db.query<InputRow, [string]>(`SELECT ${INPUT_COLUMNS} FROM ${INPUT_FROM} WHERE i.external_id = ?`),
      withKey: db.query<InputRow, [number, string]>(`SELECT ${INPUT_COLUMNS} FROM ${INPUT_FROM} WHERE i.run_id = ? AND i.key = ? ORDER BY i.number DESC`),
      response: db.query<ResponseRow, [number]>('SELECT * FROM input_responses WHERE input_id = ?'),
      respond: db.query('INSERT INTO input_responses (input_id, type, value, created_at, created_by) VALUES (?, ?, ?, ?, ?) ON CONFLICT (input_id) DO NOTHING'),
      link: db.query('INSERT OR IGNORE INTO input_links (input_id, execution_id, role) VALUES (?, ?, ?)'),
      linkedExecutions: db.query<{ execution_id: number }, [number]>('SELECT DISTINCT execution_id FROM input_links WHERE input_id = ?'),
      linksOfRun: db.query<{ execution_id: number; input_id: number; role: number }, [number]>(
        'SELECT l.execution_id, l.input_id, l.role FROM input_links l JOIN executions e ON e.id = l.execution_id JOIN steps s ON s.id = e.step_id WHERE s.run_id = ? ORDER BY l.input_id',
      ),
    }
  }

  /** Creates the next input of a run (`<run>/i<n>`), storing its prompt de-duplicated. */
  create(input: NewInput, now: number): InputRecord {
    return this.#db.transaction(() => {
      const promptId = this.#prompt(input.template, input.placeholders)
      const number = (this.q.nextNumber.get(input.runId)?.n ?? 0) + 1
      const row = this.q.insert.get(
        inputIdOf(input.runExternalId, number),
        input.runId,
        number,
        input.workspaceId,
        promptId,
        input.schema,
        input.key,
        input.title,
        input.actions ? JSON.stringify(input.actions) : null,
        input.initial,
        Object.keys(input.requires).length ? canonicalJson(input.requires) : null,
        input.executionId,
        now,
      )!
      this.link(row.id, input.executionId, 'submitted')
      return this.get(row.id)!
    })()
  }

  /** The prompt id for a template and placeholders, without creating one (for comparisons). */
  promptId(template: string, placeholders: Record<string, number>): number | null {
    return this.q.promptByHash.get(promptHash(template, placeholders))?.id ?? null
  }

  #prompt(template: string, placeholders: Record<string, number>): number {
    const hash = promptHash(template, placeholders)
    return this.q.promptByHash.get(hash)?.id ?? this.q.insertPrompt.get(hash, template, canonicalJson(placeholders))!.id
  }

  get(id: number): InputRecord | null {
    const r = this.q.byId.get(id)
    return r ? toInput(r) : null
  }

  getByExternalId(externalId: string): InputRecord | null {
    const r = this.q.byExternal.get(externalId)
    return r ? toInput(r) : null
  }

  /** Inputs of a run with this key, newest first. */
  withKey(runId: number, key: string): InputRecord[] {
    return this.q.withKey.all(runId, key).map(toInput)
  }

  response(inputId: number): InputResponseRecord | null {
    const r = this.q.response.get(inputId)
    return r ? toResponse(r) : null
  }

  /** Records the response unless one exists; returns whether this call recorded it. */
  respond(inputId: number, type: InputResponseType, value: string | null, createdBy: number | null, now: number): boolean {
    return this.q.respond.run(inputId, RESPONSE_CODE[type], type === 'value' ? value : null, now, createdBy).changes > 0
  }

  link(inputId: number, executionId: number, role: InputLinkRole): void {
    this.q.link.run(inputId, executionId, ROLE_CODE[role])
  }

  /** Executions that submitted or selected the input. */
  linkedExecutions(inputId: number): number[] {
    return this.q.linkedExecutions.all(inputId).map((r) => r.execution_id)
  }

  /** Input links of every execution of a run, keyed by execution id. */
  linksOfRun(runId: number): Map<number, { inputId: number; role: InputLinkRole }[]> {
    const out = new Map<number, { inputId: number; role: InputLinkRole }[]>()
    for (const r of this.q.linksOfRun.all(runId)) {
      const list = out.get(r.execution_id) ?? []
      list.push({ inputId: r.input_id, role: r.role === 0 ? 'submitted' : 'selected' })
      out.set(r.execution_id, list)
    }
    return out
  }
}

export function promptHash(template: string, placeholders: Record<string, number>): Uint8Array {
  return new Bun.CryptoHasher('sha256').update(canonicalJson([template, placeholders])).digest() as Uint8Array
}
