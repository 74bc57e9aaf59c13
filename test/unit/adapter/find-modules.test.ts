/**
 * `coflux setup`'s scan for modules that import coflux: dotted names from paths, packages,
 * skipped environments and hidden directories.
 */
import { afterAll, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findCofluxModules, moduleName } from '../../../internal/adapter/find-modules.ts'

const root = mkdtempSync(join(tmpdir(), 'coflux-find-modules-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

function file(path: string, text: string) {
  mkdirSync(join(root, path, '..'), { recursive: true })
  writeFileSync(join(root, path), text)
}

test('modules that import coflux, by their dotted names', () => {
  file('flows.py', 'import coflux as cf\n')
  file('app/__init__.py', 'from coflux import workflow\n')
  file('app/jobs/nightly.py', '"""Jobs."""\nfrom coflux.models import Execution\n')
  file('helpers.py', '# mentions coflux in a comment only\nimport json\n')
  file('.venv/lib/x.py', 'import coflux\n')
  file('venv/lib/y.py', 'import coflux\n')
  file('node_modules/pkg/z.py', 'import coflux\n')
  file('my-scripts/run.py', 'import coflux\n')
  expect(findCofluxModules(root)).toEqual(['app', 'app.jobs.nightly', 'flows'])
})

test('module names', () => {
  expect(moduleName('a/b.py')).toBe('a.b')
  expect(moduleName('a/__init__.py')).toBe('a')
  expect(moduleName('a-b/c.py')).toBeNull()
})
