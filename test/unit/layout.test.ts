/**
 * Dependency direction (STYLE §3): reads every import under cmd/ and internal/ and fails when an
 * arrow points the wrong way. Type-only imports count too: they still couple the packages.
 */
import { describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const REPO = resolve(import.meta.dir, '../..')

function sourceFiles(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path))
    else if (/\.tsx?$/.test(name) && !name.endsWith('.d.ts')) out.push(path)
  }
  return out
}

/** Module specifiers of static imports, re-exports and dynamic imports. */
export function importsOf(text: string): string[] {
  const specs = new Set<string>()
  const patterns = [
    /^\s*import\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]/gm,
    /^\s*export\s+(?:type\s+)?(?:\*|\{[^}]*\})(?:\s+as\s+\w+)?\s+from\s+['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
  ]
  for (const re of patterns) for (const m of text.matchAll(re)) specs.add(m[1]!)
  return [...specs]
}

interface Edge {
  from: string
  /** repo-relative file for local imports, else the bare specifier */
  to: string
  local: boolean
}

function edges(): Edge[] {
  const out: Edge[] = []
  for (const root of ['cmd', 'internal']) {
    for (const file of sourceFiles(join(REPO, root))) {
      const from = relative(REPO, file)
      for (const spec of importsOf(readFileSync(file, 'utf8'))) {
        if (spec.startsWith('.')) out.push({ from, to: relative(REPO, resolve(dirname(file), spec)), local: true })
        else out.push({ from, to: spec, local: false })
      }
    }
  }
  return out
}

/** `internal/client/x.ts` → `client`, `cmd/coflux/x.ts` → `cmd`. */
function packageOf(path: string): string {
  const parts = path.split('/')
  return parts[0] === 'internal' ? parts[1]! : parts[0]!
}

const all = edges()

function violations(rule: (e: Edge, fromPkg: string) => string | undefined): string[] {
  return all.map((e) => rule(e, packageOf(e.from))).filter((v): v is string => v !== undefined)
}

describe('dependency direction (STYLE §3)', () => {
  test('the import scanner sees imports', () => {
    expect(importsOf("import a from 'x'\nimport type { B } from \"./y.ts\"\nexport * from './z.ts'\nconst m = await import('./w.ts')")).toEqual([
      'x',
      './y.ts',
      './z.ts',
      './w.ts',
    ])
    expect(all.length).toBeGreaterThan(50)
  })

  // cbor-x encodes frames; @cfworker/json-schema validates input responses (json-schema.ts):
  // both dependency-free, and shared by the orchestrator and the server
  test('protocol imports nothing but itself, cbor-x and @cfworker/json-schema', () => {
    const bad = violations((e, pkg) => {
      if (pkg !== 'protocol') return
      if (e.local ? packageOf(e.to) === 'protocol' : e.to === 'cbor-x' || e.to === '@cfworker/json-schema') return
      return `${e.from} → ${e.to}`
    })
    expect(bad).toEqual([])
  })

  test('store imports only protocol and bun:sqlite (and node built-ins)', () => {
    const bad = violations((e, pkg) => {
      if (pkg !== 'store') return
      if (e.local ? ['store', 'protocol'].includes(packageOf(e.to)) : e.to === 'bun:sqlite' || e.to.startsWith('node:')) return
      return `${e.from} → ${e.to}`
    })
    expect(bad).toEqual([])
  })

  test('client never imports server, store, orchestrator, worker, cli-ui, hono or SQLite', () => {
    const bad = violations((e, pkg) => {
      if (pkg !== 'client') return
      const forbidden = e.local
        ? ['server', 'store', 'orchestrator', 'worker', 'cli-ui', 'cmd'].includes(packageOf(e.to))
        : e.to === 'hono' || e.to.startsWith('hono/') || e.to === 'bun:sqlite'
      return forbidden ? `${e.from} → ${e.to}` : undefined
    })
    expect(bad).toEqual([])
  })

  test('config and adapter stay below the client (no server, store, worker, cli-ui)', () => {
    const bad = violations((e, pkg) => {
      if (pkg !== 'config' && pkg !== 'adapter') return
      if (!e.local) return
      const to = packageOf(e.to)
      return ['server', 'store', 'orchestrator', 'worker', 'cli-ui', 'client', 'cmd'].includes(to) ? `${e.from} → ${e.to}` : undefined
    })
    expect(bad).toEqual([])
  })

  test('nothing under internal/ imports cmd/', () => {
    const bad = violations((e, pkg) => (pkg !== 'cmd' && e.local && e.to.startsWith('cmd/') ? `${e.from} → ${e.to}` : undefined))
    expect(bad).toEqual([])
  })

  test('the orchestrator knows nothing of HTTP, sockets or the server', () => {
    const bad = violations((e, pkg) => {
      if (pkg !== 'orchestrator') return
      const forbidden = e.local
        ? ['server', 'client', 'worker', 'cli-ui', 'cmd'].includes(packageOf(e.to))
        : e.to === 'hono' || e.to.startsWith('hono/')
      return forbidden ? `${e.from} → ${e.to}` : undefined
    })
    expect(bad).toEqual([])
  })

  test('only cli-ui/colors.ts imports picocolors', () => {
    const bad = violations((e) => (e.to === 'picocolors' && e.from !== 'internal/cli-ui/colors.ts' ? `${e.from} → ${e.to}` : undefined))
    expect(bad).toEqual([])
  })

  test('@clack/prompts is only imported lazily', () => {
    const bad: string[] = []
    for (const root of ['cmd', 'internal']) {
      for (const file of sourceFiles(join(REPO, root))) {
        const text = readFileSync(file, 'utf8')
        if (/^\s*import\s[^(]*['"]@clack\/prompts['"]/m.test(text)) bad.push(relative(REPO, file))
      }
    }
    expect(bad).toEqual([])
  })
})
