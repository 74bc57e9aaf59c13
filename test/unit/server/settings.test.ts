/** Server settings (http-api.md §2): `epochs.retention_days` (semantics.md §23.3). */
import { expect, test } from 'bun:test'
import { resolveServerSettings, SettingsError } from '../../../internal/server/settings.ts'

const resolve = (env: Record<string, string> = {}, table: Record<string, unknown> = {}) => resolveServerSettings({}, env, table, '/tmp')

test('epochs.retention_days: off by default; from [server.epochs], COFLUX_EPOCHS_RETENTION_DAYS or COFLUX_SERVER_EPOCHS_RETENTION_DAYS', () => {
  expect(resolve().epochRetentionDays).toBeNull()
  expect(resolve({}, { epochs: { retention_days: 30 } }).epochRetentionDays).toBe(30)
  expect(resolve({ COFLUX_EPOCHS_RETENTION_DAYS: '0.5' }, { epochs: { retention_days: 30 } }).epochRetentionDays).toBe(0.5)
  expect(resolve({ COFLUX_SERVER_EPOCHS_RETENTION_DAYS: '7', COFLUX_EPOCHS_RETENTION_DAYS: '9' }).epochRetentionDays).toBe(7)
  expect(resolve({ COFLUX_EPOCHS_RETENTION_DAYS: '' }).epochRetentionDays).toBeNull()
})

test('a retention that is not a positive number of days is refused at start-up', () => {
  for (const bad of ['0', '-1', 'week', 'Infinity']) {
    expect(() => resolve({ COFLUX_EPOCHS_RETENTION_DAYS: bad })).toThrow(new SettingsError(`invalid epochs.retention_days: ${bad} (expected a number of days > 0)`))
  }
})
