/**
 * The stores' SQL is written for SQLite; these are the few constructs PostgreSQL says otherwise,
 * rewritten once per statement text (the result is cached with the statement):
 *
 * - parameters: `?` and `$name` become `$1…$n` (a name used twice is one parameter);
 * - `INSERT OR IGNORE INTO …` becomes `INSERT INTO … ON CONFLICT DO NOTHING`;
 * - scalar `max(a, b)` / `min(a, b)` become `GREATEST` / `LEAST` (aggregates keep their name);
 * - `json_each(x)` becomes `json_array_elements_text(CAST(CAST(x AS text) AS json))` (through
 * text: a parameter typed json would be JSON-encoded again by the client), whose column is also
 *   named `value`;
 * - `PRAGMA …` statements are SQLite's tuning and do nothing here.
 *
 * Anything else is passed through: the stores keep to SQL both accept, and a query that cannot
 * checks the handle's dialect (sql-database.ts).
 */

export interface TranslatedSql {
  text: string
  /** `$name` parameters in their position order; empty for `?` parameters */
  names: string[]
  /** how many parameters the statement takes */
  count: number
}

type Token = { kind: 'word' | 'space' | 'string' | 'quoted' | 'comment' | 'param' | 'punct'; text: string }

function tokenize(sql: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  const take = (kind: Token['kind'], end: number) => {
    tokens.push({ kind, text: sql.slice(i, end) })
    i = end
  }
  while (i < sql.length) {
    const c = sql[i]!
    if (/\s/.test(c)) {
      let j = i + 1
      while (j < sql.length && /\s/.test(sql[j]!)) j++
      take('space', j)
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1
      for (;;) {
        if (j >= sql.length) break
        if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2
          else {
            j++
            break
          }
        } else j++
      }
      take(c === "'" ? 'string' : 'quoted', j)
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i)
      take('comment', end < 0 ? sql.length : end)
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2)
      take('comment', end < 0 ? sql.length : end + 2)
    } else if (c === '?') {
      let j = i + 1
      while (j < sql.length && /\d/.test(sql[j]!)) j++
      take('param', j)
    } else if ((c === '$' || c === ':' || c === '@') && /[A-Za-z_]/.test(sql[i + 1] ?? '') && !(c === ':' && sql[i - 1] === ':')) {
      let j = i + 1
      while (j < sql.length && /[A-Za-z0-9_]/.test(sql[j]!)) j++
      take('param', j)
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1
      while (j < sql.length && /[A-Za-z0-9_]/.test(sql[j]!)) j++
      take('word', j)
    } else take('punct', i + 1)
  }
  return tokens
}

/** The index of the token closing the parenthesis opened at `open`, and the top-level commas. */
function closing(tokens: Token[], open: number): { close: number; commas: number } {
  let depth = 0
  let commas = 0
  for (let k = open; k < tokens.length; k++) {
    const t = tokens[k]!
    if (t.kind !== 'punct') continue
    if (t.text === '(') depth++
    else if (t.text === ')' && --depth === 0) return { close: k, commas }
    else if (t.text === ',' && depth === 1) commas++
  }
  return { close: tokens.length - 1, commas }
}

function nextSignificant(tokens: Token[], from: number): number {
  let k = from
  while (k < tokens.length && (tokens[k]!.kind === 'space' || tokens[k]!.kind === 'comment')) k++
  return k
}

export function toPostgres(sql: string): TranslatedSql {
  const tokens = tokenize(sql)
  const first = tokens[nextSignificant(tokens, 0)]
  if (first?.kind === 'word' && first.text.toUpperCase() === 'PRAGMA') return { text: '', names: [], count: 0 }

  const names: string[] = []
  let positional = 0
  let onConflictDoNothing = false

  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!
    if (t.kind === 'param') {
      if (t.text.startsWith('?')) {
        t.text = `$${++positional}`
      } else {
        const name = t.text.slice(1)
        let index = names.indexOf(name)
        if (index < 0) index = names.push(name) - 1
        t.text = `$${index + 1}`
      }
      continue
    }
    if (t.kind !== 'word') continue
    const word = t.text.toUpperCase()
    if (word === 'INSERT') {
      const or = nextSignificant(tokens, k + 1)
      const verb = nextSignificant(tokens, or + 1)
      if (tokens[or]?.text.toUpperCase() === 'OR' && tokens[verb]?.text.toUpperCase() === 'IGNORE') {
        for (let j = k + 1; j <= verb; j++) tokens[j]!.text = ''
        t.text = 'INSERT'
        onConflictDoNothing = true
      }
      continue
    }
    const open = nextSignificant(tokens, k + 1)
    if (tokens[open]?.text !== '(') continue
    if (word === 'MAX' || word === 'MIN') {
      if (closing(tokens, open).commas > 0) t.text = word === 'MAX' ? 'GREATEST' : 'LEAST'
    } else if (word === 'JSON_EACH') {
      const { close } = closing(tokens, open)
      t.text = 'json_array_elements_text'
      tokens[open]!.text = '(CAST(CAST('
      tokens[close]!.text = ' AS text) AS json))'
    }
  }
  let text = tokens.map((t) => t.text).join('')
  if (onConflictDoNothing) {
    // before a RETURNING clause, else at the end (before a trailing semicolon)
    const returning = /\bRETURNING\b/i.exec(text)
    if (returning) text = `${text.slice(0, returning.index)}ON CONFLICT DO NOTHING ${text.slice(returning.index)}`
    else text = text.replace(/\s*;?\s*$/, ' ON CONFLICT DO NOTHING')
  }
  return { text, names, count: names.length > 0 ? names.length : positional }
}
