#!/usr/bin/env bun
/** Entry point: everything is decided in cli-ui's run(); we only exit with its code. */
import { run } from '../../internal/cli-ui/run.ts'
import { rootCommand } from './root.ts'

const code = await run(rootCommand, process.argv.slice(2))
process.exit(code)
