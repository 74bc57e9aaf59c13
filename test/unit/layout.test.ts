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

/**
 * Every strongly connected group of files, shown as one cycle through it (Tarjan's algorithm,
 * iterative so deep import chains cannot overflow the stack).
 */
function importCycles(local: Edge[]): string[] {
  const next = new Map<string, string[]>()
  for (const e of local) {
    if (!next.has(e.from)) next.set(e.from, [])
    next.get(e.from)!.push(e.to)
  }
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const onStack = new Set<string>()
  const stack: string[] = []
  const cycles: string[] = []
  let counter = 0
  for (const root of [...next.keys()].sort()) {
    if (index.has(root)) continue
    const work: [string, number][] = [[root, 0]]
    index.set(root, counter)
    low.set(root, counter++)
    stack.push(root)
    onStack.add(root)
    while (work.length > 0) {
      const frame = work[work.length - 1]!
      const [node, i] = frame
      const targets = next.get(node) ?? []
      if (i < targets.length) {
        frame[1]++
        const to = targets[i]!
        if (!index.has(to)) {
          index.set(to, counter)
          low.set(to, counter++)
          stack.push(to)
          onStack.add(to)
          work.push([to, 0])
        } else if (onStack.has(to)) low.set(node, Math.min(low.get(node)!, index.get(to)!))
        continue
      }
      work.pop()
      if (work.length > 0) {
        const parent = work[work.length - 1]![0]
        low.set(parent, Math.min(low.get(parent)!, low.get(node)!))
      }
      if (low.get(node) !== index.get(node)) continue
      const group: string[] = []
      for (;;) {
        const member = stack.pop()!
        onStack.delete(member)
        group.push(member)
        if (member === node) break
      }
      if (group.length > 1 || (next.get(node) ?? []).includes(node)) cycles.push(describeCycle(group, next))
    }
  }
  return cycles.sort()
}

/** A path from the group's first file back to itself, staying inside the group. */
function describeCycle(group: string[], next: Map<string, string[]>): string {
  const members = new Set(group)
  const start = [...group].sort()[0]!
  const previous = new Map<string, string>()
  const queue = [start]
  while (queue.length > 0) {
    const node = queue.shift()!
    for (const to of next.get(node) ?? []) {
      if (!members.has(to)) continue
      if (to === start) {
        const path = [start]
        for (let at = node; at !== start; at = previous.get(at)!) path.splice(1, 0, at)
        return [...path, start].join(' → ')
      }
      if (!previous.has(to)) {
        previous.set(to, node)
        queue.push(to)
      }
    }
  }
  return group.join(', ')
}

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

  test('store imports only protocol, bun:sqlite and (for PostgreSQL) bun (and node built-ins)', () => {
    const bad = violations((e, pkg) => {
      if (pkg !== 'store') return
      if (e.local ? ['store', 'protocol'].includes(packageOf(e.to)) : e.to === 'bun:sqlite' || e.to.startsWith('node:')) return
      if (e.to === 'bun' && e.from.includes('store/postgres/')) return
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

  // one wrapper, so the cron dialect users write is decided in one place
  test('only orchestrator/cron.ts imports croner and cronstrue', () => {
    const bad = violations((e) => ((e.to === 'croner' || e.to === 'cronstrue') && e.from !== 'internal/orchestrator/cron.ts' ? `${e.from} → ${e.to}` : undefined))
    expect(bad).toEqual([])
  })

  test('only cli-ui/colors.ts imports picocolors', () => {
    const bad = violations((e) => (e.to === 'picocolors' && e.from !== 'internal/cli-ui/colors.ts' ? `${e.from} → ${e.to}` : undefined))
    expect(bad).toEqual([])
  })

  test('no import cycles under internal/ or cmd/ (type-only imports included)', () => {
    expect(importCycles(all.filter((e) => e.local))).toEqual([])
  })

  test('the cycle finder finds cycles', () => {
    const edge = (from: string, to: string): Edge => ({ from, to, local: true })
    expect(importCycles([edge('a', 'b'), edge('b', 'c'), edge('c', 'a'), edge('c', 'd')])).toEqual(['a → b → c → a'])
    expect(importCycles([edge('a', 'b'), edge('b', 'c')])).toEqual([])
  })

  // The web UI runs in a browser: it shares the CLI's logic through protocol and the client's
  // browser entry, and nothing else (STYLE §13: no logic twice, no server code in a page)
  test('web-ui imports only itself, protocol, client/browser.ts and hono/jsx', () => {
    const bad = violations((e, pkg) => {
      if (pkg !== 'web-ui') return
      if (e.local) {
        const to = packageOf(e.to)
        if (to === 'web-ui' || to === 'protocol' || e.to === 'internal/client/browser.ts') return
      } else if (e.to === 'hono/jsx' || e.to.startsWith('hono/jsx/')) return
      return `${e.from} → ${e.to}`
    })
    expect(bad).toEqual([])
  })

  test('nothing imports web-ui (the server embeds its bundle, scripts/build.ts builds it)', () => {
    const bad = violations((e, pkg) => (pkg !== 'web-ui' && e.local && packageOf(e.to) === 'web-ui' ? `${e.from} → ${e.to}` : undefined))
    expect(bad).toEqual([])
  })

  test('what client/browser.ts reaches loads in a browser (no node:, bun:, config or credentials)', () => {
    const reached = new Set<string>(['internal/client/browser.ts'])
    const queue = ['internal/client/browser.ts']
    const bad: string[] = []
    while (queue.length > 0) {
      const file = queue.shift()!
      for (const e of all.filter((x) => x.from === file)) {
        if (!e.local) {
          if (e.to !== '@cfworker/json-schema') bad.push(`${e.from} → ${e.to}`)
          continue
        }
        if (e.to === 'internal/client/credentials.ts' || packageOf(e.to) === 'config') bad.push(`${e.from} → ${e.to}`)
        if (!reached.has(e.to)) {
          reached.add(e.to)
          queue.push(e.to)
        }
      }
    }
    expect(bad).toEqual([])
    expect(reached.size).toBeGreaterThan(5)
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
