/**
 * The run as a graph (pure layout, drawn by views/run-graph.tsx): a column per call depth, a
 * row per branch, so a chain of calls reads left to right. Edges: a call (parent → child), a
 * dependency (the execution whose result a step waited for → the step), a cache hit (the
 * step whose result was reused → the step that reused it).
 */
import { buildRunTree, type ExecutionStatus, type RunTreeNode, type RunTreeStep } from '../client/browser.ts'
import type { RunSnapshot, Step } from '../protocol/api.ts'
import { splitExecutionId } from '../protocol/ids.ts'

export const NODE_WIDTH = 200
export const NODE_HEIGHT = 46
const COLUMN = 250
const ROW = 62
const MARGIN = 12

export interface GraphNode {
  stepId: string
  step: Step
  status: ExecutionStatus
  /** attempts so far (retries and reruns make more than one) */
  attempts: number
  isCached: boolean
  isInitial: boolean
  x: number
  y: number
}

export type EdgeKind = 'call' | 'dependency' | 'cache'

export interface GraphEdge {
  from: string
  to: string
  kind: EdgeKind
}

export interface RunGraph {
  nodes: GraphNode[]
  edges: GraphEdge[]
  width: number
  height: number
}

export function layoutRunGraph(run: RunSnapshot): RunGraph {
  const root = buildRunTree(run, { members: 'all' })
  const nodes = new Map<string, GraphNode>()
  const edges: GraphEdge[] = []
  let rows = 0
  let depthMax = 0

  /** Places a step and its subtree; returns the step's row (its first child's, else a new one). */
  const place = (node: RunTreeStep, depth: number): number => {
    depthMax = Math.max(depthMax, depth)
    const children = node.children.flatMap((c: RunTreeNode) => (c.kind === 'group' ? c.children : [c]))
    let row = -1
    for (const child of children) {
      edges.push({ from: node.stepId, to: child.stepId, kind: 'call' })
      const r = place(child, depth + 1)
      if (row < 0) row = r
    }
    if (row < 0) row = rows++
    const result = node.execution?.result
    nodes.set(node.stepId, {
      stepId: node.stepId,
      step: node.step,
      status: node.status,
      attempts: Object.keys(node.step.executions).length,
      isCached: result?.type === 'cached',
      isInitial: node.isInitial,
      x: MARGIN + depth * COLUMN,
      y: MARGIN + row * ROW,
    })
    return row
  }
  if (root) place(root, 0)

  const stepOf = (executionId: string | undefined) => (executionId ? splitExecutionId(executionId)?.stepId : undefined)
  const linked = new Set(edges.map((e) => `${e.from}>${e.to}`))
  const link = (from: string | undefined, to: string, kind: EdgeKind) => {
    if (!from || from === to || !nodes.has(from) || linked.has(`${from}>${to}`) || linked.has(`${to}>${from}`)) return
    linked.add(`${from}>${to}`)
    edges.push({ from, to, kind })
  }
  for (const node of nodes.values()) {
    const latest = Object.entries(node.step.executions).sort((a, b) => Number(a[0]) - Number(b[0])).pop()?.[1]
    if (!latest) continue
    for (const dep of Object.values(latest.dependencies)) if (dep.type === 'result') link(stepOf(dep.execution.executionId), node.stepId, 'dependency')
    if (latest.result?.type === 'cached') link(stepOf(latest.result.execution?.executionId), node.stepId, 'cache')
  }
  return {
    nodes: [...nodes.values()],
    edges,
    width: MARGIN * 2 + depthMax * COLUMN + NODE_WIDTH,
    height: MARGIN * 2 + Math.max(0, rows - 1) * ROW + NODE_HEIGHT,
  }
}
