/**
 * `runs result` in text mode (cli.md §8.5): values pretty-printed, errors as a Python-style
 * traceback, other outcomes by name.
 */
import type { Json } from '../protocol/json.ts'
import type { Result } from '../protocol/api.ts'
import type { Colors } from './colors.ts'
import { formatSize, renderValueData, type ValueColors } from '../client/value-text.ts'

export function valueColors(c: Colors): ValueColors {
  return { string: c.green, number: c.cyan, keyword: c.magenta, reference: c.blue, muted: c.dim }
}

/**
 * @param blobData the parsed content of a blob value, when it could be fetched
 */
export function renderResultText(result: Result, c: Colors, blobData?: Json): string {
  switch (result.type) {
    case 'value': {
      const v = result.value
      if (v.type === 'blob') {
        if (blobData === undefined) return c.blue(`<blob (${formatSize(v.size)})>`)
        return renderValueData(blobData, v.references, valueColors(c))
      }
      return renderValueData(v.data, v.references, valueColors(c))
    }
    case 'error': {
      const lines = ['Traceback (most recent call last):']
      for (const f of result.error.frames) {
        lines.push(`  File "${f.file}", line ${f.line}, in ${f.name}`)
        if (f.code) lines.push(`    ${f.code}`)
      }
      lines.push(c.red(`${result.error.type}: ${result.error.message}`))
      return lines.join('\n')
    }
    case 'cancelled':
      return 'Cancelled'
    case 'abandoned':
      return 'Abandoned'
    default:
      return result.type
  }
}
