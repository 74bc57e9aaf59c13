/**
 * The planning pass (semantics.md §5.2) on hand-built views: candidate order, deferral
 * collapse, delays, cache hits, dependencies, spawns, routing, capacity and what stays unrouted.
 */
import { describe, expect, test } from 'bun:test'
import { planPass, type CacheHit, type PlanView, type SessionView } from '../../../internal/orchestrator/planner.ts'
import type { QueuedExecution } from '../../../internal/orchestrator/queue.ts'
import { targetKey } from '../../../internal/orchestrator/types.ts'
import type { ExecutionRecord, StepRecord } from '../../../internal/store/index.ts'

const NOW = 1_000_000

interface Spec {
  id: number
  workspaceId?: number
  attempt?: number
  executeAfter?: number | null
  createdAt?: number
  step?: Partial<StepRecord>
  deferKey?: string | null
  requires?: Record<string, string[]>
  waitingOn?: number[]
  gate?: number[] | null
  waitingOnInputs?: number[]
  gateInputs?: number[]
}

function queued(spec: Spec): QueuedExecution {
  // a cast: fields the planner never reads may be added to StepRecord
  const step = {
    id: spec.id,
    runId: 1,
    runExternalId: 'R1',
    number: 1,
    parentExecutionId: null,
    module: 'app',
    target: 'main',
    type: 'task',
    priority: 0,
    waitFor: [],
    cacheConfig: null,
    cacheKey: null,
    deferKey: null,
    memoKey: null,
    retryLimit: 0,
    backoffMin: 0,
    backoffMax: 0,
    recurrent: false,
    delay: 0,
    timeout: 0,
    requires: null,
    argumentIds: [],
    createdAt: 0,
    ...spec.step,
  } as StepRecord
  const exec: ExecutionRecord = {
    id: spec.id,
    externalId: `R1:1:${spec.id}`,
    stepId: step.id,
    runId: 1,
    runExternalId: 'R1',
    stepNumber: 1,
    attempt: spec.attempt ?? 1,
    workspaceId: spec.workspaceId ?? 1,
    executeAfter: spec.executeAfter ?? null,
    createdAt: spec.createdAt ?? 0,
    createdBy: null,
    module: step.module,
    target: step.target,
    type: step.type,
  }
  return {
    exec,
    step,
    requires: spec.requires ?? {},
    deferKey: spec.deferKey ?? null,
    waitingOn: new Set(spec.waitingOn),
    gate: spec.gate ? new Set(spec.gate) : null,
    waitingOnInputs: new Set(spec.waitingOnInputs),
    gateInputs: new Set(spec.gateInputs),
    sessionId: null,
    assignedAt: null,
    startedAt: null,
    lastSentAt: 0,
    misses: 0,
    resent: false,
  }
}

/** A connected session of workspace 1 offering `app/main` (task and workflow) with room for 10. */
function session(id: number, overrides: Partial<SessionView> = {}): SessionView {
  return {
    id,
    workspaceId: 1,
    targets: new Set([targetKey('task', 'app', 'main'), targetKey('workflow', 'app', 'main')]),
    provides: {},
    accepts: {},
    running: 0,
    concurrency: 10,
    waiting: 0,
    maxWaiting: 20,
    suspendable: [],
    isAvailable: true,
    ...overrides,
  }
}

function plan(candidates: QueuedExecution[], sessions: SessionView[], extra: Partial<PlanView> = {}) {
  return planPass({ now: NOW, candidates, sessions, cacheHit: () => null, random: () => 0, ...extra })
}

/** Execution ids in the order they were assigned. */
const assigned = (p: ReturnType<typeof plan>) => p.decisions.flatMap((d) => (d.kind === 'assign' ? [d.executionId] : []))
const unroutedIds = (p: ReturnType<typeof plan>) => p.unrouted.map((l) => l.exec.id)

