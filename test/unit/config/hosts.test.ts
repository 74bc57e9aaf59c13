import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, parseHostList, resolveConfig } from '../../../internal/config/index.ts'
import { isHostPort } from '../../../internal/protocol/ownership.ts'

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'coflux-hosts-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('parseHostList', () => {
  test('one host reads as it always did', () => {
    expect(parseHostList('localhost:7777')).toEqual({ isValid: true, hosts: ['localhost:7777'], schemeSecure: undefined })
    expect(parseHostList('https://coflux.example.com/')).toEqual({ isValid: true, hosts: ['coflux.example.com'], schemeSecure: true })
    expect(parseHostList('http://[::1]:7777')).toEqual({ isValid: true, hosts: ['[::1]:7777'], schemeSecure: false })
    expect(parseHostList('')).toEqual({ isValid: false, error: 'invalid host: empty' })
    expect(parseHostList('https://')).toEqual({ isValid: false, error: 'invalid host: empty' })
  })

  test('a comma-separated list, whitespace tolerated, each entry normalised', () => {
    expect(parseHostList('a:7777,b:7777')).toEqual({ isValid: true, hosts: ['a:7777', 'b:7777'], schemeSecure: undefined })
    expect(parseHostList(' a:7777 ,\tb.example.com:7778/ , 10.0.0.3 ')).toEqual({
      isValid: true,
      hosts: ['a:7777', 'b.example.com:7778', '10.0.0.3'],
      schemeSecure: undefined,
    })
    expect(parseHostList('https://a:1,b:2')).toEqual({ isValid: true, hosts: ['a:1', 'b:2'], schemeSecure: true })
  })

  test('a bad entry is named, with its position', () => {
    expect(parseHostList('a:7777,,b:7777')).toEqual({ isValid: false, error: 'invalid host list "a:7777,,b:7777": entry 2 is empty' })
    expect(parseHostList('a:7777,')).toEqual({ isValid: false, error: 'invalid host list "a:7777,": entry 2 is empty' })
    const bad = parseHostList('a:7777,b:99999')
    expect(bad).toEqual({
      isValid: false,
      error: 'invalid host list "a:7777,b:99999": entry 2 ("b:99999") is not HOST[:PORT] (a name or IP address, then an optional port 1-65535)',
    })
    expect(parseHostList('a:7777,b c:1')).toMatchObject({ isValid: false, error: expect.stringContaining('entry 2 ("b c:1")') })
    expect(parseHostList('a/b')).toEqual({
      isValid: false,
      error: 'invalid host "a/b" is not HOST[:PORT] (a name or IP address, then an optional port 1-65535)',
    })
    expect(parseHostList('http://a:1,https://b:2')).toEqual({
      isValid: false,
      error: 'invalid host list "http://a:1,https://b:2": the entries mix http:// and https://',
    })
  })
})

test('isHostPort: names, IPv4, bracketed IPv6, optional port in range', () => {
  for (const ok of ['a', 'a:1', 'a.b-c.example:65535', '127.0.0.1:7777', '[::1]', '[::1]:7777', 'proj.localhost:7777']) expect(isHostPort(ok)).toBe(true)
  for (const bad of ['', ':7777', 'a:', 'a:0', 'a:65536', 'a:x', 'a b', 'a/b', 'http://a', '::1', '[::1', 'a:1:2', '-a', 'user@a']) {
    expect(isHostPort(bad)).toBe(false)
  }
})

describe('resolveConfig with a host list', () => {
  const resolve = (flags: { host?: string }, env: Record<string, string> = {}) => resolveConfig({ env, cwd: dir, flags }).config

  test('the flag, COFLUX_HOST and the file all take a list, kept joined by commas', () => {
    expect(resolve({ host: 'localhost:1, localhost:2' }).host).toBe('localhost:1,localhost:2')
    expect(resolve({}, { COFLUX_HOST: 'localhost:1,127.0.0.1:2' }).host).toBe('localhost:1,127.0.0.1:2')
    const path = join(dir, 'list.toml')
    writeFileSync(path, 'host = "a:7777 , b:7777"\n')
    expect(resolveConfig({ env: {}, cwd: dir, flags: { config: path } }).config.host).toBe('a:7777,b:7777')
  })

  test('secure: plain http only when every host is loopback; a scheme or COFLUX_SECURE decides for all', () => {
    expect(resolve({ host: 'localhost:1,127.0.0.1:2' }).secure).toBe(false)
    expect(resolve({ host: 'localhost:1,a.example.com:2' }).secure).toBe(true)
    expect(resolve({ host: 'http://a:1,b:2' }).secure).toBe(false)
    expect(resolve({ host: 'a:1,b:2' }, { COFLUX_SECURE: 'false' }).secure).toBe(false)
  })

  test('a bad entry is a ConfigError', () => {
    const err = (() => {
      try {
        resolve({ host: 'a:7777,b:x' })
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as Error).message).toBe('invalid host list "a:7777,b:x": entry 2 ("b:x") is not HOST[:PORT] (a name or IP address, then an optional port 1-65535)')
  })
})
