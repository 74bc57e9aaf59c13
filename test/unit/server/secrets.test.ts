import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SecretBox, SecretError } from '../../../internal/server/secrets.ts'

const dirs: string[] = []
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'coflux-secrets-'))
  dirs.push(dir)
  return dir
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

test('AES-256-GCM round trip; each sealing differs (random IV) and hides the plaintext', () => {
  const box = new SecretBox({ secret: 'server secret', dataDir: tempDir() })
  const a = box.encrypt('hunter2')
  const b = box.encrypt('hunter2')
  expect(a).not.toBe(b)
  expect(a).toStartWith('v1.')
  expect(a).not.toContain('hunter2')
  expect(box.decrypt(a)).toBe('hunter2')
  expect(box.decrypt(box.encrypt(''))).toBe('')
})

test('the key comes from COFLUX_SECRET: another secret cannot read it, and no key file is written', () => {
  const dir = tempDir()
  const sealed = new SecretBox({ secret: 'one', dataDir: dir }).encrypt('x')
  expect(new SecretBox({ secret: 'one', dataDir: dir }).decrypt(sealed)).toBe('x')
  expect(() => new SecretBox({ secret: 'two', dataDir: dir }).decrypt(sealed)).toThrow(SecretError)
  expect(() => statSync(join(dir, 'secret.key'))).toThrow()
})

test('without a secret, <data>/secret.key is generated once (0600) and reused', () => {
  const dir = tempDir()
  const sealed = new SecretBox({ secret: null, dataDir: dir }).encrypt('x')
  const file = join(dir, 'secret.key')
  expect(statSync(file).mode & 0o777).toBe(0o600)
  const key = readFileSync(file, 'utf8')
  expect(new SecretBox({ secret: null, dataDir: dir }).decrypt(sealed)).toBe('x')
  expect(readFileSync(file, 'utf8')).toBe(key)
  expect(() => new SecretBox({ secret: null, dataDir: tempDir() }).decrypt(sealed)).toThrow(SecretError)
})

test('tampered or malformed values are refused', () => {
  const box = new SecretBox({ secret: 's', dataDir: tempDir() })
  const sealed = box.encrypt('value')
  const flipped = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'B' : 'A') + sealed.slice(-1)
  expect(() => box.decrypt(flipped)).toThrow(SecretError)
  expect(() => box.decrypt('plain')).toThrow(SecretError)
  expect(() => box.decrypt('v1.')).toThrow(SecretError)
})