describe('order', () => {
  test('by when each became due less its priority head start, then creation time, then id', () => {
    const candidates = [
      queued({ id: 1, createdAt: 5 }),
      queued({ id: 2, createdAt: 3, step: { priority: 1 } }),
      queued({ id: 3, createdAt: 3, step: { priority: 7 } }),
      queued({ id: 4, executeAfter: NOW - 10, createdAt: 0 }),
      queued({ id: 5, executeAfter: NOW - 20, createdAt: 9 }),
      queued({ id: 6, createdAt: 3, step: { priority: 7 } }),
    ]
    // priority 7 is 7 minutes of waiting ahead; delayed work became due at its execute_after
    expect(assigned(plan(candidates, [session(1)]))).toEqual([3, 6, 2, 1, 5, 4])
  })

  test('higher priority overtakes newer work, but not work that has waited longer than the head start', () => {
    const minute = 60_000
    const candidates = [
      queued({ id: 1, createdAt: NOW - 10 * minute }),
      queued({ id: 2, createdAt: NOW - 2 * minute }),
      queued({ id: 3, createdAt: NOW, step: { priority: 5 } }),
    ]
    // 3 is five minutes ahead: before 2 (two minutes old), after 1 (ten minutes old)
    expect(assigned(plan(candidates, [session(1)]))).toEqual([1, 3, 2])
  })

  test('with room for only two, the first two in that order get it', () => {
    const candidates = [queued({ id: 1, createdAt: 2 }), queued({ id: 2, createdAt: 1 }), queued({ id: 3, createdAt: 1, step: { priority: 5 } })]
    const p = plan(candidates, [session(1, { concurrency: 2 })])
    expect(assigned(p)).toEqual([3, 2])
    expect(unroutedIds(p)).toEqual([1])
  })

  test('the view is not changed', () => {
    const candidates = [queued({ id: 2 }), queued({ id: 1 })]
    const sessions = [session(1)]
    plan(candidates, sessions)
    expect(candidates.map((c) => c.exec.id)).toEqual([2, 1])
    expect(sessions[0]!.running).toBe(0)
  })
})

describe('deferral (§11)', () => {
  test('all but the newest with the same key are deferred to it; only the survivor is assigned', () => {
    const candidates = [
      queued({ id: 1, createdAt: 1, deferKey: 'k' }),
      queued({ id: 2, createdAt: 3, deferKey: 'k' }),
      queued({ id: 3, createdAt: 2, deferKey: 'k' }),
      queued({ id: 4, createdAt: 1, deferKey: 'other' }),
    ]
    const p = plan(candidates, [session(1)])
    expect(p.decisions.filter((d) => d.kind === 'defer')).toEqual([
      { kind: 'defer', executionId: 1, survivorId: 2 },
      { kind: 'defer', executionId: 3, survivorId: 2 },
    ])
    expect(assigned(p).sort()).toEqual([2, 4])
  })

  test('a deferred execution is collapsed even when it is delayed or waiting', () => {
    const candidates = [
      queued({ id: 1, createdAt: 1, deferKey: 'k', waitingOn: [99] }),
      queued({ id: 2, createdAt: 2, deferKey: 'k', executeAfter: NOW + 1000 }),
    ]
    const p = plan(candidates, [session(1)])
    expect(p.decisions).toEqual([{ kind: 'defer', executionId: 1, survivorId: 2 }])
    expect(p.nextDue).toBe(NOW + 1000)
  })
})

describe('delays', () => {
  test('future execute_after waits; nextDue is the earliest of them', () => {
    const candidates = [
      queued({ id: 1, executeAfter: NOW + 500 }),
      queued({ id: 2, executeAfter: NOW + 200 }),
      queued({ id: 3, executeAfter: NOW }),
      queued({ id: 4 }),
    ]
    const p = plan(candidates, [session(1)])
    expect(assigned(p)).toEqual([4, 3])
    expect(p.nextDue).toBe(NOW + 200)
    expect(p.unrouted).toEqual([])
  })

  test('nextDue is null when nothing is delayed', () => {
    expect(plan([queued({ id: 1 })], []).nextDue).toBeNull()
  })

  test('a delayed execution is not unrouted even when no session could take it', () => {
    const p = plan([queued({ id: 1, executeAfter: NOW + 1 })], [])
    expect(p.unrouted).toEqual([])
    expect(p.nextDue).toBe(NOW + 1)
  })
})

