/** The binary's version: 0.12.<patch>. The API/protocol generation is always 0.12. */
export const VERSION = '0.12.0'
export const API_VERSION = '0.12'

/** Versions an executor may announce in `ready` (executor-protocol.md §13). */
export function isCompatibleProtocolVersion(version: string): boolean {
  return version === API_VERSION || version === 'dev' || version.endsWith('-dev') || version.endsWith('dev')
}
