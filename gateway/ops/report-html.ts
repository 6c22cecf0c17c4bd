/**
 * The ops report as one self-contained HTML file: the data as tables, the
 * charts as inline SVG (./svg-chart.ts), the report itself embedded as JSON
 * for anyone who wants to re-plot it; nothing is fetched, nothing runs, so it
 * opens offline and can be attached to an incident as is.
 */
import type { TimelinePoint } from './fleet-view.js';
import { runbookFor } from './health-monitor.js';
import type { OpsReport } from './ops-report.js';
import { renderLineChart, type LineChart } from './svg-chart.js';

/** Ids of the chart SVGs, in page order (the render test checks each one drew). */
export const CHART_IDS = [
  'requests', 'hit-rate', 'latency', 'bears', 'memory', 'provider', 'event-loop',
  'day-requests', 'day-hit-rate', 'day-latency', 'day-memory',
] as const;

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
const pct = (x: number | undefined, digits = 2): string => (x === undefined ? '–' : `${(x * 100).toFixed(digits)} %`);
const num = (x: number | undefined, digits = 1): string => (x === undefined ? '–' : x.toFixed(digits));
const when = (iso: string): string => iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd'];

type Pick = (p: TimelinePoint) => number | undefined;
const line = (name: string, i: number, points: readonly TimelinePoint[], pick: Pick) => ({ name, color: COLORS[i % COLORS.length]!, points: points.map((p) => [p.t, pick(p)] as const) });

function charts(r: OpsReport): LineChart[] {
  const h = r.charts.lastHour.points;
  const d = r.charts.lastDay.points;
  const s = r.config.slos;
  const ratio = (v: number) => `${(v * 100).toFixed(0)} %`;
  const requests = (id: string, title: string, p: readonly TimelinePoint[]): LineChart => ({
    id, title, unit: 'per second',
    series: [line('bear messages', 0, p, (x) => x.requestsPerSecond), line('failed by the gateway', 1, p, (x) => x.serverErrorsPerSecond)],
  });
  const hitRate = (id: string, title: string, p: readonly TimelinePoint[]): LineChart => ({
    id, title, unit: '', yMax: 1, format: ratio,
    series: [line('L1', 0, p, (x) => x.hitRate.l1), line('L2', 1, p, (x) => x.hitRate.l2), line('L3', 2, p, (x) => x.hitRate.l3)],
    marks: [{ value: s.l1HitRate.objective, label: `L1 SLO ${ratio(s.l1HitRate.objective)}` }],
  });
  const latency = (id: string, title: string, p: readonly TimelinePoint[]): LineChart => ({
    id, title, unit: 'ms, p99',
    series: [line('answer', 0, p, (x) => x.answerP99Ms), line('miss answered', 1, p, (x) => x.missAnswerP99Ms), line('L2 read', 2, p, (x) => x.l2P99Ms)],
    marks: [{ value: s.missRecovery.thresholdMs, label: `miss SLO ${s.missRecovery.thresholdMs} ms` }, { value: s.l2Latency.thresholdMs, label: `L2 SLO ${s.l2Latency.thresholdMs} ms` }],
  });
  const memory = (id: string, title: string, p: readonly TimelinePoint[]): LineChart => ({
    id, title, unit: 'MB',
    series: [line('RSS, largest process', 0, p, (x) => x.rssMaxMb), line('L1 per process', 1, p, (x) => (x.processes > 0 ? x.l1Mb / x.processes : undefined))],
    marks: [{ value: s.memory.maxMb, label: `limit ${s.memory.maxMb} MB` }],
  });
  return [
    requests('requests', 'Messages, last hour', h),
    hitRate('hit-rate', 'Hit rate per layer, last hour', h),
    latency('latency', 'Latency, last hour', h),
    { id: 'bears', title: 'Connected bears, last hour', unit: 'bears', series: [line('bears', 0, h, (x) => x.bears), line('processes', 1, h, (x) => x.processes)] },
    memory('memory', 'Memory, last hour', h),
    { id: 'provider', title: 'Provider calls, last hour', unit: 'per second', series: [line('calls', 0, h, (x) => x.providerCallsPerSecond)] },
    { id: 'event-loop', title: 'Event-loop delay, last hour', unit: 'ms, p99', series: [line('worst process', 0, h, (x) => x.eventLoopP99Ms)] },
    requests('day-requests', 'Messages, last 24 h', d),
    hitRate('day-hit-rate', 'Hit rate per layer, last 24 h', d),
    latency('day-latency', 'Latency, last 24 h', d),
    memory('day-memory', 'Memory, last 24 h', d),
  ];
}

