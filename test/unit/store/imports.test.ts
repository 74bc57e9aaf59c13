/**
 * The store's modules import each other without cycles, type-only imports included: the files
 * that rotate (`rotating-database.ts`), their owners (`epochs.ts`, `partitions.ts`) and the
 * facade (`orchestration-store.ts`) depend one way only, and nothing inside imports `index.ts`.
 */
import { expect, test } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const STORE = resolve(import.meta.dir, '../../../internal/store')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : []
  })
}

/** Store files a file imports or re-exports from, by path relative to the store. */
function localImports(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const specs = [
    ...text.matchAll(/^\s*import\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"](\.[^'"]+)['"]/gm),
    ...text.matchAll(/^\s*export\s+(?:type\s+)?(?:\*|\{[^}]*\})(?:\s+as\s+\w+)?\s+from\s+['"](\.[^'"]+)['"]/gm),
    ...text.matchAll(/\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]!)
  return specs
    .filter((spec) => spec.endsWith('.ts'))
    .map((spec) => relative(STORE, resolve(dirname(file), spec)))
    .filter((path) => !path.startsWith('..'))
}

const graph = new Map(sourceFiles(STORE).map((file) => [relative(STORE, file), localImports(file)]))

/** Every cycle found by a depth-first walk, each as the files along it. */
function cycles(): string[][] {
  const found: string[][] = []
  const done = new Set<string>()
  const walk = (file: string, path: string[]) => {
    const at = path.indexOf(file)
    if (at >= 0) return void found.push([...path.slice(at), file])
    if (done.has(file)) return
    for (const next of graph.get(file) ?? []) walk(next, [...path, file])
    done.add(file)
  }
  for (const file of graph.keys()) walk(file, [])
  return found
}

test('the import graph is read', () => {
  expect(graph.get('orchestration-store.ts')).toContain('epochs.ts')
  expect(graph.get('partitions.ts')).toContain('rotating-database.ts')
})

test('no import cycles within internal/store', () => {
  expect(cycles().map((c) => c.join(' → '))).toEqual([])
})

test('no store module imports the package index', () => {
  const importers = [...graph].filter(([, imports]) => imports.includes('index.ts')).map(([file]) => file)
  expect(importers).toEqual([])
})