describe('cache (§6.1)', () => {
  const cached = { cacheConfig: { params: true as const, maxAge: null, namespace: null, version: null }, cacheKey: new Uint8Array([1]) }
  const hit: CacheHit = { kind: 'execution', executionId: 77 }

  test('a first attempt with a cache key is looked up; a hit decides it', () => {
    const asked: number[] = []
    const p = plan([queued({ id: 1, step: cached })], [session(1)], {
      cacheHit: (live) => {
        asked.push(live.exec.id)
        return hit
      },
    })
    expect(asked).toEqual([1])
    expect(p.decisions).toEqual([{ kind: 'cache', executionId: 1, hit }])
  })

  test('a hit comes before dependencies and needs no session', () => {
    const p = plan([queued({ id: 1, step: cached, waitingOn: [5] })], [], { cacheHit: () => hit })
    expect(p.decisions).toEqual([{ kind: 'cache', executionId: 1, hit }])
    expect(p.unrouted).toEqual([])
  })

  test('retries, steps without a key or without a config are never looked up', () => {
    const asked: number[] = []
    const candidates = [
      queued({ id: 1, attempt: 2, step: cached }),
      queued({ id: 2, step: { ...cached, cacheKey: null } }),
      queued({ id: 3, step: { ...cached, cacheConfig: null } }),
    ]
    const p = plan(candidates, [session(1)], {
      cacheHit: (live) => {
        asked.push(live.exec.id)
        return hit
      },
    })
    expect(asked).toEqual([])
    expect(assigned(p)).toEqual([1, 2, 3])
  })

  test('a miss goes on to be assigned', () => {
    expect(assigned(plan([queued({ id: 1, step: cached })], [session(1)]))).toEqual([1])
  })

  test('a delayed first attempt is not looked up until due', () => {
    const asked: number[] = []
    plan([queued({ id: 1, step: cached, executeAfter: NOW + 1 })], [session(1)], {
      cacheHit: (live) => {
        asked.push(live.exec.id)
        return null
      },
    })
    expect(asked).toEqual([])
  })
})

describe('dependencies (§13, §14.5)', () => {
  test('pending wait_for executions or inputs hold an execution back, and it is not unrouted', () => {
    const candidates = [queued({ id: 1, waitingOn: [10] }), queued({ id: 2, waitingOnInputs: [20] })]
    const p = plan(candidates, [session(1)])
    expect(p.decisions).toEqual([])
    expect(p.unrouted).toEqual([])
  })

  test('a pending gate (any-of) holds it back, whether on executions or only on inputs', () => {
    const candidates = [queued({ id: 1, attempt: 2, gate: [10, 11] }), queued({ id: 2, attempt: 2, gate: [], gateInputs: [20] })]
    expect(plan(candidates, [session(1)]).decisions).toEqual([])
  })

  test('a satisfied gate (null) and an empty wait_for let it run', () => {
    expect(assigned(plan([queued({ id: 1, attempt: 2, gate: null })], [session(1)]))).toEqual([1])
  })
})

describe('spawned workflows (§16)', () => {
  test('a workflow called from an execution is spawned, with or without sessions', () => {
    const child = queued({ id: 1, step: { type: 'workflow', parentExecutionId: 9 } })
    expect(plan([child], []).decisions).toEqual([{ kind: 'spawn', executionId: 1 }])
    expect(plan([child], [session(1)]).decisions).toEqual([{ kind: 'spawn', executionId: 1 }])
  })

  test('a top-level workflow and a called task are assigned', () => {
    const candidates = [queued({ id: 1, step: { type: 'workflow' } }), queued({ id: 2, step: { parentExecutionId: 9 } })]
    expect(assigned(plan(candidates, [session(1)]))).toEqual([1, 2])
  })

  test('a spawn waits for its dependencies', () => {
    const child = queued({ id: 1, step: { type: 'workflow', parentExecutionId: 9 }, waitingOn: [3] })
    expect(plan([child], []).decisions).toEqual([])
  })
})

