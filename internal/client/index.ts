export * from './api-client.ts'
export * from './workspaces.ts'
