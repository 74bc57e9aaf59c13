import type { DiscoveredSchedule, ParameterDefinition, TargetDefinition } from '../protocol/executor.ts'
import { SCHEDULE_CATCH_UP, SCHEDULE_OVERLAP } from '../protocol/schedules.ts'

/** Any failure of `<adapter…> discover` (executor-protocol.md §2.1); the message is the whole story. */
export class DiscoveryError extends Error {
  override readonly name = 'DiscoveryError'
}

export interface DiscoveryResult {
  /** stubs already dropped */
  targets: TargetDefinition[]
  /** the adapter's stderr, one entry per non-empty line (import failures) */
  warnings: string[]
}

/**
 * Runs `<argv…> discover <modules…>` to completion in `cwd` and parses `{"targets": [...]}`.
 * Failures throw `DiscoveryError` with the messages of executor-protocol.md §2.1, including
 * `no targets found in modules [a b]` when nothing is found.
 *
 * @example
 * const prepared = await prepareAdapter(argv, cwd)
 * const { targets, warnings } = await runDiscovery({ argv: prepared.argv, env: { ...sanitizedEnv(), ...prepared.env } }, ['app.flows'], cwd)
 */
export async function runDiscovery(
  cmd: { argv: string[]; env: Record<string, string> },
  modules: string[],
  cwd: string,
): Promise<DiscoveryResult> {
  let proc: ReturnType<typeof Bun.spawn<'ignore', 'pipe', 'pipe'>>
  try {
    proc = Bun.spawn([...cmd.argv, 'discover', ...modules], {
      cwd,
      env: cmd.env,
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
    })
  } catch (err) {
    throw new DiscoveryError(`failed to run discovery: ${(err as Error).message}`)
  }
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  if (code !== 0) {
    if (stderr.includes('No module named coflux')) {
      throw new DiscoveryError(
        "discovery failed: the 'coflux' package does not appear to be installed in this environment",
      )
    }
    throw new DiscoveryError(`discovery failed: ${stderr.trim() || `exit status ${code}`}`)
  }
  let targets: TargetDefinition[]
  try {
    targets = parseDiscoveryOutput(stdout)
  } catch (err) {
    throw new DiscoveryError(`failed to parse discovery output: ${(err as Error).message}`)
  }
  if (targets.length === 0) throw new DiscoveryError(`no targets found in modules [${modules.join(' ')}]`)
  const warnings = stderr
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== '')
  return { targets, warnings }
}

/**
 * Parses and checks discovery's stdout. Any JSON formatting is accepted, unknown fields are
 * ignored, entries marked `is_stub` are dropped. Throws on a wrong shape.
 */