describe('routing (§20.3)', () => {
  const one = (live: QueuedExecution, s: SessionView) => plan([live], [s])

  test('only a session of the same workspace', () => {
    const p = one(queued({ id: 1, workspaceId: 2 }), session(1))
    expect(p.decisions).toEqual([])
    expect(unroutedIds(p)).toEqual([1])
  })

  test('only a session that declared the target with its type', () => {
    const taskOnly = session(1, { targets: new Set([targetKey('task', 'app', 'main')]) })
    expect(unroutedIds(one(queued({ id: 1, step: { type: 'workflow' } }), taskOnly))).toEqual([1])
    expect(unroutedIds(one(queued({ id: 1, step: { target: 'other' } }), session(1)))).toEqual([1])
    expect(unroutedIds(one(queued({ id: 1 }), session(1, { targets: null })))).toEqual([1])
    expect(assigned(one(queued({ id: 1 }), taskOnly))).toEqual([1])
  })

  test('requires met by provides or accepts', () => {
    const gpu = queued({ id: 1, requires: { gpu: ['A100', 'H100'] } })
    expect(assigned(one(gpu, session(1, { provides: { gpu: ['H100'] } })))).toEqual([1])
    expect(unroutedIds(one(gpu, session(1, { provides: { gpu: ['T4'] } })))).toEqual([1])
    expect(unroutedIds(one(gpu, session(1)))).toEqual([1])
    expect(assigned(one(gpu, session(1, { accepts: { gpu: ['A100'] } })))).toEqual([1])
  })

  test('a session that accepts a tag only takes work that asks for it', () => {
    const picky = session(1, { accepts: { tier: ['special'] } })
    expect(unroutedIds(one(queued({ id: 1 }), picky))).toEqual([1])
    expect(assigned(one(queued({ id: 1, requires: { tier: ['special'] } }), picky))).toEqual([1])
  })

  test('among sessions, only eligible ones are picked', () => {
    const sessions = [session(1, { workspaceId: 2 }), session(2, { provides: { gpu: ['A100'] } }), session(3, { targets: new Set() })]
    const p = plan([queued({ id: 1, requires: { gpu: ['A100'] } })], sessions, { random: () => 0 })
    expect(p.decisions).toEqual([{ kind: 'assign', executionId: 1, sessionId: 2 }])
  })
})

describe('capacity', () => {
  test('running counts what the plan has already assigned', () => {
    const p = plan([1, 2, 3].map((id) => queued({ id, createdAt: id })), [session(1, { running: 1, concurrency: 3 })])
    expect(assigned(p)).toEqual([1, 2])
    expect(unroutedIds(p)).toEqual([3])
  })

  test('a full session takes nothing', () => {
    const p = plan([queued({ id: 1 })], [session(1, { running: 2, concurrency: 2 })])
    expect(p.decisions).toEqual([])
    expect(unroutedIds(p)).toEqual([1])
  })

  test('work spreads over sessions as they fill; random picks among those with room', () => {
    const draws: number[] = []
    const sessions = [session(1, { concurrency: 1 }), session(2, { concurrency: 2 })]
    const p = plan([1, 2, 3, 4].map((id) => queued({ id, createdAt: id })), sessions, {
      random: () => {
        draws.push(0.99)
        return 0.99
      },
    })
    // 0.99 picks the last eligible: session 2 twice, then only session 1 has room
    expect(p.decisions).toEqual([
      { kind: 'assign', executionId: 1, sessionId: 2 },
      { kind: 'assign', executionId: 2, sessionId: 2 },
      { kind: 'assign', executionId: 3, sessionId: 1 },
    ])
    expect(unroutedIds(p)).toEqual([4])
    expect(draws).toHaveLength(3)
  })

  test('random() selects by index among the eligible sessions', () => {
    const sessions = [session(1), session(2), session(3)]
    const pick = (r: number) => plan([queued({ id: 1 })], sessions, { random: () => r }).decisions[0]
    expect(pick(0)).toMatchObject({ sessionId: 1 })
    expect(pick(0.4)).toMatchObject({ sessionId: 2 })
    expect(pick(0.999)).toMatchObject({ sessionId: 3 })
  })

  test('unavailable sessions (disconnected, draining, inactive pool worker) take nothing', () => {
    const p = plan([queued({ id: 1 })], [session(1, { isAvailable: false })])
    expect(p.decisions).toEqual([])
    expect(unroutedIds(p)).toEqual([1])
  })

  test('no room anywhere: every due, dependency-free execution is unrouted, in plan order', () => {
    const candidates = [
      queued({ id: 1, createdAt: 2 }),
      queued({ id: 2, createdAt: 1 }),
      queued({ id: 3, waitingOn: [1] }),
      queued({ id: 4, executeAfter: NOW + 1 }),
      queued({ id: 5, step: { type: 'workflow', parentExecutionId: 9 } }),
    ]
    const p = plan(candidates, [session(1, { running: 10 })])
    expect(unroutedIds(p)).toEqual([2, 1])
    expect(p.decisions).toEqual([{ kind: 'spawn', executionId: 5 }])
  })
})

