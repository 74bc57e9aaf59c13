import { expect, test } from 'bun:test'
import { toPostgres } from '../../../internal/store/postgres/dialect.ts'

test('positional parameters are numbered, those in strings and comments left alone', () => {
  const t = toPostgres("SELECT * FROM t WHERE a = ? AND b = '?' AND c = ? -- ?\n")
  expect(t.text).toBe("SELECT * FROM t WHERE a = $1 AND b = '?' AND c = $2 -- ?\n")
  expect(t.count).toBe(2)
  expect(t.names).toEqual([])
})

test('named parameters become positional, one per name', () => {
  const t = toPostgres('SELECT * FROM m WHERE run_id = $run AND ($execution IS NULL OR execution_id = $execution) LIMIT $limit')
  expect(t.text).toBe('SELECT * FROM m WHERE run_id = $1 AND ($2 IS NULL OR execution_id = $2) LIMIT $3')
  expect(t.names).toEqual(['run', 'execution', 'limit'])
  expect(t.count).toBe(3)
})

test('casts are not parameters', () => {
  expect(toPostgres('SELECT x::bigint FROM t WHERE y = ?').text).toBe('SELECT x::bigint FROM t WHERE y = $1')
})

test('INSERT OR IGNORE becomes ON CONFLICT DO NOTHING, before RETURNING', () => {
  expect(toPostgres('INSERT OR IGNORE INTO t (a) VALUES (?)').text).toBe('INSERT INTO t (a) VALUES ($1) ON CONFLICT DO NOTHING')
  expect(toPostgres('INSERT or ignore INTO t (a) VALUES (?) RETURNING id').text).toBe('INSERT INTO t (a) VALUES ($1) ON CONFLICT DO NOTHING RETURNING id')
  expect(toPostgres('INSERT INTO t (a) VALUES (?)').text).toBe('INSERT INTO t (a) VALUES ($1)')
})

test('scalar max/min become GREATEST/LEAST; aggregates stay', () => {
  expect(toPostgres('SELECT max(a, coalesce(b, 0)), max(c), MIN(d, e) FROM t').text).toBe('SELECT GREATEST(a, coalesce(b, 0)), max(c), LEAST(d, e) FROM t')
})

test('json_each reads a JSON array parameter', () => {
  expect(toPostgres('SELECT 1 WHERE k IN (SELECT value FROM json_each($keys))').text).toBe(
    'SELECT 1 WHERE k IN (SELECT value FROM json_array_elements_text(CAST(CAST($1 AS text) AS json)))',
  )
})

test('PRAGMA statements do nothing', () => {
  expect(toPostgres('PRAGMA foreign_keys = OFF')).toEqual({ text: '', names: [], count: 0 })
})
