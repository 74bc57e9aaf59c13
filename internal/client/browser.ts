/**
 * The part of the client a web page can load (the built-in UI, internal/web-ui): nothing here
 * reaches `node:` or `bun:` modules, the config or the credentials file, which
 * test/unit/layout.test.ts checks. The UI imports the client only through this file.
 */
export { ApiClient, ConnectionError, readJsonResponse, VersionMismatchError, type ServerAddress } from './api-client.ts'
export { CofluxClient } from './coflux-client.ts'
export { parseTagItems } from './submit.ts'
export * from './logs.ts'
export * from './metrics.ts'
export * from './run-status.ts'
export * from './run-tree.ts'
export * from './topic-subscription.ts'
export * from './value-text.ts'
