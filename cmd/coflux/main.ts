#!/usr/bin/env bun
/** Entry point: everything is decided in cli-ui's run(); we only flush and exit with its code. */
import { flushProcessIO, run } from '../../internal/cli-ui/index.ts'
import { rootCommand } from './root.ts'

const code = await run(rootCommand, process.argv.slice(2))
// process.exit drops output still queued for a slow reader; wait for it first
await flushProcessIO()
process.exit(code)
