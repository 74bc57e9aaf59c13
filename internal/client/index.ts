/**
 * Typed HTTP client for the Coflux server, used by the commands and the worker. Imports only
 * protocol and config types: never server or store code (STYLE §3).
 */
export * from './api-client.ts'
export * from './assets.ts'
export * from './blob-stores.ts'
export * from './coflux-client.ts'
export * from './connect.ts'
export * from './credentials.ts'
export * from './logs.ts'
export * from './run-lookup.ts'
export * from './run-status.ts'
export * from './run-waiter.ts'
export * from './submit.ts'
export * from '../protocol/api.ts'
export * from './workspaces.ts'
export * from './device-login.ts'
export * from './pool-edit.ts'
export * from './topic-socket.ts'
export * from './topic-subscription.ts'
export * from './pool-import.ts'
