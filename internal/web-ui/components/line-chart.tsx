/**
 * A line chart in SVG, drawn by hand: one metric key, one line per series (execution), x = the
 * point's `at`, y = its value. A chart library would be the largest part of the bundle for what
 * is a polyline, two axes and a legend.
 */
import { formatNumber } from '../format.ts'

export interface Series {
  name: string
  points: { at: number; value: number }[]
}

const WIDTH = 560
const HEIGHT = 200
const PAD = { left: 52, right: 12, top: 10, bottom: 28 }
const COLOURS = ['#4f6df5', '#16a34a', '#ea7a10', '#dc2626', '#8b5cf6', '#0891b2', '#d49b06']

/** Three to six round tick values covering [min, max]. */
export function ticks(min: number, max: number): number[] {
  if (min === max) return [min]
  const span = max - min
  const step = 10 ** Math.floor(Math.log10(span / 4))
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => span / s <= 6) ?? step * 10
  const out: number[] = []
  for (let v = Math.ceil(min / nice) * nice; v <= max + nice * 1e-9; v += nice) out.push(Number(v.toPrecision(12)))
  return out
}

export function LineChart({ title, series }: { title: string; series: Series[] }) {
  const all = series.flatMap((s) => s.points)
  if (all.length === 0) return null
  let [x0, x1] = [Math.min(...all.map((p) => p.at)), Math.max(...all.map((p) => p.at))]
  let [y0, y1] = [Math.min(0, ...all.map((p) => p.value)), Math.max(...all.map((p) => p.value))]
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1]
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1]
  const x = (v: number) => PAD.left + ((v - x0) / (x1 - x0)) * (WIDTH - PAD.left - PAD.right)
  const y = (v: number) => HEIGHT - PAD.bottom - ((v - y0) / (y1 - y0)) * (HEIGHT - PAD.top - PAD.bottom)
  return (
    <figure class="chart">
      <figcaption>
        <b>{title}</b>
        {series.map((s, i) => (
          <span class="legend">
            <span class="swatch" style={`background:${COLOURS[i % COLOURS.length]}`} />
            {s.name} <span class="faint">({formatNumber(s.points[s.points.length - 1]?.value ?? NaN)})</span>
          </span>
        ))}
      </figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`${title} chart`}>
        {ticks(y0, y1).map((v) => (
          <g class="tick">
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(v)} y2={y(v)} />
            <text x={PAD.left - 6} y={y(v) + 4} text-anchor="end">
              {formatNumber(v)}
            </text>
          </g>
        ))}
        {ticks(x0, x1).map((v) => (
          <text class="tick" x={x(v)} y={HEIGHT - 8} text-anchor="middle">
            {formatNumber(v)}
          </text>
        ))}
        {series.map((s, i) => {
          const sorted = [...s.points].sort((a, b) => a.at - b.at)
          const colour = COLOURS[i % COLOURS.length]
          return (
            <g>
              <polyline fill="none" stroke={colour} stroke-width="2" points={sorted.map((p) => `${x(p.at)},${y(p.value)}`).join(' ')} />
              {sorted.length <= 60 && sorted.map((p) => <circle cx={x(p.at)} cy={y(p.value)} r="2.5" fill={colour}><title>{`${s.name}: ${formatNumber(p.value)} at ${formatNumber(p.at)}`}</title></circle>)}
            </g>
          )
        })}
      </svg>
    </figure>
  )
}
