/**
 * A pool as the form edits it (http-api.md §9.3): flat text fields in, the request's `pool`
 * object out. Tags use the CLI's `key:value` spelling (client/submit.ts parses both).
 */
import { parseTagItems } from '../client/browser.ts'
import type { LauncherType, Pool, TagSet } from '../protocol/api.ts'
import type { Json } from '../protocol/json.ts'

/** Launcher fields the form offers per type; the rest stay as they are (edit them with `coflux pools update`). */
export const FORM_FIELDS: Record<LauncherType, readonly string[]> = {
  process: ['directory'],
  docker: ['image', 'dockerHost'],
  kubernetes: ['image', 'namespace'],
}

export interface PoolFormText {
  type: LauncherType
  modules: string
  provides: string
  accepts: string
  concurrency: string
  /** `KEY=value` per line */
  env: string
  /** launcher field → text */
  fields: Record<string, string>
}

export function tagsText(tags: TagSet | null | undefined): string {
  return Object.entries(tags ?? {})
    .flatMap(([k, values]) => values.map((v) => (v === 'true' ? k : `${k}:${v}`)))
    .join(' ')
}

export function poolFormText(pool: Pool | null): PoolFormText {
  const launcher = pool?.launcher ?? null
  const type = (launcher?.type ?? 'process') as LauncherType
  const fields: Record<string, string> = {}
  for (const f of FORM_FIELDS[type]) fields[f] = typeof launcher?.[f] === 'string' ? (launcher[f] as string) : ''
  const env = launcher?.env && typeof launcher.env === 'object' ? Object.entries(launcher.env as Record<string, Json>).map(([k, v]) => `${k}=${String(v)}`) : []
  return {
    type,
    modules: (pool?.modules ?? []).join(', '),
    provides: tagsText(pool?.provides),
    accepts: tagsText(pool?.accepts),
    concurrency: launcher?.concurrency != null ? String(launcher.concurrency) : '',
    env: env.join('\n'),
    fields,
  }
}

/** The `pool` of `create_pool`/`update_pool`; on update, a cleared field is sent as null (removed). */
export function poolRequest(text: PoolFormText, isUpdate: boolean): Record<string, Json> {
  const split = (s: string) => s.split(/[\s,]+/).filter(Boolean)
  const launcher: Record<string, Json> = { type: text.type }
  for (const f of FORM_FIELDS[text.type]) {
    const v = (text.fields[f] ?? '').trim()
    if (v) launcher[f] = v
    else if (isUpdate) launcher[f] = null
  }
  const concurrency = Number(text.concurrency)
  if (text.concurrency.trim() && Number.isInteger(concurrency)) launcher.concurrency = concurrency
  else if (isUpdate) launcher.concurrency = null
  const env: Record<string, Json> = {}
  for (const line of text.env.split('\n')) {
    const i = line.indexOf('=')
    if (i > 0) env[line.slice(0, i).trim()] = line.slice(i + 1)
  }
  if (Object.keys(env).length) launcher.env = env
  else if (isUpdate) launcher.env = null
  return {
    modules: split(text.modules),
    provides: parseTagItems(split(text.provides)),
    accepts: parseTagItems(split(text.accepts)),
    launcher,
  }
}
