import { expect, test } from 'bun:test'
import { parseMetricDefinition } from '../../../internal/orchestrator/metrics.ts'
import { parseJson } from '../../../internal/protocol/json.ts'

const empty = { group: null, groupUnits: null, groupLower: null, groupUpper: null, scale: null, units: null, progress: false, lower: null, upper: null }

test('the executor-protocol.md §5.2 example; throttle stays with the worker', () => {
  const raw = parseJson(
    '{"throttle": 10, "group": "training", "group_units": "epoch", "group_lower": 0, "group_upper": 100, "scale": "error", "units": "", "progress": true, "lower": 0, "upper": 1}',
  )
  expect(parseMetricDefinition(raw)).toEqual({
    group: 'training', groupUnits: 'epoch', groupLower: 0, groupUpper: 100, scale: 'error', units: '', progress: true, lower: 0, upper: 1,
  })
})

test('every field is optional; fields of the wrong type count as absent', () => {
  expect(parseMetricDefinition({})).toEqual(empty)
  expect(parseMetricDefinition(null)).toEqual(empty)
  expect(parseMetricDefinition([1, 2])).toEqual(empty)
  expect(parseMetricDefinition({ group: 3, scale: null, progress: 'yes', lower: '0', upper: Number.POSITIVE_INFINITY, units: ['m'] })).toEqual(empty)
})
