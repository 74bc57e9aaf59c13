/**
 * Terminal UI for the commands: argv → exit code (run), argument parsing, help, output, colour,
 * logging, tables, the run tree and live redraws.
 */
export { kebab, listFlag, parseCommandLine, variadic, type ParsedLine } from './args.ts'
export { createColors, shouldUseColor, stripAnsi, type Colors } from './colors.ts'
export { commandEnv, type CommandEnv } from './context.ts'
export { ContextError, describeError, ExitError, rootCause, UsageError, withContext } from './errors.ts'
export { formatAgo, formatDate, formatDateTime, formatTags, formatTime } from './format.ts'
export { renderHelp, resolveCommandPath } from './help.ts'
export { interruptExitCode, onInterrupt, type Interrupt } from './interrupt.ts'
export { flushProcessIO, memoryIO, processIO, QueuedStream, type CliIO, type OutStream } from './io.ts'
export { LiveRegion } from './live.ts'
export { createLogger, type Logger, type LogLevelName } from './logger.ts'
export { Output } from './output.ts'
export { commandData, exitCodeFor, run, type CommandData, type RunContext } from './run.ts'
export { renderTable, visibleLength } from './table.ts'
export { renderRunTree, statusColor, type TreeOptions } from './tree.ts'
export { LogPrinter, type LogExecutionInfo } from './log-text.ts'
export { renderResultText, valueColors } from './result-text.ts'
export { followRun, type FollowRunOptions } from './run-view.ts'
export { formatDuration, formatSize, renderLogMessage, renderValue, renderValueData } from './value-text.ts'
export { watchView, type WatchViewOptions } from './watch.ts'
export { runSetupWizard, type WizardInput, type WizardResult } from './setup-wizard.ts'
