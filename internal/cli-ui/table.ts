import type { Colors } from './colors.ts'

/** Display width, ignoring ANSI colour codes. */
export function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex
  return [...text.replace(/\x1b\[[0-9;]*m/g, '')].length
}

function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - visibleLength(text)))
}

/**
 * A plain text table: a bold header row, columns separated by two spaces, no trailing blanks.
 *
 * @example
 * renderTable(['Name', 'State'], [['default', 'active']], colors)
 */
export function renderTable(headers: string[], rows: string[][], c: Colors): string[] {
  const widths = headers.map((h, i) => Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[i] ?? ''))))
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : pad(cell, widths[i]!)))
      .join('  ')
      .trimEnd()
  return [c.bold(line(headers.map((h, i) => pad(h, i === headers.length - 1 ? 0 : widths[i]!)))), ...rows.map(line)]
}