const table = (head: readonly string[], rows: readonly (readonly string[])[]): string =>
  `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</table>`;
const facts = (rows: readonly (readonly [string, string])[]): string =>
  `<table>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`).join('')}</table>`;
const evidence = (e: Readonly<Record<string, number | string>>): string =>
  Object.entries(e).map(([k, v]) => `<code>${esc(k)}=${esc(String(v))}</code>`).join(' ');

export function renderReportHtml(r: OpsReport): string {
  const firing = r.alerts.firing;
  const critical = firing.filter((a) => a.severity === 'critical').length;
  const status = critical > 0 ? ['bad', `${critical} critical alert${critical === 1 ? '' : 's'} firing`] : firing.length > 0 ? ['warn', `${firing.length} warning${firing.length === 1 ? '' : 's'} firing`] : ['ok', 'no alerts firing'];
  const sloRows = r.slos.map((slo) => [
    esc(slo.target),
    ...slo.windows.map((w) => (w.sli === undefined ? '–' : `<span class="${w.compliant ? 'ok' : 'bad'}">${pct(w.sli, 3)}</span> <small>burn ${num(w.burnRate, 2)}×${w.measured === undefined ? '' : `, ${slo.unit === 'ratio' ? pct(w.measured) : `${num(w.measured)} ${slo.unit}`}`}</small>`)),
    slo.budgetRemaining === undefined ? '–' : `<span class="${slo.budgetRemaining >= 0 ? 'ok' : 'bad'}">${pct(slo.budgetRemaining, 1)}</span>`,
  ]);
  const c = r.capacity;
  const cost = r.cost;
  const data = JSON.stringify(r).replace(/<\//g, '<\\/');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>teddycache operations report ${esc(r.generatedAt)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f6f6f6}
.ok{color:#186a1b}.warn{color:#a45b00}.bad{color:#b00020;font-weight:600}.banner{font-size:16px;padding:8px 12px;border:1px solid #ddd;display:inline-block}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(570px,1fr));gap:16px}
svg.chart{background:#fff;border:1px solid #eee}svg .title{font-size:13px;font-weight:600}svg .tick,svg .legend,svg .mark-label{font-size:11px;fill:#555}
svg .grid{stroke:#eee}svg .axis{stroke:#999}svg .mark{stroke:#b00020;stroke-dasharray:4 3}svg .empty{fill:#999}
code{background:#f4f4f4;padding:0 3px;margin-right:2px}
</style></head><body>
<h1>teddycache operations report</h1>
<p>Generated ${esc(when(r.generatedAt))} by ${esc(r.source.instance)} (${esc(r.source.httpUrl)}). Fleet: ${r.fleet.live} live process${r.fleet.live === 1 ? '' : 'es'} of ${r.fleet.processes.length} seen in the last 25 h.</p>
${r.fleet.notice ? `<p class="warn">${esc(r.fleet.notice)}</p>` : ''}
<p class="banner ${status[0]}">${esc(status[1]!)}</p>

<h2>SLO compliance</h2>
${table(['SLO', 'last 5 min', 'last hour', 'last 24 h', '24 h error budget left'], sloRows)}

<h2>Alerts firing</h2>
${firing.length === 0 ? '<p class="ok">none</p>' : table(['alert', 'severity', 'since', 'value / threshold', 'summary', 'instance', 'what to do'], firing.map((a) => [
    esc(a.alert), `<span class="${a.severity === 'critical' ? 'bad' : 'warn'}">${a.severity}</span>`,
    esc(when(new Date(a.since).toISOString())), `${num(a.value, 3)} / ${num(a.threshold, 3)}`, esc(a.summary), esc(a.instance), `<code>${esc(runbookFor(a.alert))}</code>`,
  ]))}
<h2>Recent alert changes</h2>
${r.alerts.recent.length === 0 ? '<p>none</p>' : table(['when', 'alert', 'state', 'summary', 'instance'], r.alerts.recent.map((n) => [
    esc(when(n.endsAt ?? n.startsAt)), esc(n.alert), `<span class="${n.state === 'resolved' ? 'ok' : n.severity === 'critical' ? 'bad' : 'warn'}">${n.state}</span>`, esc(n.summary), esc(n.instance),
  ]))}

<h2>Recommendations</h2>
${r.recommendations.length === 0 ? '<p class="ok">nothing to change</p>' : `<ul>${r.recommendations.map((x) => `<li><b>${esc(x.code)}</b> (${x.source}${x.instances ? `: ${x.instances.map(esc).join(', ')}` : ''}): ${esc(x.message)}<br><small>evidence: ${evidence(x.evidence)}</small></li>`).join('')}</ul>`}

<h2>Trends and forecasts</h2>
${r.trends.length === 0 ? '<p>not enough history yet (a trend needs 15 minutes of it)</p>' : table(['metric', 'now', 'slope', 'forecast'], r.trends.map((t) => [
    esc(t.metric), `${num(t.current, 2)} ${esc(t.unit)}`, `${num(t.slopePerHour, 3)} ${esc(t.unit)}/h over ${num(t.windowHours, 1)} h`, esc(t.message),
  ]))}

<h2>Capacity</h2>
${facts([
    ['processes live / needed', `${c.processes} / ${c.processesNeeded ?? '–'}`],
    ['bears / requests per second (fleet, last hour)', `${c.bears} / ${num(c.requestsPerSecond, 1)}`],
    ['CPU per message', `${num(c.cpuMsPerRequest, 2)} ms`],
    ['memory per bear', c.memoryPerBearMb === undefined ? '–' : `${num(c.memoryPerBearMb * 1024, 1)} KB`],
    ['per process: requests per second / bears', `${num(c.perProcess.maxRequestsPerSecond, 0)} / ${c.perProcess.maxBears ?? '–'}${c.perProcess.limitedBy ? ` (limited by ${c.perProcess.limitedBy})` : ''}`],
    ['basis', c.basis.map(esc).join('<br>')],
  ])}

<h2>Provider cost (last 24 h)</h2>
${facts([
    ['provider calls', `${cost.callsTotal} (${Object.entries(cost.calls).map(([op, n]) => `${esc(op)} ${n}`).join(', ') || 'none'})`],
    ['calls the cache avoided', String(cost.callsAvoided)],
    ['spent / saved', `${cost.spent.toFixed(2)} / ${cost.saved.toFixed(2)} ${esc(cost.currency)} at ${cost.pricePerCall} per call`],
    ['share of the no-cache bill saved', pct(cost.savedShare, 1)],
  ])}

<h2>Charts</h2>
<div class="grid">
${charts(r).map(renderLineChart).join('\n')}
</div>

<h2>Processes</h2>
${table(['instance', 'HTTP', 'started', 'last seen', 'state'], r.fleet.processes.map((p) => [
    esc(p.id), esc(p.httpUrl), esc(when(p.startedAt)), esc(when(p.lastSeenAt)), p.live ? '<span class="ok">live</span>' : p.stoppedAt ? `stopped ${esc(when(p.stoppedAt))}` : '<span class="warn">silent</span>',
  ]))}
<script type="application/json" id="report-data">${data}</script>
</body></html>
`;
}