export function parseDiscoveryOutput(text: string): TargetDefinition[] {
  const doc: unknown = JSON.parse(text)
  if (!isObject(doc) || !Array.isArray(doc.targets)) throw new Error('expected an object with a "targets" array')
  const out: TargetDefinition[] = []
  doc.targets.forEach((raw, i) => {
    const where = `targets[${i}]`
    if (!isObject(raw)) throw new Error(`${where} is not an object`)
    if (typeof raw.module !== 'string' || typeof raw.name !== 'string') {
      throw new Error(`${where} needs string "module" and "name"`)
    }
    if (raw.type !== 'task' && raw.type !== 'workflow') throw new Error(`${where} has invalid type ${JSON.stringify(raw.type)}`)
    if (raw.is_stub === true) return
    const params = raw.parameters ?? []
    if (!Array.isArray(params)) throw new Error(`${where}.parameters is not an array`)
    const parameters: ParameterDefinition[] = params.map((p, j) => {
      if (!isObject(p) || typeof p.name !== 'string') throw new Error(`${where}.parameters[${j}] needs a string "name"`)
      const param: ParameterDefinition = { name: p.name }
      if (p.annotation !== undefined) param.annotation = optionalString(p.annotation, `${where}.parameters[${j}].annotation`)
      if (p.default !== undefined) param.default = optionalString(p.default, `${where}.parameters[${j}].default`)
      return param
    })
    const def: TargetDefinition = { module: raw.module, name: raw.name, type: raw.type, parameters }
    if (raw.wait_for != null) def.wait_for = indexes(raw.wait_for, `${where}.wait_for`)
    if (raw.cache != null) {
      if (!isObject(raw.cache)) throw new Error(`${where}.cache is not an object`)
      def.cache = { params: paramsField(raw.cache.params ?? true, `${where}.cache.params`) }
      if (raw.cache.max_age_ms != null) def.cache.max_age_ms = int(raw.cache.max_age_ms, `${where}.cache.max_age_ms`)
      if (raw.cache.namespace != null) def.cache.namespace = str(raw.cache.namespace, `${where}.cache.namespace`)
      if (raw.cache.version != null) def.cache.version = str(raw.cache.version, `${where}.cache.version`)
    }
    if (raw.defer != null) {
      if (!isObject(raw.defer)) throw new Error(`${where}.defer is not an object`)
      def.defer = { params: paramsField(raw.defer.params ?? true, `${where}.defer.params`) }
    }
    if (raw.delay != null) def.delay = int(raw.delay, `${where}.delay`)
    if (raw.retries != null) {
      if (!isObject(raw.retries)) throw new Error(`${where}.retries is not an object`)
      def.retries = {}
      if (raw.retries.limit != null) def.retries.limit = int(raw.retries.limit, `${where}.retries.limit`)
      if (raw.retries.backoff_min_ms != null) def.retries.backoff_min_ms = int(raw.retries.backoff_min_ms, `${where}.retries.backoff_min_ms`)
      if (raw.retries.backoff_max_ms != null) def.retries.backoff_max_ms = int(raw.retries.backoff_max_ms, `${where}.retries.backoff_max_ms`)
    }
    if (raw.recurrent === true) def.recurrent = true
    if (raw.timeout != null) def.timeout = int(raw.timeout, `${where}.timeout`)
    if (raw.resumes != null) {
      const resumes = int(raw.resumes, `${where}.resumes`)
      if (resumes < 0) throw new Error(`${where}.resumes is negative`)
      if (raw.type !== 'workflow') throw new Error(`${where}.resumes is set on a task (workflows only)`)
      def.resumes = resumes
    }
    if (raw.priority != null) def.priority = int(raw.priority, `${where}.priority`)
    if (raw.concurrency != null) def.concurrency = concurrency(raw.concurrency, `${where}.concurrency`)
    if (raw.requires != null) def.requires = tagSet(raw.requires, `${where}.requires`)
    if (raw.memo === true) def.memo = true
    else if (Array.isArray(raw.memo)) def.memo = indexes(raw.memo, `${where}.memo`)
    if (raw.instruction != null) def.instruction = str(raw.instruction, `${where}.instruction`)
    if (raw.schedule != null) {
      if (raw.type !== 'workflow') throw new Error(`${where}.schedule is set on a task (workflows only)`)
      def.schedule = schedule(raw.schedule, `${where}.schedule`)
    }
    out.push(def)
  })
  return out
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string') throw new Error(`${where} is not a string`)
  return v
}

function optionalString(v: unknown, where: string): string | null {
  return v === null ? null : str(v, where)
}

function int(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`${where} is not an integer`)
  return v
}

function indexes(v: unknown, where: string): number[] {
  if (!Array.isArray(v)) throw new Error(`${where} is not an array`)
  return v.map((x, i) => int(x, `${where}[${i}]`))
}

function paramsField(v: unknown, where: string): true | number[] {
  return v === true ? true : indexes(v, where)
}

function concurrency(v: unknown, where: string): { limit: number; key: string | null } {
  if (!isObject(v)) throw new Error(`${where} is not an object`)
  const limit = int(v.limit, `${where}.limit`)
  if (limit < 1) throw new Error(`${where}.limit is below 1`)
  return { limit, key: v.key == null ? null : str(v.key, `${where}.key`) }
}

/** The cron itself is checked by the server, which reads it (orchestrator/cron.ts). */
function schedule(v: unknown, where: string): DiscoveredSchedule {
  if (!isObject(v)) throw new Error(`${where} is not an object`)
  const out: DiscoveredSchedule = { cron: str(v.cron, `${where}.cron`) }
  if (v.timezone != null) out.timezone = str(v.timezone, `${where}.timezone`)
  if (v.arguments != null) {
    if (!Array.isArray(v.arguments)) throw new Error(`${where}.arguments is not an array`)
    out.arguments = v.arguments.map((a, i) => str(a, `${where}.arguments[${i}]`))
  }
  if (v.catch_up != null) out.catch_up = oneOf(SCHEDULE_CATCH_UP, v.catch_up, `${where}.catch_up`)
  if (v.overlap != null) out.overlap = oneOf(SCHEDULE_OVERLAP, v.overlap, `${where}.overlap`)
  return out
}

function oneOf<T extends string>(allowed: readonly T[], v: unknown, where: string): T {
  if (!allowed.includes(v as T)) throw new Error(`${where} is not one of ${allowed.join(', ')}`)
  return v as T
}

function tagSet(v: unknown, where: string): Record<string, string[]> {
  if (!isObject(v)) throw new Error(`${where} is not an object`)
  const out: Record<string, string[]> = {}
  for (const [k, values] of Object.entries(v)) {
    const list = Array.isArray(values) ? values : [values]
    out[k] = list.map((x, i) => (typeof x === 'boolean' ? String(x) : str(x, `${where}.${k}[${i}]`)))
  }
  return out
}
