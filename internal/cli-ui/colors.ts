/**
 * The only importer of picocolors. Colour is decided per stream (picocolors' own check looks at
 * stdout only): off in JSON mode, with `--no-color`, a non-empty NO_COLOR, TERM=dumb, or when the
 * stream is not a TTY — unless FORCE_COLOR is set (cli.md §6, STYLE §7).
 */
import pc from 'picocolors'

export type Colors = ReturnType<typeof pc.createColors>

export interface ColorDecision {
  isTTY?: boolean
  json?: boolean
  /** `--no-color` */
  noColor?: boolean
  env?: Record<string, string | undefined>
}

export function shouldUseColor(d: ColorDecision): boolean {
  const env = d.env ?? process.env
  if (d.json || d.noColor) return false
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  const force = env.FORCE_COLOR
  if (force !== undefined && force !== '' && force !== '0' && force !== 'false') return true
  if (env.TERM === 'dumb') return false
  return d.isTTY === true
}

export function createColors(enabled: boolean): Colors {
  return pc.createColors(enabled)
}

/** Removes ANSI escape sequences (citty colours its own messages). */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
}
