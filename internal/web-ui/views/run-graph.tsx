/** The run's steps as a graph (layout in run-graph.ts); clicking a step selects it. */
import { layoutRunGraph, NODE_HEIGHT, NODE_WIDTH, type EdgeKind, type GraphNode } from '../run-graph.ts'
import type { RunSnapshot } from '../../protocol/api.ts'
import { Empty } from '../components/ui.tsx'

const EDGE_LABEL: Record<EdgeKind, string> = { call: 'called', dependency: 'waited for', cache: 'cache hit from' }

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

export function RunGraph({ run, runId, selected, onSelect }: { run: RunSnapshot; runId: string; selected: string | null; onSelect: (stepId: string) => void }) {
  const graph = layoutRunGraph(run)
  if (graph.nodes.length === 0) return <Empty>No steps yet.</Empty>
  const at = new Map(graph.nodes.map((n) => [n.stepId, n]))
  const path = (a: GraphNode, b: GraphNode) => {
    const [x1, y1] = [a.x + NODE_WIDTH, a.y + NODE_HEIGHT / 2]
    const [x2, y2] = b.x > a.x ? [b.x, b.y + NODE_HEIGHT / 2] : [b.x + NODE_WIDTH / 2, b.y]
    const bend = Math.max(30, Math.abs(x2 - x1) / 2)
    return `M${x1},${y1} C${x1 + bend},${y1} ${x2 - (b.x > a.x ? bend : 0)},${y2 - (b.x > a.x ? 0 : 30)} ${x2},${y2}`
  }
  return (
    <div class="graph-wrap">
      <svg class="run-graph" width={graph.width} height={graph.height} viewBox={`0 0 ${graph.width} ${graph.height}`} role="img" aria-label={`Steps of run ${runId}`}>
        <defs>
          <marker id="arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0,0 L8,4 L0,8 z" class="arrow" />
          </marker>
        </defs>
        {graph.edges.map((e) => {
          const [a, b] = [at.get(e.from)!, at.get(e.to)!]
          return (
            <path class={`edge edge-${e.kind}`} d={path(a, b)} marker-end="url(#arrow)">
              <title>{`${b.step.target} ${EDGE_LABEL[e.kind]} ${a.step.target}`}</title>
            </path>
          )
        })}
        {graph.nodes.map((n) => (
          <g class={`node s-${n.status}${n.stepId === selected ? ' selected' : ''}`} data-step={n.stepId} transform={`translate(${n.x},${n.y})`} onClick={() => onSelect(n.stepId)}>
            <title>{`${n.step.module}/${n.step.target} · ${n.stepId} · ${n.status}`}</title>
            <rect width={NODE_WIDTH} height={NODE_HEIGHT} rx="7" />
            <circle class="node-dot" cx="14" cy="16" r="5" />
            <text x="26" y="20" class="node-title">
              {truncate(n.step.target, 22)}
            </text>
            <text x="12" y="37" class="node-meta">
              {`${n.step.stepNumber} · ${n.status}${n.isInitial ? ` · ${runId}` : ''}`}
            </text>
            {n.attempts > 1 && (
              <text x={NODE_WIDTH - 8} y="20" text-anchor="end" class="node-badge">
                {`×${n.attempts}`}
              </text>
            )}
            {n.isCached && (
              <text x={NODE_WIDTH - 8} y="37" text-anchor="end" class="node-badge">
                cached
              </text>
            )}
          </g>
        ))}
      </svg>
      <div class="legend-row subtle">
        <span><span class="edge-key call" /> call</span>
        <span><span class="edge-key dependency" /> waited for a result</span>
        <span><span class="edge-key cache" /> cache hit</span>
        <span>×N attempts (retries, reruns)</span>
      </div>
    </div>
  )
}
