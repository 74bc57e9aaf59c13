/**
 * The Python modules under a project directory that may hold workflows: those that import
 * `coflux`. `coflux setup` lists them (after asking the adapter which really have workflows)
 * and offers to register them. A cheap text scan, so that setup never imports user code it was
 * not asked to run: only the modules found here are given to the adapter's `discover`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative, sep } from 'node:path'

/** Directories never searched: environments, caches, tools, tests' own fixtures of other tools. */
const SKIPPED_DIRS = new Set(['node_modules', 'site-packages', 'dist-packages', '__pycache__', 'venv', 'env', 'build', 'dist'])
const MAX_DEPTH = 4
const MAX_FILES = 2_000
const MAX_FILE_BYTES = 1024 * 1024
const IMPORTS_COFLUX = /^\s*(import\s+coflux\b|from\s+coflux(\.\w+)*\s+import\b)/m
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * Dotted module names, sorted.
 *
 * @example
 * findCofluxModules('/srv/app') // ['app.flows', 'jobs']  (app/flows.py, jobs.py)
 */
export function findCofluxModules(root: string): string[] {
  const found: string[] = []
  let seen = 0
  const visit = (dir: string, depth: number) => {
    let entries: string[]
    try {
      entries = readdirSync(dir).sort()
    } catch {
      return
    }
    for (const name of entries) {
      if (seen >= MAX_FILES) return
      if (name.startsWith('.')) continue
      const path = join(dir, name)
      let stat
      try {
        stat = statSync(path)
      } catch {
        continue
      }
      if (stat.isDirectory()) {
        if (depth < MAX_DEPTH && !SKIPPED_DIRS.has(name) && IDENTIFIER.test(name)) visit(path, depth + 1)
        continue
      }
      if (!name.endsWith('.py') || stat.size > MAX_FILE_BYTES) continue
      seen++
      const module = moduleName(relative(root, path))
      if (module && IMPORTS_COFLUX.test(readFileSync(path, 'utf8'))) found.push(module)
    }
  }
  visit(root, 0)
  return found.sort()
}

/** `app/flows.py` → `app.flows`, `app/__init__.py` → `app`; null when a part is no identifier. */
export function moduleName(relativePath: string): string | null {
  const parts = relativePath.slice(0, -'.py'.length).split(sep)
  if (parts[parts.length - 1] === '__init__') parts.pop()
  if (parts.length === 0 || !parts.every((p) => IDENTIFIER.test(p))) return null
  return parts.join('.')
}