describe('waiting executions (durable waiting)', () => {
  const suspensions = (p: ReturnType<typeof plan>) => p.decisions.filter((d) => d.kind === 'suspend')

  test('they hold no slot: a session running nothing takes work while some wait', () => {
    const p = plan([queued({ id: 1 })], [session(1, { concurrency: 1, waiting: 3, maxWaiting: 4, suspendable: [7, 8, 9] })])
    expect(assigned(p)).toEqual([1])
    expect(suspensions(p)).toEqual([])
  })

  test('at its waiting bound a session takes nothing, and suspends its longest-waiting to take due work', () => {
    const s = session(1, { concurrency: 2, waiting: 2, maxWaiting: 2, suspendable: [7, 8] })
    const p = plan([queued({ id: 1, createdAt: 1 }), queued({ id: 2, createdAt: 2 })], [s])
    expect(unroutedIds(p)).toEqual([1, 2])
    // one suspension brings it below the bound; it takes work again on the next pass
    expect(suspensions(p)).toEqual([{ kind: 'suspend', executionId: 7, sessionId: 1 }])
  })

  test('over its bound it suspends the excess even without work', () => {
    const p = plan([], [session(1, { waiting: 5, maxWaiting: 2, suspendable: [7, 8, 9, 10, 11] })])
    expect(suspensions(p).map((d) => d.executionId)).toEqual([7, 8, 9])
  })

  test('only what may be suspended is (a poll with a deadline is not listed)', () => {
    const p = plan([queued({ id: 1 })], [session(1, { waiting: 4, maxWaiting: 2, suspendable: [8] })])
    expect(suspensions(p).map((d) => d.executionId)).toEqual([8])
  })

  test('no suspension for work it could not run anyway', () => {
    const full = session(1, { running: 10, waiting: 2, maxWaiting: 2, suspendable: [7] })
    const elsewhere = session(2, { workspaceId: 2, waiting: 2, maxWaiting: 2, suspendable: [8] })
    const gone = session(3, { waiting: 2, maxWaiting: 2, suspendable: [9], isAvailable: false })
    const p = plan([queued({ id: 1 }), queued({ id: 2, executeAfter: NOW + 1 }), queued({ id: 3, waitingOn: [5] })], [full, elsewhere, gone])
    expect(suspensions(p)).toEqual([])
  })

  test('work another session can take suspends nothing', () => {
    const atBound = session(1, { waiting: 2, maxWaiting: 2, suspendable: [7] })
    const p = plan([queued({ id: 1 })], [atBound, session(2)])
    expect(p.decisions).toEqual([{ kind: 'assign', executionId: 1, sessionId: 2 }])
  })
})

