/**
 * Line charts as inline SVG, for the ops report. The report is written by the
 * gateway's CLI, which runs from a production install (no dev dependencies,
 * so no Chart.js), and must open offline as a single file: a time-series line
 * chart is a few paths and labels, drawn here without a library or a line of
 * script, so the report renders even with JavaScript off.
 */

export interface ChartSeries {
  readonly name: string;
  readonly color: string;
  /** [t ms, value]; a point without a value (no events in its step) is skipped, the line joins its neighbours. */
  readonly points: readonly (readonly [number, number | undefined])[];
}

export interface LineChart {
  readonly id: string;
  readonly title: string;
  readonly unit: string;
  readonly series: readonly ChartSeries[];
  /** Dashed horizontal lines (SLO thresholds, limits). */
  readonly marks?: readonly { readonly value: number; readonly label: string }[];
  /** Fixed y range (hit rates: 0..1); default from the data, starting at 0. */
  readonly yMax?: number;
  readonly format?: (v: number) => string;
}

const W = 560;
const H = 250;
const PAD = { left: 56, right: 12, top: 28, bottom: 46 };
/** About the width of one 11 px legend character. */
const LEGEND_CHAR_PX = 6.2;

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
const clock = (t: number, spanMs: number): string => {
  const d = new Date(t);
  const hm = `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
  return spanMs < 10 * 60_000 ? `${hm}:${String(d.getUTCSeconds()).padStart(2, '0')}` : hm;
};
const defaultFormat = (v: number): string => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : +v.toFixed(2) + '');

/** A "nice" step (1, 2 or 5 × 10^k) giving about `ticks` intervals up to `max`. */
function niceStep(max: number, ticks: number): number {
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
}

export function renderLineChart(c: LineChart): string {
  const fmt = c.format ?? defaultFormat;
  const all = c.series.flatMap((s) => s.points.filter((p): p is readonly [number, number] => p[1] !== undefined && Number.isFinite(p[1])));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const head = `<svg class="chart" id="${esc(c.id)}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(c.title)}" xmlns="http://www.w3.org/2000/svg">
<text x="${PAD.left}" y="16" class="title">${esc(c.title)}${c.unit ? ` (${esc(c.unit)})` : ''}</text>`;
  if (all.length === 0) {
    return `${head}<text x="${W / 2}" y="${H / 2}" text-anchor="middle" class="empty">no data in this window yet</text></svg>`;
  }
  const t0 = Math.min(...all.map((p) => p[0]));
  const t1 = Math.max(t0 + 1000, ...all.map((p) => p[0]));
  const top = Math.max(c.yMax ?? 0, ...all.map((p) => p[1]), ...(c.marks ?? []).map((m) => m.value), Number.EPSILON);
  const step = niceStep(top, 4);
  const yMax = c.yMax ?? Math.ceil(top / step) * step;
  const x = (t: number) => PAD.left + ((t - t0) / (t1 - t0)) * plotW;
  const y = (v: number) => PAD.top + plotH - (Math.min(v, yMax) / yMax) * plotH;

  const parts: string[] = [head];
  for (let v = 0; v <= yMax + step / 1e6; v += step) {
    parts.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" class="grid"/>`);
    parts.push(`<text x="${PAD.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" class="tick">${esc(fmt(v))}</text>`);
  }
  for (let i = 0; i <= 4; i++) {
    const t = t0 + ((t1 - t0) * i) / 4;
    parts.push(`<text x="${x(t).toFixed(1)}" y="${H - PAD.bottom + 16}" text-anchor="middle" class="tick">${clock(t, t1 - t0)}</text>`);
  }
  parts.push(`<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${PAD.top + plotH}" class="axis"/>`);
  parts.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH}" class="axis"/>`);
  for (const m of c.marks ?? []) {
    parts.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(m.value).toFixed(1)}" y2="${y(m.value).toFixed(1)}" class="mark"/>`);
    parts.push(`<text x="${W - PAD.right - 2}" y="${(y(m.value) - 4).toFixed(1)}" text-anchor="end" class="mark-label">${esc(m.label)}</text>`);
  }
  let legendX = PAD.left;
  c.series.forEach((s) => {
    const known = s.points.filter((p): p is readonly [number, number] => p[1] !== undefined && Number.isFinite(p[1]));
    const d = known.map(([t, v], i) => `${i === 0 ? 'M' : 'L'}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join('');
    if (known.length > 1) parts.push(`<path class="series" d="${d}" stroke="${s.color}" fill="none" stroke-width="2"/>`);
    // A lone point still shows: a dot.
    else if (known.length === 1) parts.push(`<circle class="series-point" cx="${x(known[0]![0]).toFixed(1)}" cy="${y(known[0]![1]).toFixed(1)}" r="3" fill="${s.color}"/>`);
    parts.push(`<rect x="${legendX}" y="${H - 16}" width="10" height="10" fill="${s.color}"/><text x="${legendX + 14}" y="${H - 7}" class="legend">${esc(s.name)}</text>`);
    legendX += 30 + s.name.length * LEGEND_CHAR_PX;
  });
  parts.push('</svg>');
  return parts.join('\n');
}
