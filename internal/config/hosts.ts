/**
 * The `host` value (`--host`, `COFLUX_HOST`, `host` in coflux.toml): one server, or several
 * separated by commas (`a:7777,b:7777`) that the client fails over between (issue 10). Each
 * entry is read as a single host always was: an optional `http://`/`https://` (which sets
 * `secure`), trailing slashes dropped; then it must be `host[:port]`.
 */
import { isHostPort } from '../protocol/ownership.ts'

export type HostList =
  | {
      isValid: true
      /** the entries, in order, without scheme: never empty */
      hosts: string[]
      /** from the entries' scheme, when they name one (they must agree) */
      schemeSecure?: boolean
    }
  | { isValid: false; error: string }

/**
 * @example
 * parseHostList(' a:7777 , https://b:7777/') // { isValid: true, hosts: ['a:7777', 'b:7777'], schemeSecure: true }
 * parseHostList('a:7777,,b')                // { isValid: false, error: 'invalid host list "a:7777,,b": entry 2 is empty' }
 */
export function parseHostList(text: string): HostList {
  const entries = text.split(',').map((entry) => entry.trim())
  const isList = entries.length > 1
  const empty = (i: number) => (isList ? `invalid host list "${text}": entry ${i + 1} is empty` : 'invalid host: empty')
  const malformed = (i: number, host: string) =>
    `${isList ? `invalid host list "${text}": entry ${i + 1} ("${host}")` : `invalid host "${host}"`} is not HOST[:PORT] (a name or IP address, then an optional port 1-65535)`
  const hosts: string[] = []
  const schemes = new Set<boolean>()
  for (const [i, entry] of entries.entries()) {
    let host = entry
    const scheme = /^(https?):\/\//i.exec(host)
    if (scheme) {
      schemes.add(scheme[1]!.toLowerCase() === 'https')
      host = host.slice(scheme[0].length)
    }
    host = host.replace(/\/+$/, '')
    if (host === '') return { isValid: false, error: empty(i) }
    if (!isHostPort(host)) {
      return { isValid: false, error: malformed(i, host) }
    }
    hosts.push(host)
  }
  if (schemes.size > 1) return { isValid: false, error: `invalid host list "${text}": the entries mix http:// and https://` }
  return { isValid: true, hosts, schemeSecure: schemes.size === 1 ? [...schemes][0] : undefined }
}
